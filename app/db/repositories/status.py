"""What status derivation needs from the database, and the recording of what was observed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager

from app.db.models import (
    App,
    AppEnvironment,
    Deployment,
    Environment,
    HibernationRecord,
    Transition,
    TransitionCause,
)
from app.domain.status import AppStatus


@dataclass(frozen=True, slots=True)
class Observation:
    app_environment_id: int
    previous: AppStatus
    status: AppStatus
    reason: str
    previous_reason: str = ""


class StatusRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def targets(self, ids: Sequence[int]) -> list[AppEnvironment]:
        """App environments with their app, environment and cluster, in one statement."""
        query = (
            select(AppEnvironment)
            .join(AppEnvironment.app)
            .join(AppEnvironment.environment)
            .join(Environment.cluster)
            .options(
                contains_eager(AppEnvironment.app),
                contains_eager(AppEnvironment.environment).contains_eager(Environment.cluster),
            )
            .where(AppEnvironment.id.in_(ids))
        )
        return list(await self.session.scalars(query))

    async def target_ids_in(self, environment_id: int, app_names: Sequence[str] | None) -> list[int]:
        query = select(AppEnvironment.id).where(AppEnvironment.environment_id == environment_id)
        if app_names is not None:
            query = query.join(AppEnvironment.app).where(App.name.in_(app_names))
        return list(await self.session.scalars(query.order_by(AppEnvironment.id)))

    async def all_target_ids(self) -> list[int]:
        """Every app environment, grouped by environment so a batch shares namespaces."""
        query = select(AppEnvironment.id).order_by(AppEnvironment.environment_id, AppEnvironment.id)
        return list(await self.session.scalars(query))

    async def hibernation_records(self, ids: Sequence[int]) -> dict[int, list[HibernationRecord]]:
        rows = await self.session.scalars(
            select(HibernationRecord).where(HibernationRecord.app_environment_id.in_(ids))
        )
        grouped: dict[int, list[HibernationRecord]] = {}
        for row in rows:
            grouped.setdefault(row.app_environment_id, []).append(row)
        return grouped

    async def last_deploys(self, ids: Sequence[int]) -> dict[int, datetime]:
        query = (
            select(Deployment.app_environment_id, func.max(Deployment.started_at))
            .where(Deployment.app_environment_id.in_(ids))
            .group_by(Deployment.app_environment_id)
        )
        return {row[0]: _aware(row[1]) for row in await self.session.execute(query)}

    async def last_wakes(self, ids: Sequence[int]) -> dict[int, datetime]:
        query = (
            select(Transition.app_environment_id, func.max(Transition.at))
            .where(Transition.app_environment_id.in_(ids), Transition.cause == TransitionCause.UNHIBERNATE)
            .group_by(Transition.app_environment_id)
        )
        return {row[0]: _aware(row[1]) for row in await self.session.execute(query)}

    async def record(
        self, observations: Sequence[Observation], *, cause: TransitionCause, actor: str, at: datetime
    ) -> list[Observation]:
        """Stores what was observed; returns the observations that changed a recorded status.

        A change is written with a conditional UPDATE on the previous status, so two observers
        racing never both write a transition for the same change.
        """
        changed: list[Observation] = []
        unchanged_ids: list[int] = []
        for observation in observations:
            if observation.status is observation.previous:
                if observation.reason != observation.previous_reason:
                    await self.session.execute(
                        update(AppEnvironment)
                        .where(AppEnvironment.id == observation.app_environment_id)
                        .values(status_reason=observation.reason, status_observed_at=at)
                        .execution_options(synchronize_session=False)
                    )
                else:
                    unchanged_ids.append(observation.app_environment_id)
                continue
            result = await self.session.execute(
                update(AppEnvironment)
                .where(
                    AppEnvironment.id == observation.app_environment_id,
                    AppEnvironment.status == observation.previous,
                )
                .values(
                    status=observation.status,
                    status_reason=observation.reason,
                    status_since=at,
                    status_observed_at=at,
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                changed.append(observation)
        if changed:
            self.session.add_all(
                Transition(
                    app_environment_id=o.app_environment_id,
                    from_status=o.previous,
                    to_status=o.status,
                    cause=cause,
                    reason=o.reason,
                    actor=actor,
                    at=at,
                )
                for o in changed
            )
        if unchanged_ids:
            await self.session.execute(
                update(AppEnvironment)
                .where(AppEnvironment.id.in_(unchanged_ids))
                .values(status_observed_at=at)
                .execution_options(synchronize_session=False)
            )
        await self.session.flush()
        return changed


def _aware(value: datetime | str) -> datetime:
    # Aggregates bypass the column type's result processing on SQLite.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
