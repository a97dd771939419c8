"""Schedules, the app environments they cover, and the holds manual operations leave on them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager

from app.db.models import App, AppEnvironment, Environment, Schedule, ScheduleHold
from app.db.pagination import Page, PageRequest, SortDirection, build_page, paginate
from app.domain.status import AppStatus

SelectT = TypeVar("SelectT", bound=Select[Any])


@dataclass(frozen=True, slots=True)
class Member:
    """An app environment in an environment some schedule covers, as a tick needs it."""

    id: int
    environment_id: int
    app: str
    team: str
    status: AppStatus
    hold_awake: bool | None
    hold_until: datetime | None


def _member(row: Any) -> Member:
    return Member(*row)


class ScheduleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @staticmethod
    def _with_environment() -> Select[Any]:
        return select(Schedule).join(Schedule.environment).options(contains_eager(Schedule.environment))

    async def by_name(self, name: str) -> Schedule | None:
        found: Schedule | None = await self.session.scalar(self._with_environment().where(Schedule.name == name))
        return found

    async def in_environment(self, environment_id: int) -> list[Schedule]:
        query = self._with_environment().where(Schedule.environment_id == environment_id).order_by(Schedule.name)
        return list(await self.session.scalars(query))

    async def every(self) -> list[Schedule]:
        return list(await self.session.scalars(self._with_environment().order_by(Schedule.name)))

    async def page(
        self, environments: Sequence[str] | None, visible: Sequence[str] | None, request: PageRequest
    ) -> Page[Schedule]:
        query = self._filtered(self._with_environment(), environments, visible)
        rows = list(await self.session.scalars(paginate(query, [Schedule.name], SortDirection.ASC, request)))
        return build_page(rows, [(row.name,) for row in rows], request)

    async def count(self, environments: Sequence[str] | None, visible: Sequence[str] | None) -> int:
        query = self._filtered(select(func.count(Schedule.id)).join(Schedule.environment), environments, visible)
        return int(await self.session.scalar(query) or 0)

    @staticmethod
    def _filtered(query: SelectT, environments: Sequence[str] | None, visible: Sequence[str] | None) -> SelectT:
        if environments is not None:
            query = query.where(Environment.name.in_(environments))
        if visible is not None:
            query = query.where(Environment.name.in_(visible))
        return query

    async def add(self, row: Schedule) -> None:
        self.session.add(row)
        await self.session.flush()

    async def delete(self, row: Schedule) -> None:
        await self.session.delete(row)
        await self.session.flush()

    async def teams_of(self, app_names: Sequence[str]) -> dict[str, str]:
        if not app_names:
            return {}
        rows = await self.session.execute(select(App.name, App.team).where(App.name.in_(app_names)))
        return {name: team for name, team in rows}

    async def members(self, environment_ids: Sequence[int]) -> list[Member]:
        """Every app environment of these environments with its app, status and hold: one statement."""
        if not environment_ids:
            return []
        query = self._members().where(AppEnvironment.environment_id.in_(environment_ids)).order_by(App.name)
        return [_member(row) for row in await self.session.execute(query)]

    async def members_by_ids(self, app_environment_ids: Sequence[int]) -> list[Member]:
        if not app_environment_ids:
            return []
        query = self._members().where(AppEnvironment.id.in_(app_environment_ids))
        return [_member(row) for row in await self.session.execute(query)]

    async def in_environments(self, environment_ids: Sequence[int]) -> list[Schedule]:
        query = self._with_environment().where(Schedule.environment_id.in_(environment_ids)).order_by(Schedule.name)
        return list(await self.session.scalars(query))

    @staticmethod
    def _members() -> Select[*tuple[Any, ...]]:
        return (
            select(
                AppEnvironment.id,
                AppEnvironment.environment_id,
                App.name,
                App.team,
                AppEnvironment.status,
                ScheduleHold.awake,
                ScheduleHold.until,
            )
            .join(App, App.id == AppEnvironment.app_id)
            .outerjoin(ScheduleHold, ScheduleHold.app_environment_id == AppEnvironment.id)
        )

    async def attachments(self, environment_id: int) -> list[AppEnvironment]:
        """The app environments of one environment with their app and environment loaded, by app name."""
        query = (
            select(AppEnvironment)
            .join(AppEnvironment.app)
            .join(AppEnvironment.environment)
            .options(contains_eager(AppEnvironment.app), contains_eager(AppEnvironment.environment))
            .where(AppEnvironment.environment_id == environment_id)
            .order_by(App.name)
        )
        return list(await self.session.scalars(query))

    async def failed(self, schedule_ids: Sequence[int], error: str, *, at: datetime, retry_at: datetime) -> None:
        await self.session.execute(
            update(Schedule)
            .where(Schedule.id.in_(schedule_ids))
            .values(last_error=error, last_error_at=at, failures=Schedule.failures + 1, retry_at=retry_at)
            .execution_options(synchronize_session=False)
        )

    async def succeeded(self, schedule_ids: Sequence[int]) -> None:
        await self.session.execute(
            update(Schedule)
            .where(Schedule.id.in_(schedule_ids))
            .values(last_error=None, last_error_at=None, failures=0, retry_at=None)
            .execution_options(synchronize_session=False)
        )

    # -- holds ---------------------------------------------------------------------------------------

    async def hold(self, app_environment_id: int, *, awake: bool, until: datetime, actor: str, explicit: bool) -> None:
        dialect = self.session.bind.dialect.name if self.session.bind is not None else "sqlite"
        insert = postgres_insert if dialect == "postgresql" else sqlite_insert
        values = {"awake": awake, "until": until, "actor": actor, "explicit": explicit}
        statement = insert(ScheduleHold).values(app_environment_id=app_environment_id, **values)
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=[ScheduleHold.app_environment_id], set_=values)
        )

    async def release(self, app_environment_id: int) -> None:
        await self.session.execute(delete(ScheduleHold).where(ScheduleHold.app_environment_id == app_environment_id))

    async def holds(self, app_environment_ids: Sequence[int]) -> dict[int, ScheduleHold]:
        if not app_environment_ids:
            return {}
        rows = await self.session.scalars(
            select(ScheduleHold).where(ScheduleHold.app_environment_id.in_(app_environment_ids))
        )
        return {row.app_environment_id: row for row in rows}
