"""Server processes and their heartbeats, stamped with the database's clock."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, delete, exists, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import OperationLease, Server


class ServerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def database_now(self) -> datetime:
        """The database's clock: every server measures lease times against it, never its own."""
        if self.session.bind is not None and self.session.bind.dialect.name == "postgresql":
            value = await self.session.scalar(select(func.clock_timestamp()))
        else:  # SQLite runs on the server's machine; its clock is the one all processes there share
            value = await self.session.scalar(text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')"))
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    async def beat(self, server_id: str, *, host: str, pid: int, machine: str | None, now: datetime) -> None:
        """Records that the server is alive now; registers it if it is not (first beat, or removed as
        dead during a long database outage)."""
        result = await self.session.execute(
            update(Server)
            .where(Server.id == server_id)
            .values(heartbeat_at=now)
            .execution_options(synchronize_session=False)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            self.session.add(
                Server(id=server_id, host=host, pid=pid, machine=machine, started_at=now, heartbeat_at=now)
            )
            await self.session.flush()

    async def on_machine(self, machine: str, *, other_than: str) -> list[tuple[str, int]]:
        """(id, pid) of the other servers registered from this machine."""
        rows = await self.session.execute(
            select(Server.id, Server.pid).where(Server.machine == machine, Server.id != other_than)
        )
        return [(row[0], row[1]) for row in rows]

    async def remove(self, server_id: str) -> None:
        await self.session.execute(delete(Server).where(Server.id == server_id))

    async def remove_dead(self, *, dead_before: datetime | None, gone: Collection[str] = ()) -> int:
        """Forgets servers silent since `dead_before`, or known `gone`, that no lease names any more."""
        named = exists().where(OperationLease.server_id == Server.id, OperationLease.holder.is_not(None))
        dead: list[ColumnElement[bool]] = [Server.id.in_(list(gone))] if gone else []
        if dead_before is not None:
            dead.append(Server.heartbeat_at < dead_before)
        if not dead:
            return 0
        result = await self.session.execute(
            delete(Server).where(or_(*dead), ~named).execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
