"""Serialises operations per app environment, across tasks and server processes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.models import OperationLease
from app.db.repositories.leases import LeaseRepository
from app.db.retry import retrying_deadlocks
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


@dataclass(frozen=True)
class HeldLeases:
    holder: str
    acquired: frozenset[int]
    refused: dict[int, HiberniaError]


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
        """Holds the lease for the block, or raises OPERATION_IN_PROGRESS at once."""
        async with self.hold_many({app_environment_id: target}, operation=operation, actor=actor) as held:
            if app_environment_id in held.refused:
                raise held.refused[app_environment_id]
            yield held.holder

    @asynccontextmanager
    async def hold_many(self, targets: Mapping[int, str], *, operation: str, actor: str) -> AsyncIterator[HeldLeases]:
        """Holds the free leases among `targets` (id -> label) for the block; the others are refused.

        One statement acquires them all and one releases them, each committed on its own so other
        processes see the leases at once; one heartbeat keeps them all. A holder that dies leaves
        leases that expire after `lease_seconds` and can then be taken over.
        """
        holder = uuid.uuid4().hex
        now = self.clock()

        async def acquire() -> tuple[set[int], dict[int, OperationLease]]:
            async with self.session_factory() as session, session.begin():
                repository = LeaseRepository(session)
                acquired = await repository.try_acquire(
                    list(targets),
                    holder=holder,
                    operation=operation,
                    actor=actor,
                    now=now,
                    expires_at=now + timedelta(seconds=self.lease_seconds),
                )
                busy = [i for i in targets if i not in acquired]
                return acquired, (await repository.current(busy) if busy else {})

        acquired, current = await retrying_deadlocks(acquire, "taking leases")
        busy = [i for i in targets if i not in acquired]
        refused: dict[int, HiberniaError] = {}
        for i in busy:
            lease = current.get(i)
            if self.on_conflict is not None:
                self.on_conflict()
            refused[i] = OperationInProgress(
                targets[i],
                lease.operation if lease else None,
                lease.actor if lease else None,
                lease.acquired_at if lease else None,
            )
        if not acquired:
            yield HeldLeases(holder, frozenset(), refused)
            return
        label = next(iter(targets.values())) if len(targets) == 1 else f"{len(acquired)} app environments"
        heartbeat = asyncio.create_task(self._renew(holder, len(acquired), label), name="lease-heartbeat")
        try:
            yield HeldLeases(holder, frozenset(acquired), refused)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            async with self.session_factory() as session, session.begin():
                await LeaseRepository(session).release(holder=holder)

    async def _renew(self, holder: str, count: int, target: str) -> None:
        """Keeps the leases while the operation runs, however slow the cluster is.

        A lease lost to a takeover (this server stalled past its expiry) is logged; the others are
        still renewed, so one stall never frees every app of a bulk operation.
        """
        held = count
        while held > 0:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                async with self.session_factory() as session, session.begin():
                    kept = await LeaseRepository(session).renew(
                        holder=holder, expires_at=self.clock() + timedelta(seconds=self.lease_seconds)
                    )
            except Exception:  # a database blip: try again at the next beat, the lease has time left
                logger.warning("could not renew the lease on %s", target, exc_info=True)
                continue
            if kept < held:
                logger.error(
                    "lost %d of the leases on %s: this server stalled past HIBERNIA_LEASE_SECONDS", held - kept, target
                )
                held = kept
