"""Informer caches: per cluster and workload kind, LIST then WATCH, as client-go's reflector does.

A `Reflector` lists one kind (Deployments, StatefulSets or CronJobs carrying the release label)
across namespaces, or in one namespace, then watches from the list's resourceVersion with bookmarks
and a server timeout, and watches again from the last resourceVersion it saw when the stream ends.
A 410 Gone means list again; any other failure means try again after a backoff with jitter. The
store is a plain in-memory index, read through snapshots; only the reflector writes it.

A `ClusterCache` holds the three reflectors of one cluster, or, when the credentials may not list
across namespaces (403), three per namespace of the cluster's environments. It tells whether its
view is complete and current (`fresh`), how old it is, and which releases changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from app.cluster.gateway import AccessDenied, ClusterGateway
from app.cluster.watching import BOOKMARK, DELETED, OPENED, WatchExpired
from app.domain.workloads import RELEASE_LABEL, Workload, WorkloadKind

logger = logging.getLogger("hibernia.informers")

WORKLOAD_KINDS = (WorkloadKind.DEPLOYMENT, WorkloadKind.STATEFUL_SET, WorkloadKind.CRON_JOB)
WATCH_SECONDS = (240, 480)  # each watch asks the server to end it after this long (client-go: 5-10 min)
MAX_BACKOFF_SECONDS = 30.0
# A view whose watch broke is still used this long (the reconnection usually comes first).
STALE_AFTER_SECONDS = 5.0

Release = tuple[str, str]  # (namespace, release)
Changed = Callable[[set[Release]], None]


@dataclass(frozen=True, slots=True)
class CacheHealth:
    synced: bool
    connected: bool
    age_seconds: float | None  # since the last word from the API server (an event, a bookmark, a list)
    objects: int
    relists: int
    errors: int
    last_error: str | None


def _version(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


class Reflector:
    def __init__(
        self,
        gateway: ClusterGateway,
        kind: WorkloadKind,
        namespace: str | None,
        on_change: Changed,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.gateway = gateway
        self.kind = kind
        self.namespace = namespace
        self.on_change = on_change
        self.clock = clock
        self.rng = rng or random.Random()
        self.by_release: dict[Release, dict[str, Workload]] = {}
        self.version: str | None = None
        # The resourceVersion of each release's last change since the list, and of the list itself:
        # how new this reflector's view of a release is.
        self.listed_version: int | None = None
        self.changed_at: dict[Release, int] = {}
        self.synced = asyncio.Event()
        self.connected = False
        self.last_contact: float | None = None
        self.relists = 0
        self.errors = 0
        self.last_error: str | None = None
        self.denied = False

    @property
    def objects(self) -> int:
        return sum(len(named) for named in self.by_release.values())

    def workloads(self, namespace: str, release: str) -> list[Workload]:
        return list(self.by_release.get((namespace, release), {}).values())

    def release_version(self, release: Release) -> int | None:
        return self.changed_at.get(release, self.listed_version)

    def health(self) -> CacheHealth:
        age = None if self.last_contact is None else max(0.0, self.clock() - self.last_contact)
        return CacheHealth(
            self.synced.is_set(), self.connected, age, self.objects, self.relists, self.errors, self.last_error
        )

    def fresh(self) -> bool:
        if not self.synced.is_set() or self.last_contact is None:
            return False
        return self.connected or self.clock() - self.last_contact < STALE_AFTER_SECONDS

    async def run(self) -> None:
        """Lists and watches until cancelled; returns only when the credentials may not list (403)."""
        failures = 0
        while True:
            try:
                if self.version is None:
                    try:
                        await self._list()
                    except AccessDenied as error:  # namespaced Roles only: the owner watches namespaces
                        self.denied, self.last_error = True, str(error)
                        return
                await self._watch()  # a 403 here (WATCH not granted) is retried like any failure
                failures = 0
            except WatchExpired:
                self.version = None  # older than the server's history: list again, at once
                self.relists += 1
            except asyncio.CancelledError:
                raise
            except Exception as error:  # unreachable, throttled, broken stream: again after a backoff
                self.connected = False
                failures += 1
                self.errors += 1
                self.last_error = str(error)
                wait = min(MAX_BACKOFF_SECONDS, 0.5 * 2 ** min(failures, 8))
                await asyncio.sleep(wait / 2 + self.rng.random() * wait / 2)

    async def _list(self) -> None:
        workloads, version = await self.gateway.list_versioned(self.namespace, self.kind, RELEASE_LABEL)
        before = self.by_release
        after: dict[Release, dict[str, Workload]] = {}
        for workload in workloads:
            if workload.release:
                after.setdefault((workload.namespace, workload.release), {})[workload.name] = workload
        self.by_release, self.version = after, version
        self.listed_version, self.changed_at = _version(version), {}
        self.connected, self.last_contact = True, self.clock()
        self.synced.set()
        changed = {
            release
            for release in set(before) | set(after)
            if {n: w.resource_version for n, w in before.get(release, {}).items()}
            != {n: w.resource_version for n, w in after.get(release, {}).items()}
        }
        if changed:
            self.on_change(changed)

    async def _watch(self) -> None:
        timeout = self.rng.randint(*WATCH_SECONDS)
        async for event in self.gateway.watch(self.namespace, self.kind, RELEASE_LABEL, self.version or "", timeout):
            self.connected, self.last_contact = True, self.clock()
            if event.resource_version:
                self.version = event.resource_version
            if event.type in (OPENED, BOOKMARK) or event.workload is None:
                continue
            workload = event.workload
            changed = self._forget(workload.namespace, workload.name)
            if event.type != DELETED and workload.release:
                key = (workload.namespace, workload.release)
                self.by_release.setdefault(key, {})[workload.name] = workload
                changed.add(key)
            version = _version(event.resource_version)
            if version is not None:
                self.changed_at.update(dict.fromkeys(changed, version))
            if changed:
                self.on_change(changed)

    def _forget(self, namespace: str, name: str) -> set[Release]:
        """Removes the workload wherever it was indexed (its release label may have changed)."""
        gone: set[Release] = set()
        for key, named in list(self.by_release.items()):
            if key[0] == namespace and named.pop(name, None) is not None:
                gone.add(key)
                if not named:
                    del self.by_release[key]
        return gone


class ClusterCache:
    """The informers of one cluster: one reflector per kind, or per (namespace, kind) once refused."""

    def __init__(
        self, cluster_id: int, gateway: ClusterGateway, on_change: Callable[[int, set[Release]], None]
    ) -> None:
        self.cluster_id = cluster_id
        self.gateway = gateway
        self.namespaces: set[str] = set()
        self._notify = on_change
        self._reflectors: dict[tuple[str | None, WorkloadKind], Reflector] = {}
        self._tasks: dict[tuple[str | None, WorkloadKind], asyncio.Task[None]] = {}
        self.namespaced = False

    def start(self, namespaces: Collection[str]) -> None:
        self.namespaces = set(namespaces)
        for kind in WORKLOAD_KINDS:
            self._run(None, kind)

    def watch_namespaces(self, namespaces: Iterable[str]) -> None:
        """Namespaces the cluster's environments use; watched one by one once cluster-wide lists are refused."""
        new = set(namespaces) - self.namespaces
        self.namespaces |= new
        if self.namespaced:
            for namespace in sorted(new):
                for kind in WORKLOAD_KINDS:
                    self._run(namespace, kind)

    def _run(self, namespace: str | None, kind: WorkloadKind) -> None:
        reflector = Reflector(self.gateway, kind, namespace, lambda changed: self._notify(self.cluster_id, changed))
        self._reflectors[(namespace, kind)] = reflector
        task = asyncio.create_task(self._keep(reflector), name=f"informer-{self.cluster_id}-{kind.value}")
        self._tasks[(namespace, kind)] = task

    async def _keep(self, reflector: Reflector) -> None:
        await reflector.run()
        if reflector.denied and reflector.namespace is None and not self.namespaced:
            # Namespaced Roles only: a reflector per namespace of this cluster's environments.
            logger.info("cluster %s refuses lists across namespaces; watching %d namespaces", self.cluster_id,
                        len(self.namespaces))  # fmt: skip
            self.namespaced = True
            for key in [k for k in self._reflectors if k[0] is None]:
                self._reflectors.pop(key)
                task = self._tasks.pop(key)
                if task is not asyncio.current_task():
                    task.cancel()
            for namespace in sorted(self.namespaces):
                for kind in WORKLOAD_KINDS:
                    self._run(namespace, kind)

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    def _covering(self, namespace: str) -> list[Reflector] | None:
        if self.namespaced:
            found = [self._reflectors.get((namespace, kind)) for kind in WORKLOAD_KINDS]
        else:
            found = [self._reflectors.get((None, kind)) for kind in WORKLOAD_KINDS]
        return None if any(r is None for r in found) else [r for r in found if r is not None]

    def release_workloads(self, namespace: str, release: str) -> list[Workload] | None:
        """The release's workloads from the cache, or None when its view is not complete and current."""
        reflectors = self._covering(namespace)
        if reflectors is None or not all(r.fresh() for r in reflectors):
            return None
        return [w for r in reflectors for w in r.workloads(namespace, release)]

    def fresh(self, namespaces: Iterable[str]) -> bool:
        return all(
            (covering := self._covering(namespace)) is not None and all(r.fresh() for r in covering)
            for namespace in namespaces
        )

    def release_version(self, namespace: str, release: str) -> int | None:
        """How new the view of one release is: the resourceVersion of its latest change the reflectors
        applied (or of their lists); None when not known or not numeric."""
        versions = [r.release_version((namespace, release)) for r in self._covering(namespace) or []]
        if not versions or any(v is None for v in versions):
            return None
        return max(v for v in versions if v is not None)

    async def wait_synced(self, seconds: float) -> bool:
        async def all_synced() -> None:
            while True:
                reflectors = list(self._reflectors.values())
                await asyncio.gather(*(r.synced.wait() for r in reflectors))
                if reflectors == list(self._reflectors.values()):
                    return

        try:
            await asyncio.wait_for(all_synced(), seconds)
        except TimeoutError:
            return False
        return True

    def health(self) -> CacheHealth:
        parts = [r.health() for r in self._reflectors.values()]
        ages = [p.age_seconds for p in parts if p.age_seconds is not None]
        errors = [p.last_error for p in parts if p.last_error]
        return CacheHealth(
            synced=bool(parts) and all(p.synced for p in parts),
            connected=bool(parts) and all(p.connected for p in parts),
            age_seconds=max(ages) if ages else None,
            objects=sum(p.objects for p in parts),
            relists=sum(p.relists for p in parts),
            errors=sum(p.errors for p in parts),
            last_error=errors[0] if errors else None,
        )
