"""Per-app-environment history (deployments, transitions), newest first, paged for many parents at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.db.ids import one_of
from app.db.models import App, AppEnvironment, Deployment, Environment, Transition

Row = TypeVar("Row", Deployment, Transition)


@dataclass(frozen=True, slots=True)
class Where:
    """Which app environments a feed of transitions covers (None: no limit on that part)."""

    environments: frozenset[str] | None = None
    apps: frozenset[str] | None = None
    teams: frozenset[str] | None = None
    # The environments a token is limited to (None: every environment).
    scope: frozenset[str] | None = None

    def admits(self, app: App, environment: Environment) -> bool:
        return (
            (self.environments is None or environment.name in self.environments)
            and (self.apps is None or app.name in self.apps)
            and (self.teams is None or app.team in self.teams)
            and (self.scope is None or environment.name in self.scope)
        )


TransitionWithTarget = tuple[Transition, AppEnvironment, App, Environment]
_WITH_TARGETS = (
    select(Transition, AppEnvironment, App, Environment)
    .join(AppEnvironment, AppEnvironment.id == Transition.app_environment_id)
    .join(App, App.id == AppEnvironment.app_id)
    .join(Environment, Environment.id == AppEnvironment.environment_id)
)


class HistoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def newest_first(
        self, model: type[Row], parent_ids: Sequence[int], *, first: int, before_id: int | None
    ) -> dict[int, list[Row]]:
        """Up to `first + 1` rows per parent (the extra one tells that a next page exists), one statement."""
        rank = func.row_number().over(partition_by=model.app_environment_id, order_by=model.id.desc()).label("rank")
        inner = select(model, rank).where(model.app_environment_id.in_(parent_ids))
        if before_id is not None:
            inner = inner.where(model.id < before_id)
        subquery = inner.subquery()
        row_alias: Any = aliased(model, subquery)
        query = (
            select(row_alias)
            .where(subquery.c.rank <= first + 1)
            .order_by(subquery.c.app_environment_id, subquery.c.id.desc())
        )
        grouped: dict[int, list[Row]] = {i: [] for i in parent_ids}
        for row in await self.session.scalars(query):
            grouped[row.app_environment_id].append(row)
        return grouped

    async def counts(self, model: type[Row], parent_ids: Sequence[int]) -> dict[int, int]:
        query = (
            select(model.app_environment_id, func.count())
            .where(model.app_environment_id.in_(parent_ids))
            .group_by(model.app_environment_id)
        )
        found = {parent: int(count) for parent, count in await self.session.execute(query)}
        return {i: found.get(i, 0) for i in parent_ids}

    async def transitions_by_ids(self, ids: Sequence[int]) -> list[TransitionWithTarget]:
        """Transitions with where they happened, in id order."""
        query = _WITH_TARGETS.where(one_of(self.session, Transition.id, ids)).order_by(Transition.id)
        return [(t, ae, a, e) for t, ae, a, e in await self.session.execute(query)]

    async def transitions_since(self, since: datetime, where: Where, *, limit: int) -> list[TransitionWithTarget]:
        """Transitions at or after `since` within `where`, oldest first, at most `limit`."""
        query = _WITH_TARGETS.where(Transition.at >= since)
        for column, values in (
            (Environment.name, where.environments),
            (App.name, where.apps),
            (App.team, where.teams),
            (Environment.name, where.scope),
        ):
            if values is not None:
                query = query.where(column.in_(sorted(values)))
        query = query.order_by(Transition.at, Transition.id).limit(limit)
        return [(t, ae, a, e) for t, ae, a, e in await self.session.execute(query)]


@dataclass(frozen=True, slots=True)
class FeedFilter:
    """Which rows of the audit feed to return (None: no limit on that part)."""

    environments: Sequence[str] | None = None
    apps: Sequence[str] | None = None
    actors: Sequence[str] | None = None
    causes: Sequence[str] | None = None  # transitions only
    outcomes: Sequence[str] | None = None  # deployments only
    since: datetime | None = None
    until: datetime | None = None
    # The environments a token is limited to (None: every environment).
    scope: frozenset[str] | None = None


class FeedRepository:
    """Transitions and deployments across app environments, newest first, keyset-paged by id."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(
        self, model: type[Row], where: FeedFilter, *, first: int, before_id: int | None
    ) -> list[tuple[Row, AppEnvironment, App, Environment]]:
        """Up to `first + 1` rows (the extra one tells that a next page exists), with where they happened."""
        query = self._narrowed(select(model, AppEnvironment, App, Environment), model, where)
        if before_id is not None:
            query = query.where(model.id < before_id)
        query = query.order_by(model.id.desc()).limit(first + 1)
        return [(row, ae, app, env) for row, ae, app, env in await self.session.execute(query)]

    async def count(self, model: type[Row], where: FeedFilter) -> int:
        query = self._narrowed(select(func.count(model.id)), model, where)
        return int((await self.session.execute(query)).scalar_one())

    @staticmethod
    def _narrowed(query: Any, model: type[Row], where: FeedFilter) -> Any:
        query = (
            query.select_from(model)
            .join(AppEnvironment, AppEnvironment.id == model.app_environment_id)
            .join(App, App.id == AppEnvironment.app_id)
            .join(Environment, Environment.id == AppEnvironment.environment_id)
        )
        at = Transition.at if model is Transition else Deployment.started_at
        for column, values in (
            (Environment.name, where.environments),
            (App.name, where.apps),
            (model.actor, where.actors),
            (Environment.name, None if where.scope is None else sorted(where.scope)),
            (Transition.cause if model is Transition else None, where.causes),
            (Deployment.outcome if model is Deployment else None, where.outcomes),
        ):
            if column is not None and values is not None:
                query = query.where(column.in_(list(values)))
        if where.since is not None:
            query = query.where(at >= where.since)
        if where.until is not None:
            query = query.where(at < where.until)
        return query
