"""The WATCH half of an informer: a stream of workload events from the API server.

`GET .../deployments?watch=1&resourceVersion=R&allowWatchBookmarks=true&timeoutSeconds=T` answers
newline-delimited JSON `WatchEvent`s: ADDED, MODIFIED, DELETED, BOOKMARK (only a newer
resourceVersion), and ERROR, which carries a `Status`; a 410 there (or as the HTTP status) means the
resourceVersion is older than the server's history: the caller must LIST again.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.http_exceptions import HttpProcessingError

from app.cluster.gateway import ClusterError, ClusterUnavailable
from app.cluster.manifests import workload_from_manifest
from app.domain.workloads import Workload, WorkloadKind

ADDED, MODIFIED, DELETED, BOOKMARK = "ADDED", "MODIFIED", "DELETED", "BOOKMARK"
# Not from the API server: the first event of every stream, once it is open (a quiet kind may send
# nothing else for minutes, and the watcher must know it is watching).
OPENED = "OPENED"
MAX_EVENT_BYTES = 8 * 1024 * 1024


class WatchExpired(ClusterError):
    """410 Gone: the resourceVersion watched from is no longer in the server's history; LIST again."""


@dataclass(frozen=True, slots=True)
class WatchEvent:
    type: str  # OPENED, ADDED, MODIFIED, DELETED or BOOKMARK
    workload: Workload | None  # None for a bookmark
    resource_version: str


def event_of(kind: WorkloadKind, line: bytes) -> WatchEvent:
    """One line of a watch stream; raises WatchExpired or ClusterUnavailable for an ERROR event."""
    try:
        event = json.loads(line)
    except ValueError as error:
        raise ClusterUnavailable(f"the watch stream sent something other than JSON: {error}") from None
    if not isinstance(event, Mapping):
        raise ClusterUnavailable("the watch stream sent something other than an event")
    kind_of_event = str(event.get("type", ""))
    obj: Any = event.get("object")
    if not isinstance(obj, Mapping):
        raise ClusterUnavailable(f"a {kind_of_event or 'watch'} event without an object")
    if kind_of_event == "ERROR":
        code, message = obj.get("code"), str(obj.get("message") or obj.get("reason") or "watch error")
        if code == 410 or obj.get("reason") in ("Expired", "Gone"):
            raise WatchExpired(message)
        raise ClusterUnavailable(f"the watch ended with an error: HTTP {code} {message}")
    version = str((obj.get("metadata") or {}).get("resourceVersion") or "")
    if kind_of_event == BOOKMARK:
        return WatchEvent(BOOKMARK, None, version)
    if kind_of_event not in (ADDED, MODIFIED, DELETED):
        raise ClusterUnavailable(f"unknown watch event type {kind_of_event!r}")
    return WatchEvent(kind_of_event, workload_from_manifest(kind, obj), version)


async def events_of(
    kind: WorkloadKind, response: aiohttp.ClientResponse, resource_version: str
) -> AsyncIterator[WatchEvent]:
    """The events of an open watch response, OPENED first, until the server ends it (its timeoutSeconds)."""
    try:
        yield WatchEvent(OPENED, None, resource_version)
        while True:
            try:
                line = await response.content.readuntil(b"\n", max_size=MAX_EVENT_BYTES)
            except (aiohttp.ClientError, HttpProcessingError, TimeoutError) as error:
                raise ClusterUnavailable(f"the watch stream broke: {error or type(error).__name__}") from None
            if not line:
                return  # the server ended the watch
            if line.strip():
                yield event_of(kind, line)
    finally:
        response.release()
