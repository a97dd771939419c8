"""Live status: read the cluster in batches, derive the status, and keep the recorded status true."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.cluster.gateway import ClusterError, ClusterGateway
from app.cluster.registry import ClusterAccess, ClusterRegistry
from app.db.models import AppEnvironment, Cluster, HibernationRecord, TransitionCause
from app.db.repositories.catalog import CatalogRepository
from app.db.repositories.status import Observation, StatusRepository
from app.db.types import utcnow
from app.domain.errors import ErrorCode, HiberniaError, InvalidInput, NotFound
from app.domain.status import AppStatus, DerivedStatus
from app.domain.status_rules import derive_status
from app.domain.workloads import RELEASE_LABEL, Workload, WorkloadKind
from app.services.catalog import missing_attachment

logger = logging.getLogger("hibernia.status")

WORKLOAD_KINDS = (WorkloadKind.DEPLOYMENT, WorkloadKind.STATEFUL_SET, WorkloadKind.CRON_JOB)
SYSTEM_ACTOR = "hibernia"
MAX_GROUP = 1000
MAX_SELECTOR_CHARS = 3000  # release names per LIST, so its URL stays far below 8 KiB

GroupKey = tuple[int, str, WorkloadKind]  # (cluster id, namespace, kind)


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
        insecure_skip_tls_verify=cluster.insecure_skip_tls_verify,
        kubeconfig_path=cluster.kubeconfig_path,
        kubeconfig_context=cluster.kubeconfig_context,
        in_cluster=cluster.in_cluster,
    )


def release_selectors(releases: Sequence[str]) -> list[str]:
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


def _selector(releases: list[str]) -> str:
    return f"{RELEASE_LABEL} in ({','.join(releases)})"


class LiveStatusService:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        registry: ClusterRegistry,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.session_factory = session_factory
        self.registry = registry
        self.clock = clock

    async def observe(
        self,
        ids: Sequence[int],
        *,
        actor: str = SYSTEM_ACTOR,
        cause: TransitionCause = TransitionCause.OBSERVED,
    ) -> dict[int, LiveStatus]:
        """The live status of these app environments: one LIST per (cluster, namespace, kind).

        Recorded statuses that differ from what was seen are updated, with a transition. An
        UNKNOWN observation (cluster unreachable) is returned but not recorded: the recorded status
        stays the last thing actually known.
        """
        if not ids:
            return {}
        async with self.session_factory() as session:
            repository = StatusRepository(session)
            targets = await repository.targets(ids)
            records = await repository.hibernation_records(ids)
            deploys = await repository.last_deploys(ids)

        listings = await self._list_workloads(targets)
        now = self.clock()
        derived_by_id: dict[int, DerivedStatus] = {}
        observations: list[Observation] = []
        for target in targets:
            derived = self._derive(target, listings, records.get(target.id, []), deploys, now)
            derived_by_id[target.id] = derived
            if derived.status is not AppStatus.UNKNOWN:
                observations.append(
                    Observation(target.id, target.status, derived.status, derived.reason, target.status_reason)
                )
        changed: list[Observation] = []
        if observations:
            async with self.session_factory() as session, session.begin():
                changed = await StatusRepository(session).record(observations, cause=cause, actor=actor, at=now)
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

    async def _list_workloads(self, targets: Sequence[AppEnvironment]) -> dict[GroupKey, list[Workload] | str]:
        releases: dict[tuple[int, str], set[str]] = {}
        clusters: dict[int, Cluster] = {}
        for target in targets:
            cluster = target.environment.cluster
            clusters[cluster.id] = cluster
            releases.setdefault((cluster.id, target.environment.namespace), set()).add(target.release_name)

        async def one(key: GroupKey, selectors: list[str]) -> tuple[GroupKey, list[Workload] | str]:
            cluster_id, namespace, kind = key
            try:
                gateway = await self.registry.gateway(access_of(clusters[cluster_id]))
                listings = await asyncio.gather(*(gateway.list_workloads(namespace, kind, s) for s in selectors))
            except ClusterError as error:
                return key, str(error)
            return key, [w for listing in listings for w in listing]

        calls = [
            one((cluster_id, namespace, kind), release_selectors(sorted(names)))
            for (cluster_id, namespace), names in releases.items()
            for kind in WORKLOAD_KINDS
        ]
        return dict(await asyncio.gather(*calls))

    def _derive(
        self,
        target: AppEnvironment,
        listings: dict[GroupKey, list[Workload] | str],
        records: list[HibernationRecord],
        deploys: dict[int, datetime],
        now: datetime,
    ) -> DerivedStatus:
        cluster_id, namespace = target.environment.cluster_id, target.environment.namespace
        workloads: list[Workload] = []
        error: str | None = None
        for kind in WORKLOAD_KINDS:
            listing = listings[(cluster_id, namespace, kind)]
            if isinstance(listing, str):
                error = error or listing
            else:
                workloads.extend(w for w in listing if w.release == target.release_name)
        last_deploy = deploys.get(target.id)
        return derive_status(
            workloads=workloads,
            ever_deployed=last_deploy is not None or target.status is not AppStatus.NOT_DEPLOYED,
            hibernation={(r.workload_kind, r.workload_name): r.as_recorded() for r in records},
            cluster_error=error,
            wake_started_at=target.wake_started_at,
            now=now,
        )
