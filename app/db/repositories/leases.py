"""The operation lease: one row per app environment, taken with one conditional UPDATE."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.ids import one_of
from app.db.models import OperationLease


class LeaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def try_acquire(
        self,
        app_environment_ids: Collection[int],
        *,
        holder: str,
        operation: str,
        actor: str,
        now: datetime,
        expires_at: datetime,
    ) -> set[int]:
        """Takes each lease that is free or expired, in one statement; returns the ids taken.

        Atomic per row on SQLite and PostgreSQL alike: of two callers racing for one lease, exactly
        one gets it back.
        """
        result = await self.session.execute(
            update(OperationLease)
            .where(
                one_of(self.session, OperationLease.app_environment_id, app_environment_ids),
                or_(OperationLease.holder.is_(None), OperationLease.expires_at < now),
            )
            .values(holder=holder, operation=operation, actor=actor, acquired_at=now, expires_at=expires_at)
            .returning(OperationLease.app_environment_id)
            .execution_options(synchronize_session=False)
        )
        return set(result.scalars())

    async def renew(self, *, holder: str, expires_at: datetime) -> int:
        """Extends every lease still held by `holder`; returns how many it still holds."""
        result = await self.session.execute(
            update(OperationLease)
            .where(OperationLease.holder == holder)
            .values(expires_at=expires_at)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def current(self, app_environment_ids: Collection[int]) -> dict[int, OperationLease]:
        rows = await self.session.scalars(
            select(OperationLease).where(one_of(self.session, OperationLease.app_environment_id, app_environment_ids))
        )
        return {row.app_environment_id: row for row in rows}

    async def release(self, *, holder: str) -> None:
        await self.session.execute(
            update(OperationLease)
            .where(OperationLease.holder == holder)
            .values(holder=None, operation=None, actor=None, acquired_at=None, expires_at=None)
            .execution_options(synchronize_session=False)
        )
