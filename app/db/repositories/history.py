"""Per-app-environment history (deployments, transitions), newest first, paged for many parents at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.db.models import Deployment, Transition

Row = TypeVar("Row", Deployment, Transition)


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
