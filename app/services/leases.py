"""Serialises operations per app environment, across tasks and server processes.

A lease is taken with one conditional UPDATE and dies with its server: servers heartbeat
(`app.services.presence`), and the leases of one that stopped are settled against the cluster by the
reconciler within seconds, then freed. Lease times are the database's clock. An operation whose end
is not known to be recorded (an exception, a cancellation, a lost answer, the database away) does
not free its leases: it leaves them to settle, so the reconciler records what the cluster shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.availability import is_unavailable
from app.db.repositories.leases import BusyLease, LeaseRepository
from app.db.retry import retrying_deadlocks
from app.db.types import utcnow
from app.domain.errors import ErrorCode, HiberniaError
from app.services.presence import ServerPresence

logger = logging.getLogger("hibernia.leases")

ANSWER_LOST = "the cluster's answer was lost"
INTERRUPTED = "the operation was interrupted"
DATABASE_AWAY = "the database did not answer"


class OperationInProgress(HiberniaError):
    def __init__(self, target: str, lease: BusyLease | None, *, now: datetime, server_timeout: float) -> None:
        super().__init__(ErrorCode.OPERATION_IN_PROGRESS, _busy_message(target, lease, now, server_timeout))


def _busy_message(target: str, lease: BusyLease | None, now: datetime, server_timeout: float) -> str:
    if lease is None:
        return f"{target} is busy: another operation holds it. Retry in a few seconds."
    what = f"{lease.operation or 'an operation'} by {lease.actor or 'someone'}"
    since = f" since {lease.acquired_at:%H:%M:%S} UTC" if lease.acquired_at else ""
    if lease.unsettled:
        return (
            f"{target} is busy: Hibernia is checking against the cluster what {what} left ({lease.unsettled}). "
            "Retry in a few seconds."
        )
    server = f" on server {lease.host} (pid {lease.pid})" if lease.host else ""
    takeover = [t for t in (lease.expires_at,) if t is not None]
    if lease.heartbeat_at is not None:
        takeover.append(lease.heartbeat_at + timedelta(seconds=server_timeout))
    when = min(takeover) if takeover else None
    if when is not None and when <= now:
        return (
            f"{target} is busy: {what}{server} stopped{since}; Hibernia is settling what it left. "
            "Retry in a few seconds."
        )
    after = f" If that server stopped, the lease is taken over by {when:%H:%M:%S} UTC." if when else ""
    return f"{target} is busy: {what} is running{server}{since}. Retry when it has finished.{after}"


@dataclass
class HeldLeases:
    holder: str
    acquired: frozenset[int]
    refused: dict[int, HiberniaError]
    # Leases not to free at the end, and why: the reconciler settles them against the cluster.
    to_settle: dict[int, str] = field(default_factory=dict)

    def reconcile_later(self, ids: Collection[int] | None = None, *, why: str = ANSWER_LOST) -> None:
        """Leave these leases (all by default) to the reconciler instead of freeing them."""
        for i in self.acquired if ids is None else ids:
            if i in self.acquired:
                self.to_settle.setdefault(i, why)


class LeaseManager:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        lease_seconds: float,
        clock: Callable[[], datetime] | None = None,
        on_conflict: Callable[[], None] | None = None,
        presence: ServerPresence | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.lease_seconds = lease_seconds
        self.presence = presence
        self.clock = clock or (presence.now if presence is not None else utcnow)
        self.on_conflict = on_conflict
        self._endings: set[asyncio.Task[None]] = set()  # ends that wait for the database

    @property
    def server_id(self) -> str | None:
        return self.presence.id if self.presence is not None else None

    @property
    def server_timeout(self) -> float:
        return self.presence.timeout_seconds if self.presence is not None else self.lease_seconds

    @asynccontextmanager
    async def hold(
        self, app_environment_id: int, *, target: str, operation: str, actor: str
    ) -> AsyncIterator[HeldLeases]:
        """Holds the lease for the block, or raises OPERATION_IN_PROGRESS at once."""
        async with self.hold_many({app_environment_id: target}, operation=operation, actor=actor) as held:
            if app_environment_id in held.refused:
                raise held.refused[app_environment_id]
            yield held

    @asynccontextmanager
    async def hold_many(self, targets: Mapping[int, str], *, operation: str, actor: str) -> AsyncIterator[HeldLeases]:
        """Holds the free leases among `targets` (id -> label) for the block; the others are refused.

        One statement acquires them all and one ends them, each committed on its own so other
        processes see the leases at once; one heartbeat keeps them all. If the block raises or is
        cancelled, the leases are left to settle rather than freed: what it did in the cluster may
        not be recorded.
        """
        holder = uuid.uuid4().hex
        now = self.clock()

        async def acquire() -> tuple[set[int], dict[int, BusyLease]]:
            async with self.session_factory() as session, session.begin():
                repository = LeaseRepository(session)
                acquired = await repository.try_acquire(
                    list(targets),
                    holder=holder,
                    server_id=self.server_id,
                    operation=operation,
                    actor=actor,
                    now=now,
                    expires_at=now + timedelta(seconds=self.lease_seconds),
                )
                busy = [i for i in targets if i not in acquired]
                return acquired, (await repository.busy(busy) if busy else {})

        acquired, current = await retrying_deadlocks(acquire, "taking leases")
        refused: dict[int, HiberniaError] = {}
        for i in targets:
            if i not in acquired:
                if self.on_conflict is not None:
                    self.on_conflict()
                refused[i] = OperationInProgress(
                    targets[i], current.get(i), now=now, server_timeout=self.server_timeout
                )
        held = HeldLeases(holder, frozenset(acquired), refused)
        if not acquired:
            yield held
            return
        label = next(iter(targets.values())) if len(targets) == 1 else f"{len(acquired)} app environments"
        heartbeat = asyncio.create_task(self._renew(holder, len(acquired), label), name="lease-heartbeat")
        try:
            yield held
        except BaseException as error:
            if not getattr(error, "nothing_changed", False):
                held.reconcile_later(why=DATABASE_AWAY if is_unavailable(error) else INTERRUPTED)
            raise
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            await self._end(holder, dict(held.to_settle))

    async def _end(self, holder: str, to_settle: dict[int, str]) -> None:
        try:
            await self._end_now(holder, to_settle)
        except Exception as error:
            if not is_unavailable(error):
                raise
            # The database is away: end the hold as soon as it is back, rather than leave the
            # leases held until they expire. Until then they stay held, which is true.
            task = asyncio.create_task(self._end_when_back(holder, to_settle), name="lease-end")
            self._endings.add(task)
            task.add_done_callback(self._endings.discard)

    async def _end_now(self, holder: str, to_settle: dict[int, str]) -> None:
        async with self.session_factory() as session, session.begin():
            repository = LeaseRepository(session)
            now = self.clock()
            for why in set(to_settle.values()):
                ids = [i for i, w in to_settle.items() if w == why]
                await repository.leave_to_settle(ids, holder=holder, why=why, now=now)
            await repository.release(holder=holder, keep=list(to_settle))

    async def _end_when_back(self, holder: str, to_settle: dict[int, str]) -> None:
        wait = 0.25
        while True:
            await asyncio.sleep(wait)
            try:
                await self._end_now(holder, to_settle)
                return
            except Exception:
                wait = min(wait * 2, 2.0)

    async def drain(self) -> None:
        """Waits (briefly) for holds still ending; at shutdown."""
        if self._endings:
            await asyncio.wait(set(self._endings), timeout=5)

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
