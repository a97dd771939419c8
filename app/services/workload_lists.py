"""Reading workloads by release: few LISTs, each with a label selector, never one request per app.

A lookup over several namespaces of one cluster lists each kind once across all namespaces
(`GET /apis/apps/v1/deployments?labelSelector=app.kubernetes.io/instance in (...)`), so a dashboard
page of 30 namespaces costs 3 LISTs instead of 90. Credentials with namespaced Roles only get 403 for
that; the cluster is then listed namespace by namespace, and the refusal is remembered for a while
so it costs one extra request per kind, not one per page.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence

from app.cluster.gateway import AccessDenied, ClusterError, ClusterGateway
from app.domain.workloads import RELEASE_LABEL, Workload, WorkloadKind

WORKLOAD_KINDS = (WorkloadKind.DEPLOYMENT, WorkloadKind.STATEFUL_SET, WorkloadKind.CRON_JOB)
MAX_SELECTOR_CHARS = 3000  # release names per LIST, so its URL stays far below 8 KiB
# After a 403 on a list in all namespaces, list namespace by namespace for this long, then ask again
# (the RBAC may have changed).
DENIAL_MEMORY_SECONDS = 600.0


class Listed(list[Workload]):
    """Workloads a LIST found, and the list's resourceVersion (None: not known or not a number)."""

    version: int | None = None


# (namespace, kind) -> the workloads found, or why they could not be read.
Listings = dict[tuple[str, WorkloadKind], list[Workload] | ClusterError]


def release_selectors(releases: Iterable[str]) -> list[str]:
    """Label selectors matching these releases: one, unless they would make a LIST's URL too long.

    API servers and proxies refuse request lines over 8 KiB or so; a page of 100 long release names
    would pass that in one selector, so the names are split across as few selectors as fit.
    """
    selectors: list[str] = []
    chunk: list[str] = []
    length = 0
    for release in sorted(set(releases)):
        if chunk and length + len(release) + 1 > MAX_SELECTOR_CHARS:
            selectors.append(_selector(chunk))
            chunk, length = [], 0
        chunk.append(release)
        length += len(release) + 1
    if chunk:
        selectors.append(_selector(chunk))
    return selectors


def _selector(releases: list[str]) -> str:
    return f"{RELEASE_LABEL} in ({','.join(releases)})"


async def read_releases(gateway: ClusterGateway, namespace: str, releases: Sequence[str]) -> dict[str, list[Workload]]:
    """The workloads of several releases in one namespace: one LIST per kind (unless names are many and long)."""
    listings = await asyncio.gather(
        *(gateway.list_workloads(namespace, kind, s) for s in release_selectors(releases) for kind in WORKLOAD_KINDS)
    )
    found: dict[str, list[Workload]] = {release: [] for release in releases}
    for listing in listings:
        for workload in listing:
            if workload.release in found:
                found[workload.release].append(workload)
    return found


class ClusterLister:
    """Lists the workloads of releases in many namespaces of clusters, remembering which clusters
    refuse lists in all namespaces. One per process (the memory is its point)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._denied: dict[tuple[int, WorkloadKind], float] = {}  # (cluster id, kind) -> when refused

    async def list(self, gateway: ClusterGateway, cluster_id: int, releases: dict[str, set[str]]) -> Listings:
        """Every kind's workloads of `releases` (namespace -> release names) in one cluster."""
        listings: Listings = {}
        await asyncio.gather(*(self._kind(gateway, cluster_id, kind, releases, listings) for kind in WORKLOAD_KINDS))
        return listings

    async def _kind(
        self,
        gateway: ClusterGateway,
        cluster_id: int,
        kind: WorkloadKind,
        releases: dict[str, set[str]],
        listings: Listings,
    ) -> None:
        if len(releases) > 1 and not self._still_denied(cluster_id, kind):
            names = set().union(*releases.values())
            try:
                found = await _list(gateway, None, kind, names)
            except AccessDenied:
                self._denied[(cluster_id, kind)] = self.clock()
            except ClusterError as error:
                listings.update(((namespace, kind), error) for namespace in releases)
                return
            else:
                for namespace in releases:
                    listings[(namespace, kind)] = _listed([], found.version)
                for workload in found:
                    mine = listings.get((workload.namespace, kind))
                    if isinstance(mine, list) and workload.release in releases[workload.namespace]:
                        mine.append(workload)
                return

        async def one(namespace: str, names: set[str]) -> None:
            try:
                listings[(namespace, kind)] = await _list(gateway, namespace, kind, names)
            except ClusterError as error:
                listings[(namespace, kind)] = error

        await asyncio.gather(*(one(namespace, names) for namespace, names in releases.items()))

    def _still_denied(self, cluster_id: int, kind: WorkloadKind) -> bool:
        denied_at = self._denied.get((cluster_id, kind))
        if denied_at is None:
            return False
        if self.clock() - denied_at > DENIAL_MEMORY_SECONDS:
            del self._denied[(cluster_id, kind)]
            return False
        return True


def _listed(workloads: list[Workload], version: int | None) -> Listed:
    listed = Listed(workloads)
    listed.version = version
    return listed


async def _list(gateway: ClusterGateway, namespace: str | None, kind: WorkloadKind, names: set[str]) -> Listed:
    pages = await asyncio.gather(*(gateway.list_versioned(namespace, kind, s) for s in release_selectors(names)))
    versions = [int(v) if v.isdigit() else None for _, v in pages]
    # Several selectors are several lists: the view is as new as the oldest of them.
    version = None if not versions or None in versions else min(v for v in versions if v is not None)
    return _listed([w for workloads, _ in pages for w in workloads], version)
