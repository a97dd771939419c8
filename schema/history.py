"""Deployment and transition history, and the hibernation record, of an app environment."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry
from strawberry import relay

from app.db import models
from schema.context import Info
from schema.enums import AppStatus, DeploymentOutcome, HibernatedPolicy, TransitionCause, WorkloadKind
from schema.pagination import node_keys

if TYPE_CHECKING:
    from schema.types import AppEnvironment

_WHERE = "Where it happened: the app environment, as recorded now."


async def _app_environment(info: Info, app_environment_id: int, loaded: Any) -> AppEnvironment:
    from schema.types import AppEnvironment

    if loaded is not None:  # the feed read it with the row
        row, app, environment = loaded
        return AppEnvironment.from_row(row, app=app, environment=environment)
    row = await info.context.loaders.app_environment_by_id.load(app_environment_id)
    assert row is not None  # history rows go with their app environment (foreign key)
    return AppEnvironment.from_row(row, app=row.app, environment=row.environment)


@strawberry.type(description="One recorded release of an image to an app environment.")
class Deployment(relay.Node):
    id: relay.NodeID[int]
    image: str = strawberry.field(description="The image deployed to the main container.")
    on_hibernated: HibernatedPolicy = strawberry.field(description="The policy applied had the target been hibernated.")
    outcome: DeploymentOutcome = strawberry.field(description="How it ended (RUNNING while under way).")
    reason: str | None = strawberry.field(description="Why it failed or was skipped; null when it succeeded.")
    actor: str = strawberry.field(description="Who deployed.")
    started_at: datetime = strawberry.field(description="When the deploy started.")
    finished_at: datetime | None = strawberry.field(description="When it ended; null while RUNNING.")
    app_environment_id: strawberry.Private[int]
    rolled_back_from_id: strawberry.Private[int | None] = None
    loaded_target: strawberry.Private[Any] = None

    @strawberry.field(description=_WHERE)
    async def app_environment(self, info: Info) -> Annotated[AppEnvironment, strawberry.lazy("schema.types")]:
        return await _app_environment(info, self.app_environment_id, self.loaded_target)

    @strawberry.field(
        description="For a rollback, the deployment it rolled back (what ran before); null for other deployments."
    )
    async def rolled_back_from(self, info: Info) -> Deployment | None:
        if self.rolled_back_from_id is None:
            return None
        row = await info.context.loaders.deployment_by_id.load(self.rolled_back_from_id)
        return None if row is None else Deployment.from_row(row)

    @classmethod
    def from_row(cls, row: models.Deployment, target: Any = None) -> Self:
        return cls(
            app_environment_id=row.app_environment_id,
            rolled_back_from_id=row.rolled_back_from_id,
            loaded_target=target,
            id=row.id,
            image=row.image,
            on_hibernated=HibernatedPolicy[row.on_hibernated],
            outcome=DeploymentOutcome[row.outcome.value],
            reason=row.error,
            actor=row.actor,
            started_at=row.started_at,
            finished_at=row.finished_at,
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Self | None]:
        rows = await info.context.loaders.deployment_by_id.load_many(node_keys(node_ids))
        targets = await info.context.loaders.app_environment_by_id.load_many(
            [row.app_environment_id for row in rows if row is not None]
        )
        visible = {t.id for t in targets if t is not None and info.context.principal.sees(t.environment.name)}
        return [None if row is None or row.app_environment_id not in visible else cls.from_row(row) for row in rows]


@strawberry.type(description="One audit row: a status change (or an operation that kept the status) and its cause.")
class Transition:
    from_status: AppStatus = strawberry.field(description="The recorded status before.")
    to_status: AppStatus = strawberry.field(description="The recorded status after.")
    cause: TransitionCause = strawberry.field(description="What caused it.")
    reason: str = strawberry.field(description="The status reason at the time.")
    actor: str = strawberry.field(description="Who caused it (`hibernia` for observations).")
    at: datetime = strawberry.field(description="When.")
    app_environment_id: strawberry.Private[int]
    loaded_target: strawberry.Private[Any] = None

    @strawberry.field(description=_WHERE)
    async def app_environment(self, info: Info) -> Annotated[AppEnvironment, strawberry.lazy("schema.types")]:
        return await _app_environment(info, self.app_environment_id, self.loaded_target)

    @classmethod
    def from_row(cls, row: models.Transition, target: Any = None) -> Self:
        return cls(
            app_environment_id=row.app_environment_id,
            loaded_target=target,
            from_status=AppStatus[row.from_status.value],
            to_status=AppStatus[row.to_status.value],
            cause=TransitionCause[row.cause.value],
            reason=row.reason,
            actor=row.actor,
            at=row.at,
        )


@strawberry.type(description="What hibernation changed on one workload, so unhibernate can restore it exactly.")
class HibernatedWorkload:
    kind: WorkloadKind = strawberry.field(description="Deployment, StatefulSet or CronJob.")
    name: str = strawberry.field(description="The workload's name.")
    original_replicas: int | None = strawberry.field(description="Replicas to restore (Deployments, StatefulSets).")
    original_suspend: bool | None = strawberry.field(description="`suspend` to restore (CronJobs).")
    since: datetime = strawberry.field(description="When it was hibernated.")
    actor: str = strawberry.field(description="Who hibernated it.")

    @classmethod
    def from_row(cls, row: models.HibernationRecord) -> Self:
        return cls(
            kind=WorkloadKind[row.workload_kind.name],
            name=row.workload_name,
            original_replicas=row.original_replicas,
            original_suspend=row.original_suspend,
            since=row.since,
            actor=row.actor,
        )


@strawberry.type(description="The hibernation record of an app environment.")
class Hibernation:
    since: datetime = strawberry.field(description="When the first of its workloads was hibernated.")
    actor: str = strawberry.field(description="Who hibernated it (first workload).")
    workloads: list[HibernatedWorkload] = strawberry.field(description="Per workload, what to restore.")

    @classmethod
    def from_rows(cls, rows: list[models.HibernationRecord]) -> Self | None:
        if not rows:
            return None
        first = min(rows, key=lambda r: r.since)
        ordered = sorted(rows, key=lambda r: (r.workload_kind.value, r.workload_name))
        return cls(since=first.since, actor=first.actor, workloads=[HibernatedWorkload.from_row(r) for r in ordered])
