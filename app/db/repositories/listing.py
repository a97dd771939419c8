"""The list queries behind `apps` and `appEnvironments`: every filter runs in SQL, before pagination."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, contains_eager

from app.db.models import App, AppEnvironment, Environment
from app.db.pagination import Page, PageRequest, SortDirection, build_page, key_value, paginate
from app.domain.status import AppStatus


@dataclass(frozen=True, slots=True)
class ListFilter:
    search: str | None = None
    teams: Sequence[str] | None = None
    environments: Sequence[str] | None = None
    statuses: Sequence[AppStatus] | None = None
    # The environments the caller may see (None: all); applied like `environments`, silently.
    scope: frozenset[str] | None = None


class AppOrderField(StrEnum):
    NAME = "NAME"
    TEAM = "TEAM"
    CREATED_AT = "CREATED_AT"


class AppEnvironmentOrderField(StrEnum):
    APP_NAME = "APP_NAME"
    ENVIRONMENT_NAME = "ENVIRONMENT_NAME"
    STATUS_SINCE = "STATUS_SINCE"


# Each ordering ends with a unique column so the cursor names exactly one row.
APP_ORDER_COLUMNS: dict[AppOrderField, tuple[InstrumentedAttribute[Any], ...]] = {
    AppOrderField.NAME: (App.name,),
    AppOrderField.TEAM: (App.team, App.name),
    AppOrderField.CREATED_AT: (App.created_at, App.id),
}
APP_ENVIRONMENT_ORDER_COLUMNS: dict[AppEnvironmentOrderField, tuple[InstrumentedAttribute[Any], ...]] = {
    AppEnvironmentOrderField.APP_NAME: (App.name, Environment.name),
    AppEnvironmentOrderField.ENVIRONMENT_NAME: (Environment.name, App.name),
    AppEnvironmentOrderField.STATUS_SINCE: (AppEnvironment.status_since, AppEnvironment.id),
}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _app_conditions(filter_: ListFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [App.archived_at.is_(None)]
    if filter_.search:
        pattern = f"%{_escape_like(filter_.search.strip())}%"
        conditions.append(or_(App.name.ilike(pattern, escape="\\"), App.team.ilike(pattern, escape="\\")))
    if filter_.teams is not None:
        conditions.append(App.team.in_(filter_.teams))
    return conditions


def _attachment_conditions(filter_: ListFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filter_.environments is not None:
        conditions.append(
            AppEnvironment.environment_id.in_(
                select(Environment.id).where(Environment.name.in_(filter_.environments)).scalar_subquery()
            )
        )
    if filter_.scope is not None:
        conditions.append(
            AppEnvironment.environment_id.in_(
                select(Environment.id).where(Environment.name.in_(sorted(filter_.scope))).scalar_subquery()
            )
        )
    if filter_.statuses is not None:
        conditions.append(AppEnvironment.status.in_(filter_.statuses))
    if conditions:  # detached attachments match nothing (without conditions, any app matches)
        conditions.append(AppEnvironment.archived_at.is_(None))
    return conditions


class ListingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- apps ---------------------------------------------------------------------------------------

    def _apps_query(self, filter_: ListFilter) -> Select[Any]:
        query = select(App).where(*_app_conditions(filter_))
        attachment = _attachment_conditions(filter_)
        if attachment:
            # An app matches when one of its attachments (within the environment filter) matches.
            query = query.where(exists().where(AppEnvironment.app_id == App.id, *attachment))
        return query

    async def apps_page(
        self, filter_: ListFilter, order: AppOrderField, direction: SortDirection, request: PageRequest
    ) -> Page[App]:
        columns = APP_ORDER_COLUMNS[order]
        rows = list(await self.session.scalars(paginate(self._apps_query(filter_), columns, direction, request)))
        keys = [tuple(key_value(getattr(row, c.key)) for c in columns) for row in rows]
        return build_page(rows, keys, request)

    async def apps_count(self, filter_: ListFilter) -> int:
        query = select(func.count()).select_from(self._apps_query(filter_).subquery())
        return int(await self.session.scalar(query) or 0)

    async def teams(self, scope: frozenset[str] | None) -> list[str]:
        """Every team owning an app, by name; within `scope`, those with an app attached to one of its environments."""
        query = select(App.team).distinct().where(App.archived_at.is_(None)).order_by(App.team)
        if scope is not None:
            query = query.where(
                exists().where(AppEnvironment.app_id == App.id, *_attachment_conditions(ListFilter(scope=scope)))
            )
        return list(await self.session.scalars(query))

    # -- app environments ---------------------------------------------------------------------------

    def _app_environments_query(self, filter_: ListFilter) -> Select[Any]:
        return (
            select(AppEnvironment)
            .join(AppEnvironment.app)
            .join(AppEnvironment.environment)
            .where(*_app_conditions(filter_), *_attachment_conditions(filter_), AppEnvironment.archived_at.is_(None))
        )

    async def app_environments_page(
        self,
        filter_: ListFilter,
        order: AppEnvironmentOrderField,
        direction: SortDirection,
        request: PageRequest,
    ) -> Page[AppEnvironment]:
        columns = APP_ENVIRONMENT_ORDER_COLUMNS[order]
        query = paginate(self._app_environments_query(filter_), columns, direction, request).options(
            contains_eager(AppEnvironment.app), contains_eager(AppEnvironment.environment)
        )
        rows = list(await self.session.scalars(query))
        owners: dict[object, str | None] = {App: "app", Environment: "environment", AppEnvironment: None}
        keys = []
        for row in rows:
            key = []
            for column in columns:
                owner = owners[column.class_]
                source = getattr(row, owner) if owner else row
                key.append(key_value(getattr(source, column.key)))
            keys.append(tuple(key))
        return build_page(rows, keys, request)

    async def app_environments_status_counts(self, filter_: ListFilter) -> dict[AppStatus, int]:
        """Attachments per recorded status, for every part of the filter but `statuses`: one grouped query."""
        unfiltered_statuses = replace(filter_, statuses=None)
        query = (
            select(AppEnvironment.status, func.count(AppEnvironment.id))
            .join(AppEnvironment.app)
            .join(AppEnvironment.environment)
            .where(
                *_app_conditions(unfiltered_statuses),
                *_attachment_conditions(unfiltered_statuses),
                AppEnvironment.archived_at.is_(None),
            )
            .group_by(AppEnvironment.status)
        )
        counted = {AppStatus(status): int(count) for status, count in await self.session.execute(query)}
        return {status: counted.get(status, 0) for status in AppStatus}

    async def app_environments_count(self, filter_: ListFilter) -> int:
        query = (
            select(func.count(AppEnvironment.id))
            .join(AppEnvironment.app)
            .join(AppEnvironment.environment)
            .where(*_app_conditions(filter_), *_attachment_conditions(filter_), AppEnvironment.archived_at.is_(None))
        )
        return int(await self.session.scalar(query) or 0)
