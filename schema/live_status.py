"""Live status types: what the cluster says now, derived by the status rules."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from app.services.live_status import LiveStatus
from schema.context import Info
from schema.enums import AppStatus, WorkloadKind

if TYPE_CHECKING:
    from schema.types import AppEnvironment


@strawberry.type(description="One workload of an app environment as the cluster reports it.")
class WorkloadStatus:
    kind: WorkloadKind = strawberry.field(description="Deployment, StatefulSet or CronJob.")
    name: str = strawberry.field(description="The workload's name in the namespace.")
    desired_replicas: int = strawberry.field(description="Replicas the workload asks for now (0 when hibernated).")
    ready_replicas: int = strawberry.field(description="Replicas ready now.")
    hibernated: bool = strawberry.field(description="True when hibernation scaled it to 0 (or suspended it).")
    original_replicas: int | None = strawberry.field(
        description="Replicas to restore on wake, from the hibernation annotation or record."
    )
    images: list[str] = strawberry.field(description="Container images, in container order.")


@strawberry.type(description="The live status of one app environment, derived from the cluster now.")
class AppEnvironmentStatus:
    status: AppStatus = strawberry.field(description="The status by the rules of the status reference.")
    reason: str = strawberry.field(description="Why, in words a person understands.")
    observed_at: datetime = strawberry.field(description="When the cluster was read.")
    workloads: list[WorkloadStatus] = strawberry.field(description="Each workload of the release.")
    app_environment_id: strawberry.Private[int]

    @strawberry.field(description="The app environment this status is of.")
    async def app_environment(self, info: Info) -> Annotated[AppEnvironment, strawberry.lazy("schema.types")]:
        from schema.types import AppEnvironment

        row = await info.context.loaders.app_environment_by_id.load(self.app_environment_id)
        assert row is not None
        return AppEnvironment.from_row(row, app=row.app, environment=row.environment)

    @classmethod
    def from_live(cls, live: LiveStatus) -> Self:
        return cls(
            status=AppStatus[live.derived.status.value],
            reason=live.derived.reason,
            observed_at=live.observed_at,
            workloads=[
                WorkloadStatus(
                    kind=WorkloadKind[w.kind.name],
                    name=w.name,
                    desired_replicas=w.desired_replicas,
                    ready_replicas=w.ready_replicas,
                    hibernated=w.hibernated,
                    original_replicas=w.original_replicas,
                    images=list(w.images),
                )
                for w in live.derived.workloads
            ],
            app_environment_id=live.app_environment_id,
        )
