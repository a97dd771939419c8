"""The naive live status (section 1a): ask the cluster once per app environment and workload kind.

This is the approach behind per-object status calls (Devtron's per-app status endpoint): for each
app environment on the page, one LIST per workload kind with `app.kubernetes.io/instance=<release>`,
so N app environments cost 3N Kubernetes requests. All of a page's app environments are asked at
once, as independent resolvers would.

Only the cluster access is naive. The database reads are the same batched reads Hibernia's
observation makes (targets, hibernation records, last deploys, last wakes), and nothing is
recorded (Hibernia also refreshes the recorded status), so naive/Hibernia measures what batching
the cluster requests buys, and errs in the naive variant's favour.

It plugs in where Hibernia's loader does (`live_status_by_app_environment_id`), so the query, the
schema and the response are the same.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from app.cluster.gateway import ClusterError
from app.cluster.registry import ClusterRegistry
from app.db.models import AppEnvironment, HibernationRecord
from app.db.repositories.status import StatusRepository
from app.db.types import utcnow
from app.domain.status import AppStatus, RecordedHibernation
from app.domain.status_rules import derive_status
from app.domain.workloads import RELEASE_LABEL, Workload
from app.main import HiberniaGraphQL
from app.services.live_status import WORKLOAD_KINDS, LiveStatus, access_of
from schema.context import Context


def _recorded(row: HibernationRecord) -> RecordedHibernation:
    return RecordedHibernation(
        kind=row.workload_kind,
        name=row.workload_name,
        original_replicas=row.original_replicas,
        original_suspend=row.original_suspend,
        since=row.since,
        actor=row.actor,
    )


async def _observe_one(
    registry: ClusterRegistry,
    target: AppEnvironment,
    records: Sequence[HibernationRecord],
    last_deploy: datetime | None,
    last_wake: datetime | None,
    now: datetime,
) -> LiveStatus:
    selector = f"{RELEASE_LABEL}={target.release_name}"
    workloads: list[Workload] = []
    error: str | None = None
    try:
        gateway = await registry.gateway(access_of(target.environment.cluster))
        listings = await asyncio.gather(
            *(gateway.list_workloads(target.environment.namespace, kind, selector) for kind in WORKLOAD_KINDS)
        )
        for listing in listings:
            workloads.extend(listing)
    except ClusterError as exc:
        error = str(exc)
    wake_started_at = last_wake if last_wake and (last_deploy is None or last_wake >= last_deploy) else None
    derived = derive_status(
        workloads=workloads,
        ever_deployed=last_deploy is not None or target.status is not AppStatus.NOT_DEPLOYED,
        hibernation={(r.workload_kind, r.workload_name): _recorded(r) for r in records},
        cluster_error=error,
        wake_started_at=wake_started_at,
        now=now,
    )
    return LiveStatus(target.id, derived, now)


def naive_live_status_loader(
    session_factory: async_sessionmaker[AsyncSession], registry: ClusterRegistry
) -> DataLoader[int, LiveStatus]:
    async def load(ids: list[int]) -> list[LiveStatus]:
        async with session_factory() as session:
            repository = StatusRepository(session)
            targets = {row.id: row for row in await repository.targets(ids)}
            records = await repository.hibernation_records(ids)
            deploys = await repository.last_deploys(ids)
            wakes = await repository.last_wakes(ids)
        now = utcnow()
        return list(
            await asyncio.gather(
                *(
                    _observe_one(registry, targets[i], records.get(i, []), deploys.get(i), wakes.get(i), now)
                    for i in ids
                )
            )
        )

    return DataLoader(load_fn=load)


class NaiveGraphQL(HiberniaGraphQL):
    """Hibernia's GraphQL view with the naive live status loader."""

    async def get_context(self, request: Any, response: Any) -> Context:
        context = await super().get_context(request, response)
        context.loaders.live_status_by_app_environment_id = naive_live_status_loader(
            context.session_factory, self.runtime.registry
        )
        return context
