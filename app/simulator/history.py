"""The watch history: the last committed changes of each kind, for watches that resume.

Like the API server's watch cache, the history keeps a bounded window of events per resource type
(`capacity`, default 1000). A watch from `resourceVersion` R gets the events after R; when R is
older than the window (events after R were dropped, or forgotten), it is *expired*: the API
answers an `ERROR` event carrying a 410 `Status` with reason `Expired`, and the client relists.
`forget()` drops the whole window, as a compaction of etcd does, so that any watch from an
earlier `resourceVersion` is expired.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.simulator.resources import RESOURCE_TYPES, ResourceType
from app.simulator.store import ChangeEvent, ObjectStore

DEFAULT_CAPACITY = 1000


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One change as watches see it: `type` ADDED, MODIFIED or DELETED; `obj` the object after the
    change (for DELETED its last state, at the revision of the deletion); `old` before it."""

    type: str
    resource: ResourceType
    namespace: str
    revision: int
    obj: dict[str, Any]
    old: dict[str, Any] | None


class ExpiredError(Exception):
    """The requested resourceVersion is older than the history window."""

    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {requested} ({oldest})")
        self.requested = requested
        self.oldest = oldest


class WatchHistory:
    """The bounded event window per resource type of one store; tells listeners of every event."""

    def __init__(self, store: ObjectStore, capacity: int = DEFAULT_CAPACITY) -> None:
        self._store = store
        self._events: dict[ResourceType, deque[StoredEvent]] = {rt: deque() for rt in RESOURCE_TYPES}
        # Every event of a type with a revision above its horizon is in the window.
        self._horizon: dict[ResourceType, int] = dict.fromkeys(RESOURCE_TYPES, store.revision)
        self._capacity = DEFAULT_CAPACITY
        self.capacity = capacity
        self._listeners: list[Callable[[StoredEvent], None]] = []
        store.subscribe(self._on_change)

    @property
    def capacity(self) -> int:
        return self._capacity

    @capacity.setter
    def capacity(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"the history capacity must be a whole number >= 1, got {value!r}")
        self._capacity = value
        for rt in self._events:
            self._trim(rt)

    def subscribe(self, listener: Callable[[StoredEvent], None]) -> None:
        self._listeners.append(listener)

    def oldest(self, rt: ResourceType) -> int:
        """The oldest resourceVersion a watch of this type may start from."""
        return self._horizon[rt]

    def _on_change(self, change: ChangeEvent) -> None:
        if change.obj is None:
            assert change.old is not None
            kind, obj = "DELETED", change.old
        else:
            kind, obj = ("ADDED" if change.old is None else "MODIFIED"), change.obj
        event = StoredEvent(kind, change.resource, change.namespace, change.resource_version, obj, change.old)
        self._events[change.resource].append(event)
        self._trim(change.resource)
        for listener in list(self._listeners):
            listener(event)

    def _trim(self, rt: ResourceType) -> None:
        events = self._events[rt]
        while len(events) > self._capacity:
            self._horizon[rt] = events.popleft().revision

    def since(self, rt: ResourceType, revision: int) -> list[StoredEvent]:
        """The events of this type after `revision`, oldest first; `ExpiredError` when some of
        them are no longer in the window."""
        if revision < self._horizon[rt]:
            raise ExpiredError(revision, self._horizon[rt])
        return [event for event in self._events[rt] if event.revision > revision]

    def forget(self) -> None:
        """Drop every event: watches from any earlier resourceVersion are expired."""
        for rt, events in self._events.items():
            events.clear()
            self._horizon[rt] = self._store.revision
