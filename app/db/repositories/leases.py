"""The operation lease: one row per app environment, taken with one conditional UPDATE."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.ids import one_of
from app.db.models import OperationLease, Server


@dataclass(frozen=True, slots=True)
class BusyLease:
    """A lease someone holds, and what is known of its server."""

    app_environment_id: int
    holder: str
    operation: str | None
    actor: str | None
    acquired_at: datetime | None
    expires_at: datetime | None
    unsettled: str | None
    host: str | None  # None: the server left, or is unknown
    pid: int | None
    heartbeat_at: datetime | None


@dataclass(frozen=True, slots=True)
class LeaseToSettle:
    app_environment_id: int
    holder: str
    operation: str | None
    actor: str | None
    why: str  # what interrupted it, for the records settling writes


class LeaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def try_acquire(
        self,
        app_environment_ids: Collection[int],
        *,
        holder: str,
        server_id: str | None,
        operation: str,
        actor: str,
        now: datetime,
        expires_at: datetime,
    ) -> set[int]:
        """Takes each free lease, in one statement; returns the ids taken.

        Atomic per row on SQLite and PostgreSQL alike: of two callers racing for one lease, exactly
        one gets it back. A lease left by a dead server or an operation whose outcome was lost is not
        free: the reconciler settles it against the cluster first, then frees it.
        """
        result = await self.session.execute(
            update(OperationLease)
            .where(
                one_of(self.session, OperationLease.app_environment_id, app_environment_ids),
                OperationLease.holder.is_(None),
            )
            .values(
                holder=holder,
                server_id=server_id,
                operation=operation,
                actor=actor,
                acquired_at=now,
                expires_at=expires_at,
                unsettled=None,
            )
            .returning(OperationLease.app_environment_id)
            .execution_options(synchronize_session=False)
        )
        return set(result.scalars())

    async def renew(self, *, holder: str, expires_at: datetime) -> int:
        """Extends every lease still held by `holder`; returns how many it still holds."""
        result = await self.session.execute(
            update(OperationLease)
            .where(OperationLease.holder == holder, OperationLease.unsettled.is_(None))
            .values(expires_at=expires_at)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def busy(self, app_environment_ids: Collection[int]) -> dict[int, BusyLease]:
        query = (
            select(
                OperationLease.app_environment_id,
                OperationLease.holder,
                OperationLease.operation,
                OperationLease.actor,
                OperationLease.acquired_at,
                OperationLease.expires_at,
                OperationLease.unsettled,
                Server.host,
                Server.pid,
                Server.heartbeat_at,
            )
            .outerjoin(Server, Server.id == OperationLease.server_id)
            .where(
                one_of(self.session, OperationLease.app_environment_id, app_environment_ids),
                OperationLease.holder.is_not(None),
            )
        )
        return {row[0]: BusyLease(*row) for row in await self.session.execute(query)}  # type: ignore[arg-type,call-arg]

    async def release(self, *, holder: str, keep: Collection[int] = ()) -> None:
        """Frees every lease `holder` still holds but those in `keep`."""
        query = update(OperationLease).where(OperationLease.holder == holder)
        if keep:
            query = query.where(OperationLease.app_environment_id.not_in(list(keep)))
        await self.session.execute(
            query.values(
                holder=None,
                server_id=None,
                operation=None,
                actor=None,
                acquired_at=None,
                expires_at=None,
                unsettled=None,
            ).execution_options(synchronize_session=False)
        )

    async def leave_to_settle(
        self, app_environment_ids: Collection[int], *, holder: str, why: str, now: datetime
    ) -> None:
        """Ends `holder`'s hold without freeing the leases: the reconciler settles them first."""
        if not app_environment_ids:
            return
        await self.session.execute(
            update(OperationLease)
            .where(
                one_of(self.session, OperationLease.app_environment_id, app_environment_ids),
                OperationLease.holder == holder,
            )
            .values(expires_at=now, unsettled=why[:64])
            .execution_options(synchronize_session=False)
        )

    async def to_settle(
        self, *, now: datetime, dead_before: datetime | None, limit: int, gone: Collection[str] = ()
    ) -> list[LeaseToSettle]:
        """Leases whose operation can no longer finish: left to settle, expired, held by a server that
        stopped beating (`dead_before`; None: do not judge heartbeats now), that left, or whose
        process is known to be `gone`."""
        stopped = [OperationLease.expires_at < now]
        if gone:
            stopped.append(OperationLease.server_id.in_(list(gone)))
        if dead_before is not None:
            stopped.append(
                and_(
                    OperationLease.server_id.is_not(None),
                    or_(Server.id.is_(None), Server.heartbeat_at < dead_before),
                )
            )
        query = (
            select(
                OperationLease.app_environment_id,
                OperationLease.holder,
                OperationLease.operation,
                OperationLease.actor,
                OperationLease.unsettled,
                OperationLease.expires_at,
                Server.id,
            )
            .outerjoin(Server, Server.id == OperationLease.server_id)
            .where(OperationLease.holder.is_not(None), or_(*stopped))
            .order_by(OperationLease.app_environment_id)
            .limit(limit)
        )
        found = []
        for target, holder, operation, actor, unsettled, expires_at, server in await self.session.execute(query):
            if unsettled:
                why = unsettled
            elif expires_at is not None and expires_at < now:
                why = "its lease expired"
            else:
                why = "its server stopped" if server is not None else "its server left"
            found.append(LeaseToSettle(target, holder or "", operation, actor, why))
        return found

    async def claim(
        self, lease: LeaseToSettle, *, holder: str, server_id: str, now: datetime, expires_at: datetime
    ) -> bool:
        """Takes a lease to settle from its old holder; False when someone else was first."""
        result = await self.session.execute(
            update(OperationLease)
            .where(OperationLease.app_environment_id == lease.app_environment_id, OperationLease.holder == lease.holder)
            .values(holder=holder, server_id=server_id, acquired_at=now, expires_at=expires_at, unsettled=lease.why)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def claim_free(
        self, app_environment_id: int, *, holder: str, server_id: str, operation: str, actor: str, now: datetime,
        expires_at: datetime, why: str,
    ) -> bool:  # fmt: skip
        """Takes a free lease to settle what an operation left behind without one."""
        result = await self.session.execute(
            update(OperationLease)
            .where(OperationLease.app_environment_id == app_environment_id, OperationLease.holder.is_(None))
            .values(
                holder=holder,
                server_id=server_id,
                operation=operation,
                actor=actor,
                acquired_at=now,
                expires_at=expires_at,
                unsettled=why,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
