"""Deployment records: created RUNNING before the cluster is touched, always finished."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Deployment, DeploymentOutcome, OperationLease

_UNSETTLED = (DeploymentOutcome.RUNNING, DeploymentOutcome.UNCONFIRMED)


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
        self,
        app_environment_ids: Sequence[int],
        *,
        image: str,
        on_hibernated: str,
        actor: str,
        at: datetime,
        rolled_back_from_id: int | None = None,
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
                "rolled_back_from_id": rolled_back_from_id,
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

    async def succeeded(self, app_environment_id: int, *, limit: int) -> list[Deployment]:
        """The app environment's successful deployments, newest first."""
        return list(
            await self.session.scalars(
                select(Deployment)
                .where(
                    Deployment.app_environment_id == app_environment_id,
                    Deployment.outcome == DeploymentOutcome.SUCCEEDED,
                )
                .order_by(Deployment.id.desc())
                .limit(limit)
            )
        )

    async def get(self, deployment_id: int) -> Deployment | None:
        return await self.session.get(Deployment, deployment_id)

    async def unsettled(self, app_environment_id: int) -> list[Deployment]:
        """Deployments of one app environment that never got an outcome (RUNNING, UNCONFIRMED)."""
        return list(
            await self.session.scalars(
                select(Deployment)
                .where(Deployment.app_environment_id == app_environment_id, Deployment.outcome.in_(_UNSETTLED))
                .order_by(Deployment.id)
            )
        )

    async def unsettled_without_lease(self, limit: int) -> list[tuple[int, str]]:
        """(app environment, actor) of deployments without an outcome that no lease protects: what an
        operation left behind without leaving its lease to settle."""
        query = (
            select(Deployment.app_environment_id, Deployment.actor)
            .join(OperationLease, OperationLease.app_environment_id == Deployment.app_environment_id)
            .where(Deployment.outcome.in_(_UNSETTLED), OperationLease.holder.is_(None))
            .distinct()
            .limit(limit)
        )
        return [(row[0], row[1]) for row in await self.session.execute(query)]

    async def by_ids(self, ids: Sequence[int]) -> list[Deployment]:
        return list(await self.session.scalars(select(Deployment).where(Deployment.id.in_(ids))))
