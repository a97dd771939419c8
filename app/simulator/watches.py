"""Watches: `GET ...?watch=1` streams newline-delimited JSON `WatchEvent`s, as the API server does.

Parameters: `resourceVersion` (unset or "0": the current objects first, as ADDED; else the changes
after it, from the history window, or an `ERROR` event with a 410 `Expired` Status when it is
older than the window), `timeoutSeconds` (the stream ends after it; default 1800),
`allowWatchBookmarks` (a BOOKMARK event with the current resourceVersion every
`bookmark_seconds` when nothing else was sent), `sendInitialEvents` (with resourceVersion unset or
"0": the initial ADDED events end with a BOOKMARK annotated `k8s.io/initial-events-end`), label
and field selectors. With a selector, an object that stops matching is seen as DELETED and one
that starts matching as ADDED, as from the API server's watch cache.

Each watcher buffers at most `max_pending` events. A watcher that falls further behind (its client
reads too slowly) is ended and its connection closed, as the API server ends unresponsive
watchers, so memory stays bounded; the client re-watches from the last resourceVersion it saw.
Open watches also end when the simulator goes offline (the connections close), when an outage
is set (checked every `_POLL_SECONDS`), and on `WatchHub.drop_all()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from app.simulator import errors
from app.simulator.errors import ApiError
from app.simulator.history import DEFAULT_CAPACITY, ExpiredError, StoredEvent, WatchHistory
from app.simulator.resources import ResourceType
from app.simulator.selectors import FieldSelector, LabelSelector, selectable_fields
from app.simulator.store import ObjectStore

DEFAULT_TIMEOUT_SECONDS = 1800.0
DEFAULT_BOOKMARK_SECONDS = 60.0
DEFAULT_MAX_PENDING = 1000
_POLL_SECONDS = 0.25
INITIAL_EVENTS_END = "k8s.io/initial-events-end"


@dataclass(frozen=True, slots=True)
class WatchRequest:
    """What one watch asks for."""

    resource: ResourceType
    namespace: str | None
    labels: LabelSelector | None
    fields: FieldSelector | None
    resource_version: int | None  # None: unset or "0" (the current objects first)
    timeout_seconds: float
    bookmarks: bool
    initial_events_end: bool


def _flag(value: str | None) -> bool:
    return value in ("1", "true", "True")


def parse_watch_request(
    resource: ResourceType,
    namespace: str | None,
    params: dict[str, str],
    labels: LabelSelector | None,
    fields: FieldSelector | None,
) -> WatchRequest:
    """The watch parameters of a request; 400 BadRequest for malformed ones."""
    raw_version = params.get("resourceVersion") or "0"
    try:
        version = int(raw_version)
        if version < 0:
            raise ValueError
    except ValueError as exc:
        raise errors.bad_request(f'resourceVersion: Invalid value: "{raw_version}": must be a decimal integer') from exc
    raw_timeout = params.get("timeoutSeconds")
    try:
        timeout = float(raw_timeout) if raw_timeout else DEFAULT_TIMEOUT_SECONDS
        if timeout <= 0:
            timeout = DEFAULT_TIMEOUT_SECONDS
    except ValueError as exc:
        raise errors.bad_request(f'timeoutSeconds: Invalid value: "{raw_timeout}": must be an integer') from exc
    return WatchRequest(
        resource,
        namespace,
        labels,
        fields,
        version or None,
        timeout,
        _flag(params.get("allowWatchBookmarks")),
        _flag(params.get("sendInitialEvents")),
    )


@dataclass(eq=False)
class Watcher:
    """One open watch: its filter and the events not yet sent."""

    request: WatchRequest
    on_overflow: Callable[[], None]
    max_pending: int
    pending: deque[tuple[str, dict[str, Any]]] = field(default_factory=deque)
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    ended: bool = False

    def matches(self, rt: ResourceType, obj: dict[str, Any] | None) -> bool:
        if obj is None:
            return False
        metadata = obj["metadata"]
        if self.request.namespace is not None and metadata.get("namespace") != self.request.namespace:
            return False
        if self.request.labels is not None and not self.request.labels.matches(metadata.get("labels") or {}):
            return False
        return self.request.fields is None or self.request.fields.matches(selectable_fields(rt, obj))

    def seen_as(self, event: StoredEvent) -> tuple[str, dict[str, Any]] | None:
        """The event this watcher sees for a change, if any (selectors turn changes into ADDED or
        DELETED when an object starts or stops matching)."""
        now = self.matches(event.resource, event.obj)
        if event.type == "DELETED":
            return ("DELETED", event.obj) if now else None
        before = self.matches(event.resource, event.old)
        if now:
            return ("MODIFIED" if before else "ADDED", event.obj)
        if before:
            # Gone from this watch: the object as it was, at the revision of the change.
            assert event.old is not None
            gone = {**event.old, "metadata": {**event.old["metadata"], "resourceVersion": str(event.revision)}}
            return "DELETED", gone
        return None

    def push(self, seen: tuple[str, dict[str, Any]]) -> None:
        if self.ended:
            return
        if len(self.pending) >= self.max_pending:
            self.pending.clear()
            self.end()
            self.on_overflow()
            return
        self.pending.append(seen)
        self.wakeup.set()

    def end(self) -> None:
        self.ended = True
        self.wakeup.set()


class WatchHub:
    """The open watches of one simulated cluster, fed by its history."""

    def __init__(self, store: ObjectStore, history: WatchHistory) -> None:
        self.store = store
        self.history = history
        self.bookmark_seconds = DEFAULT_BOOKMARK_SECONDS
        self.max_pending = DEFAULT_MAX_PENDING
        self._watchers: set[Watcher] = set()
        history.subscribe(self._on_event)

    @property
    def open(self) -> int:
        """Watches whose stream is still going."""
        return sum(1 for watcher in self._watchers if not watcher.ended)

    def reset_settings(self) -> None:
        """Back to the default bookmark interval, per-watcher buffer and history capacity."""
        self.bookmark_seconds = DEFAULT_BOOKMARK_SECONDS
        self.max_pending = DEFAULT_MAX_PENDING
        self.history.capacity = DEFAULT_CAPACITY

    def _on_event(self, event: StoredEvent) -> None:
        for watcher in list(self._watchers):
            if watcher.request.resource is event.resource and not watcher.ended:
                seen = watcher.seen_as(event)
                if seen is not None:
                    watcher.push(seen)
            if watcher.ended:
                self._watchers.discard(watcher)

    def drop_all(self) -> int:
        """End every open watch (its client sees the stream end); returns how many."""
        watchers = list(self._watchers)
        for watcher in watchers:
            watcher.end()
        return len(watchers)

    def open_watch(self, request: WatchRequest, on_overflow: Callable[[], None]) -> Watcher:
        """Register a watcher and queue its first events: the current objects, or the history
        after the requested resourceVersion. Raises `ApiError` (410 Expired, 504 too large) to be
        sent as an ERROR event."""
        watcher = Watcher(request, on_overflow, self.max_pending)
        rt = request.resource
        if request.resource_version is None:
            items, _, _ = self.store.list(rt, request.namespace, request.labels, request.fields, copies=False)
            initial = [("ADDED", item) for item in items]
            if request.initial_events_end:
                initial.append(("BOOKMARK", self._bookmark(rt, initial_events_end=True)))
        else:
            if request.resource_version > self.store.revision:
                raise ApiError(
                    504,
                    "Timeout",
                    f"Too large resource version: {request.resource_version}, current: {self.store.revision}",
                    {"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}]},
                )
            try:
                replay = self.history.since(rt, request.resource_version)
            except ExpiredError as exc:
                raise ApiError(410, "Expired", str(exc)) from exc
            initial = [seen for event in replay if (seen := watcher.seen_as(event)) is not None]
        # No await between reading the state and registering: no change can slip in between.
        watcher.pending.extend(initial)
        self._watchers.add(watcher)
        return watcher

    def close_watch(self, watcher: Watcher) -> None:
        watcher.end()
        self._watchers.discard(watcher)

    def _bookmark(self, rt: ResourceType, *, initial_events_end: bool = False) -> dict[str, Any]:
        metadata: dict[str, Any] = {"resourceVersion": self.store.resource_version}
        if initial_events_end:
            metadata["annotations"] = {INITIAL_EVENTS_END: "true"}
        return {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": metadata}

    async def stream(
        self,
        watcher: Watcher,
        render: Callable[[str, dict[str, Any]], dict[str, Any]],
        outage: Callable[[], bool],
    ) -> AsyncIterator[bytes]:
        """The event lines of one watch until its timeout, its end or its client's departure.
        `render` turns (type, object) into the event's object (the object itself, or a Table)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + watcher.request.timeout_seconds
        quiet_since = loop.time()
        try:
            while True:
                while watcher.pending:
                    kind, obj = watcher.pending.popleft()
                    yield _line(kind, obj if kind == "BOOKMARK" else render(kind, obj))
                    quiet_since = loop.time()
                if watcher.ended or outage():
                    return
                now = loop.time()
                if now >= deadline:
                    return
                if watcher.request.bookmarks and now - quiet_since >= self.bookmark_seconds:
                    yield _line("BOOKMARK", self._bookmark(watcher.request.resource))
                    quiet_since = now
                    continue
                wait = min(_POLL_SECONDS, deadline - now)
                if watcher.request.bookmarks:
                    wait = min(wait, max(0.0, quiet_since + self.bookmark_seconds - now))
                watcher.wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(watcher.wakeup.wait(), timeout=wait)
        finally:
            self.close_watch(watcher)


def _line(kind: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({"type": kind, "object": obj}, separators=(",", ":")).encode() + b"\n"


def error_line(error: ApiError) -> bytes:
    """The ERROR event a watch sends instead of its events (e.g. 410 Expired)."""
    return _line("ERROR", error.status_body())
