"""List use cases: pages of apps and app environments, filtered by recorded status in SQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.db.models import App, AppEnvironment
from app.db.pagination import Page, PageRequest, SortDirection, parse_key_value
from app.db.repositories.listing import (
    APP_ENVIRONMENT_ORDER_COLUMNS,
    APP_ORDER_COLUMNS,
    AppEnvironmentOrderField,
    AppOrderField,
    ListFilter,
    ListingRepository,
)
from app.domain.errors import InvalidInput
from app.domain.status import AppStatus

MAX_FILTER_VALUES = 500


def validate_filter(filter_: ListFilter) -> ListFilter:
    for name in ("teams", "environments", "statuses"):
        values = getattr(filter_, name)
        if values is not None and len(values) > MAX_FILTER_VALUES:
            raise InvalidInput(f"`filter.{name}` lists more than {MAX_FILTER_VALUES} values.", field=name)
    if filter_.search is not None and len(filter_.search) > 253:
        raise InvalidInput("`filter.search` is longer than 253 characters.", field="search")
    return filter_


def _typed_request(request: PageRequest, columns: tuple[InstrumentedAttribute[Any], ...]) -> PageRequest:
    if request.after is None:
        return request
    try:
        if len(request.after) != len(columns):
            raise ValueError("cursor length")
        key = tuple(parse_key_value(c, v) for c, v in zip(columns, request.after, strict=True))
    except (ValueError, TypeError):
        raise InvalidInput(
            "`after` is not a cursor this API issued; pass an `endCursor` from a previous page.",
            field="after",
        ) from None
    return PageRequest(first=request.first, after=key)


class ListingService:
    def __init__(self, session: AsyncSession) -> None:
        self.repository = ListingRepository(session)

    async def apps(
        self, filter_: ListFilter, order: AppOrderField, direction: SortDirection, request: PageRequest
    ) -> Page[App]:
        request = _typed_request(request, APP_ORDER_COLUMNS[order])
        return await self.repository.apps_page(validate_filter(filter_), order, direction, request)

    async def count_apps(self, filter_: ListFilter) -> int:
        return await self.repository.apps_count(filter_)

    async def app_environments(
        self,
        filter_: ListFilter,
        order: AppEnvironmentOrderField,
        direction: SortDirection,
        request: PageRequest,
    ) -> Page[AppEnvironment]:
        request = _typed_request(request, APP_ENVIRONMENT_ORDER_COLUMNS[order])
        return await self.repository.app_environments_page(validate_filter(filter_), order, direction, request)

    async def teams(self, scope: frozenset[str] | None) -> list[str]:
        return await self.repository.teams(scope)

    async def status_counts(self, filter_: ListFilter) -> dict[AppStatus, int]:
        """How many app environments have each status (zero included), under the filter less its statuses."""
        return await self.repository.app_environments_status_counts(validate_filter(filter_))

    async def count_app_environments(self, filter_: ListFilter) -> int:
        return await self.repository.app_environments_count(filter_)
