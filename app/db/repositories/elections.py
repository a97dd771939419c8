"""Elections: which server holds a role, claimed and renewed with one conditional UPDATE each."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import case, exists, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Election, Server


class ElectionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(
        self,
        name: str,
        *,
        server_id: str,
        now: datetime,
        expires_at: datetime,
        dead_before: datetime | None,
        gone: Collection[str] = (),
    ) -> bool:
        """Takes (or keeps) the role when it is free: unheld, held by this server, expired, or held by
        a server dead since `dead_before` or `gone`. True when this server holds it now."""
        dialect = self.session.bind.dialect.name if self.session.bind is not None else "sqlite"
        insert = postgres_insert if dialect == "postgresql" else sqlite_insert
        await self.session.execute(insert(Election).values(name=name).on_conflict_do_nothing())
        free = [Election.server_id.is_(None), Election.server_id == server_id, Election.expires_at < now]
        if gone:
            free.append(Election.server_id.in_(list(gone)))
        if dead_before is not None:
            alive = exists().where(Server.id == Election.server_id, Server.heartbeat_at >= dead_before)
            free.append(~alive)
        result = await self.session.execute(
            update(Election)
            .where(Election.name == name, or_(*free))
            .values(
                server_id=server_id,
                acquired_at=case((Election.server_id == server_id, Election.acquired_at), else_=now),
                expires_at=expires_at,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def release(self, names: Collection[str], *, server_id: str) -> None:
        if names:
            await self.session.execute(
                update(Election)
                .where(Election.name.in_(list(names)), Election.server_id == server_id)
                .values(server_id=None, acquired_at=None, expires_at=None)
                .execution_options(synchronize_session=False)
            )

    async def holders(self) -> dict[str, str | None]:
        return dict((await self.session.execute(select(Election.name, Election.server_id))).all())
