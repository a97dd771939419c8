"""Deployment records: created RUNNING before the cluster is touched, always finished."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.ids import one_of
from app.db.models import Deployment, DeploymentOutcome, OperationLease

INTERRUPTED = "Interrupted: the server running this deploy stopped before it finished. Deploy again."


@dataclass(frozen=True, slots=True)
class Finished:
    deployment: Deployment
    outcome: DeploymentOutcome
    error: str | None
    at: datetime


class DeploymentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def start(
        self, app_environment_ids: Sequence[int], *, image: str, on_hibernated: str, actor: str, at: datetime
    ) -> list[Deployment]:
        """One RUNNING deployment per app environment (each once), in one INSERT; returned in the order given.

        Matched back by app environment rather than asking for RETURNING in parameter order, which
        SQLite can only give one row per statement.
        """
        if not app_environment_ids:
            return []
        rows = [
            {
                "app_environment_id": i,
                "image": image,
                "on_hibernated": on_hibernated,
                "outcome": DeploymentOutcome.RUNNING,
                "actor": actor,
                "started_at": at,
            }
            for i in app_environment_ids
        ]
        created = await self.session.scalars(insert(Deployment).returning(Deployment), rows)
        by_target = {d.app_environment_id: d for d in created}
        return [by_target[i] for i in app_environment_ids]

    async def finish(self, outcomes: Sequence[Finished]) -> None:
        """Ends deployments with their outcomes, in one statement; the objects given are updated too."""
        if not outcomes:
            return
        outcomes = sorted(outcomes, key=lambda f: f.deployment.id)  # rows locked in one order
        await self.session.execute(
            update(Deployment),
            [{"id": f.deployment.id, "outcome": f.outcome, "error": f.error, "finished_at": f.at} for f in outcomes],
        )
        for f in outcomes:
            f.deployment.outcome, f.deployment.error, f.deployment.finished_at = f.outcome, f.error, f.at

    async def fail_interrupted(self, app_environment_ids: Sequence[int] | None, *, at: datetime, reason: str) -> int:
        """Ends RUNNING deployments whose server died; call only while no deploy can be running there."""
        query = update(Deployment).where(Deployment.outcome == DeploymentOutcome.RUNNING)
        if app_environment_ids is not None:
            query = query.where(one_of(self.session, Deployment.app_environment_id, app_environment_ids))
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
