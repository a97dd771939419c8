"""Serialises operations per app environment, across tasks and server processes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.repositories.leases import LeaseRepository
from app.db.types import utcnow
from app.domain.errors import ErrorCode, HiberniaError

logger = logging.getLogger("hibernia.leases")


class OperationInProgress(HiberniaError):
    def __init__(self, target: str, operation: str | None, actor: str | None, since: datetime | None) -> None:
        started = f" since {since:%H:%M:%S} UTC" if since else ""
        super().__init__(
            ErrorCode.OPERATION_IN_PROGRESS,
            f"{target} is busy: {operation or 'an operation'} by {actor or 'someone'} is running{started}. "
            "Retry when it has finished.",
        )


class LeaseManager:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        lease_seconds: float,
        clock: Callable[[], datetime] = utcnow,
        on_conflict: Callable[[], None] | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.lease_seconds = lease_seconds
        self.clock = clock
        self.on_conflict = on_conflict

    @asynccontextmanager
    async def hold(self, app_environment_id: int, *, target: str, operation: str, actor: str) -> AsyncIterator[str]:
        """Holds the lease for the block, or raises OPERATION_IN_PROGRESS at once.

        Acquire and release commit on their own, so other processes see the lease immediately. A
        holder that dies leaves a lease that expires after `lease_seconds` and can then be taken over.
        """
        holder = uuid.uuid4().hex
        now = self.clock()
        async with self.session_factory() as session, session.begin():
            repository = LeaseRepository(session)
            acquired = await repository.try_acquire(
                app_environment_id,
                holder=holder,
                operation=operation,
                actor=actor,
                now=now,
                expires_at=now + timedelta(seconds=self.lease_seconds),
            )
            current = None if acquired else await repository.current(app_environment_id)
        if not acquired:
            if self.on_conflict is not None:
                self.on_conflict()
            raise OperationInProgress(
                target,
                current.operation if current else None,
                current.actor if current else None,
                current.acquired_at if current else None,
            )
        heartbeat = asyncio.create_task(self._renew(app_environment_id, holder, target), name="lease-heartbeat")
        try:
            yield holder
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            async with self.session_factory() as session, session.begin():
                await LeaseRepository(session).release(app_environment_id, holder=holder)

    async def _renew(self, app_environment_id: int, holder: str, target: str) -> None:
        """Keeps the lease while the operation runs, however slow the cluster is."""
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                async with self.session_factory() as session, session.begin():
                    kept = await LeaseRepository(session).renew(
                        app_environment_id,
                        holder=holder,
                        expires_at=self.clock() + timedelta(seconds=self.lease_seconds),
                    )
            except Exception:  # a database blip: try again at the next beat, the lease has time left
                logger.warning("could not renew the lease on %s", target, exc_info=True)
                continue
            if not kept:
                logger.error("lost the lease on %s: this server stalled past HIBERNIA_LEASE_SECONDS", target)
                return
