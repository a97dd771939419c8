"""Live status: read the cluster in batches, derive the status, and keep the recorded status true."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.cluster.caches import ClusterCaches
from app.cluster.gateway import ClusterError
from app.cluster.informers import ClusterCache
from app.cluster.registry import ClusterAccess, ClusterRegistry
from app.db.models import Cluster, HibernationRecord, TransitionCause
from app.db.repositories.catalog import CatalogRepository
from app.db.repositories.status import Observation, ObservationTarget, StatusRepository
from app.db.retry import retrying_deadlocks
from app.db.types import utcnow
from app.domain.errors import ErrorCode, HiberniaError, InvalidInput, NotFound
from app.domain.status import AppStatus, DerivedStatus
from app.domain.status_rules import DEFAULT_STATEFUL_SET_DEADLINE_SECONDS, derive_status
from app.domain.workloads import Workload
from app.services.catalog import missing_attachment
from app.services.workload_lists import ClusterLister, Listings

logger = logging.getLogger("hibernia.status")

SYSTEM_ACTOR = "hibernia"
MAX_GROUP = 1000


@dataclass
class _Found:
    # (cluster id, namespace, release) -> its workloads, and (cluster id, namespace) -> why unread.
    workloads: dict[tuple[int, str, str | None], list[Workload]] = field(default_factory=dict)
    errors: dict[tuple[int, str], str] = field(default_factory=dict)
    # How new the view of each release is (the cluster's resourceVersion), where known.
    versions: dict[tuple[int, str, str | None], int | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LiveStatus:
    app_environment_id: int
    derived: DerivedStatus
    observed_at: datetime
    # True when this observation changed the recorded status (and wrote a transition).
    changed: bool = False


def access_of(cluster: Cluster) -> ClusterAccess:
    return ClusterAccess(
        id=cluster.id,
        name=cluster.name,
        server=cluster.server,
        token=cluster.token,
        ca_data=cluster.ca_data,
        client_certificate_data=cluster.client_certificate_data,
        client_key_data=cluster.client_key_data,
        insecure_skip_tls_verify=cluster.insecure_skip_tls_verify,
        kubeconfig_path=cluster.kubeconfig_path,
        kubeconfig_context=cluster.kubeconfig_context,
        in_cluster=cluster.in_cluster,
    )


class LiveStatusService:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        registry: ClusterRegistry,
        clock: Callable[[], datetime] = utcnow,
        caches: ClusterCaches | None = None,
        stateful_set_deadline_seconds: int = DEFAULT_STATEFUL_SET_DEADLINE_SECONDS,
    ) -> None:
        self.session_factory = session_factory
        self.stateful_set_deadline_seconds = stateful_set_deadline_seconds
        self.registry = registry
        self.clock = clock
        self.caches = caches
        self.lister = ClusterLister()
        self._starting: set[asyncio.Task[ClusterCache | None]] = set()  # caches started by a read

    async def observe(
        self,
        ids: Sequence[int],
        *,
        actor: str = SYSTEM_ACTOR,
        cause: TransitionCause = TransitionCause.OBSERVED,
        known: Sequence[ObservationTarget] | None = None,
    ) -> dict[int, LiveStatus]:
        """The live status of these app environments: from the cluster's informer cache when its view
        is complete and current (no request at all), else one LIST per (cluster, kind), per (cluster,
        namespace, kind) where the cluster refuses lists across namespaces.

        Recorded statuses that differ from what was seen are updated, with a transition. An
        UNKNOWN observation (cluster unreachable) is returned but not recorded: the recorded status
        stays the last thing actually known.
        """
        if not ids:
            return {}
        if known is not None and {t.id for t in known} == set(ids):
            targets = list(known)  # the caller read all these rows moments ago
        else:
            async with self.session_factory() as session:
                targets = await StatusRepository(session).observation_targets(ids)

        async def what_the_database_knows() -> tuple[dict[int, list[HibernationRecord]], dict[int, datetime]]:
            # Read while the cluster answers. A deploy is looked up only where it matters: no
            # workloads and nothing recorded yet tells MISSING from NOT_DEPLOYED.
            never_seen = [t.id for t in targets if t.status is AppStatus.NOT_DEPLOYED]
            async with self.session_factory() as session:
                repository = StatusRepository(session)
                records = await repository.hibernation_records(ids)
                return records, (await repository.last_deploys(never_seen) if never_seen else {})

        listings, (records, deploys) = await asyncio.gather(self._list_workloads(targets), what_the_database_knows())
        now = self.clock()
        derived_by_id: dict[int, DerivedStatus] = {}
        observations: list[Observation] = []
        for target in targets:
            derived = self._derive(target, listings, records.get(target.id, []), deploys, now)
            derived_by_id[target.id] = derived
            if derived.status is not AppStatus.UNKNOWN:
                version = listings.versions.get((target.cluster.id, target.namespace, target.release_name))
                observations.append(
                    Observation(target.id, target.status, derived.status, derived.reason, target.status_reason, version)
                )
        changed: list[Observation] = []
        if observations:

            async def write() -> list[Observation]:
                async with self.session_factory() as session, session.begin():
                    return await StatusRepository(session).record(observations, cause=cause, actor=actor, at=now)

            changed = await retrying_deadlocks(write, "recording observed statuses")
            for change in changed:
                logger.info(
                    "status of app environment %s changed: %s -> %s (%s)",
                    change.app_environment_id,
                    change.previous,
                    change.status,
                    change.reason,
                )
        changed_ids = {c.app_environment_id for c in changed}
        return {i: LiveStatus(i, d, now, changed=i in changed_ids) for i, d in derived_by_id.items()}

    async def observe_one(self, app_name: str, environment_name: str, *, actor: str = SYSTEM_ACTOR) -> LiveStatus:
        async with self.session_factory() as session:
            catalog = CatalogRepository(session)
            row = await catalog.app_environment(app_name, environment_name)
            if row is None:
                raise await missing_attachment(catalog, app_name, environment_name)
        return (await self.observe([row.id], actor=actor))[row.id]

    async def observe_group(
        self, environment_name: str, app_names: Sequence[str] | None, *, actor: str = SYSTEM_ACTOR
    ) -> list[LiveStatus]:
        """An app group in one environment (all its apps when `app_names` is None), in the order given."""
        async with self.session_factory() as session:
            catalog = CatalogRepository(session)
            environment = await catalog.environment_by_name(environment_name)
            if environment is None:
                raise NotFound("Environment", environment_name, field="environment")
            if app_names is not None and len(app_names) > MAX_GROUP:
                raise InvalidInput(f"An app group has at most {MAX_GROUP} apps; split the request.", field="apps")
            rows = await catalog.app_environments_in(environment.id, app_names)
        by_app = {row.app.name: row for row in rows}
        if app_names is not None:
            missing = [name for name in dict.fromkeys(app_names) if name not in by_app]
            if missing:
                raise HiberniaError(
                    ErrorCode.NOT_FOUND,
                    f"Not attached to environment '{environment_name}' (or not existing): {', '.join(missing)}.",
                    field="apps",
                )
            ordered = [by_app[name] for name in dict.fromkeys(app_names)]
        else:
            ordered = sorted(rows, key=lambda row: row.app.name)
        found = await self.observe([row.id for row in ordered], actor=actor)
        return [found[row.id] for row in ordered]

    async def _list_workloads(self, targets: Sequence[ObservationTarget]) -> _Found:
        """What the cluster holds for each target's release, or why its namespace could not be read."""
        releases: dict[int, dict[str, set[str]]] = {}
        clusters: dict[int, Cluster] = {}
        for target in targets:
            clusters[target.cluster.id] = target.cluster
            releases.setdefault(target.cluster.id, {}).setdefault(target.namespace, set()).add(target.release_name)

        found = _Found()
        for cluster_id in list(releases):
            if self._from_cache(clusters[cluster_id], releases[cluster_id], found):
                del releases[cluster_id]

        async def one(cluster_id: int) -> tuple[int, Listings | ClusterError]:
            try:
                gateway = await self.registry.gateway(access_of(clusters[cluster_id]))
            except ClusterError as error:
                return cluster_id, error
            return cluster_id, await self.lister.list(gateway, cluster_id, releases[cluster_id])

        for cluster_id, listings in await asyncio.gather(*(one(cluster_id) for cluster_id in releases)):
            if isinstance(listings, ClusterError):
                found.errors.update(((cluster_id, ns), str(listings)) for ns in releases[cluster_id])
                continue
            versions: dict[str, list[int | None]] = {}
            for (namespace, _kind), listing in listings.items():
                if isinstance(listing, ClusterError):
                    found.errors.setdefault((cluster_id, namespace), str(listing))
                    continue
                versions.setdefault(namespace, []).append(getattr(listing, "version", None))
                for workload in listing:
                    found.workloads.setdefault((cluster_id, namespace, workload.release), []).append(workload)
            for namespace, names in releases[cluster_id].items():
                # A LIST is a view as new as its resourceVersion; of several, the oldest.
                listed = versions.get(namespace, [])
                version = None if not listed or None in listed else min(v for v in listed if v is not None)
                found.versions.update(((cluster_id, namespace, name), version) for name in names)
        return found

    def _from_cache(self, cluster: Cluster, releases: dict[str, set[str]], found: _Found) -> bool:
        """Fills `found` from the cluster's informer cache when its view is complete and current;
        starts the cache when there is none yet."""
        if self.caches is None:
            return False
        cache = self.caches.get(cluster.id)
        if cache is None:
            task = asyncio.create_task(self.caches.ensure(access_of(cluster), set(releases)))
            self._starting.add(task)
            task.add_done_callback(self._starting.discard)
            return False
        if not cache.fresh(releases):
            return False
        workloads: dict[tuple[int, str, str | None], list[Workload]] = {}
        for namespace, names in releases.items():
            for name in names:
                cached = cache.release_workloads(namespace, name)
                if cached is None:
                    return False
                workloads[(cluster.id, namespace, name)] = cached
                found.versions[(cluster.id, namespace, name)] = cache.release_version(namespace, name)
        found.workloads.update(workloads)
        return True

    def _derive(
        self,
        target: ObservationTarget,
        found: _Found,
        records: list[HibernationRecord],
        deploys: dict[int, datetime],
        now: datetime,
    ) -> DerivedStatus:
        place = (target.cluster.id, target.namespace)
        workloads = found.workloads.get((*place, target.release_name), [])
        error = found.errors.get(place)
        last_deploy = deploys.get(target.id)
        return derive_status(
            workloads=workloads,
            ever_deployed=last_deploy is not None or target.status is not AppStatus.NOT_DEPLOYED,
            hibernation={(r.workload_kind, r.workload_name): r.as_recorded() for r in records},
            cluster_error=error,
            wake_started_at=target.wake_started_at,
            now=now,
            stateful_set_deadline_seconds=self.stateful_set_deadline_seconds,
        )
