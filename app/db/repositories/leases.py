"""The operation lease: one row per app environment, taken with one conditional UPDATE."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import OperationLease


class LeaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def try_acquire(
        self, app_environment_id: int, *, holder: str, operation: str, actor: str, now: datetime, expires_at: datetime
    ) -> bool:
        """Takes the lease when it is free or expired. Atomic on SQLite and PostgreSQL alike."""
        result = await self.session.execute(
            update(OperationLease)
            .where(
                OperationLease.app_environment_id == app_environment_id,
                or_(OperationLease.holder.is_(None), OperationLease.expires_at < now),
            )
            .values(holder=holder, operation=operation, actor=actor, acquired_at=now, expires_at=expires_at)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def renew(self, app_environment_id: int, *, holder: str, expires_at: datetime) -> bool:
        """Extends a lease still held by `holder`; False when it was lost (expired and taken over)."""
        result = await self.session.execute(
            update(OperationLease)
            .where(OperationLease.app_environment_id == app_environment_id, OperationLease.holder == holder)
            .values(expires_at=expires_at)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def current(self, app_environment_id: int) -> OperationLease | None:
        return await self.session.scalar(
            select(OperationLease).where(OperationLease.app_environment_id == app_environment_id)
        )

    async def release(self, app_environment_id: int, *, holder: str) -> None:
        await self.session.execute(
            update(OperationLease)
            .where(OperationLease.app_environment_id == app_environment_id, OperationLease.holder == holder)
            .values(holder=None, operation=None, actor=None, acquired_at=None, expires_at=None)
            .execution_options(synchronize_session=False)
        )
