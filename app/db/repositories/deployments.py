"""Deployment records: created RUNNING before the cluster is touched, always finished."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Deployment, DeploymentOutcome, OperationLease

INTERRUPTED = "Interrupted: the server running this deploy stopped before it finished. Deploy again."


class DeploymentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def start(
        self, app_environment_id: int, *, image: str, on_hibernated: str, actor: str, at: datetime
    ) -> Deployment:
        deployment = Deployment(
            app_environment_id=app_environment_id,
            image=image,
            on_hibernated=on_hibernated,
            outcome=DeploymentOutcome.RUNNING,
            actor=actor,
            started_at=at,
        )
        self.session.add(deployment)
        await self.session.flush()
        return deployment

    async def finish(
        self, deployment_id: int, outcome: DeploymentOutcome, *, error: str | None, at: datetime
    ) -> Deployment:
        deployment = await self.session.get_one(Deployment, deployment_id)
        deployment.outcome = outcome
        deployment.error = error
        deployment.finished_at = at
        await self.session.flush()
        return deployment

    async def fail_interrupted(self, app_environment_ids: Sequence[int] | None, *, at: datetime, reason: str) -> int:
        """Ends RUNNING deployments whose server died; call only while no deploy can be running there."""
        query = update(Deployment).where(Deployment.outcome == DeploymentOutcome.RUNNING)
        if app_environment_ids is not None:
            query = query.where(Deployment.app_environment_id.in_(app_environment_ids))
        result = await self.session.execute(
            query.values(outcome=DeploymentOutcome.FAILED, error=reason, finished_at=at).execution_options(
                synchronize_session=False
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def fail_abandoned(self, *, now: datetime, started_before: datetime, reason: str) -> int:
        """Ends RUNNING deployments no live lease protects (their server died and no one deployed since)."""
        protected = select(OperationLease.app_environment_id).where(
            OperationLease.holder.is_not(None), OperationLease.expires_at >= now
        )
        result = await self.session.execute(
            update(Deployment)
            .where(
                Deployment.outcome == DeploymentOutcome.RUNNING,
                Deployment.started_at < started_before,
                Deployment.app_environment_id.not_in(protected),
            )
            .values(outcome=DeploymentOutcome.FAILED, error=reason, finished_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def by_ids(self, ids: Sequence[int]) -> list[Deployment]:
        return list(await self.session.scalars(select(Deployment).where(Deployment.id.in_(ids))))
