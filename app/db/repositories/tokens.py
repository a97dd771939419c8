"""API tokens: stored as hashes, looked up by hash."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.db.models import ApiToken, ApiTokenEnvironment, Environment


class TokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_hash(self, token_hash: str) -> tuple[ApiToken, list[str]] | None:
        """The live token with this hash and the names of the environments it is limited to, in one statement."""
        query = (
            select(ApiToken, Environment.name)
            .outerjoin(ApiTokenEnvironment, ApiTokenEnvironment.token_id == ApiToken.id)
            .outerjoin(Environment, Environment.id == ApiTokenEnvironment.environment_id)
            .where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))
        )
        rows = (await self.session.execute(query)).all()
        if not rows:
            return None
        return rows[0][0], [name for _, name in rows if name is not None]

    async def by_name(self, name: str) -> ApiToken | None:
        return await self.session.scalar(select(ApiToken).where(ApiToken.name == name))

    async def all(self) -> list[tuple[ApiToken, list[str]]]:
        tokens = await self.session.scalars(
            select(ApiToken).options(selectinload(ApiToken.environments)).order_by(ApiToken.name)
        )
        environment_names = {e.id: e.name for e in await self.session.scalars(select(Environment))}
        return [(t, sorted(environment_names[e.environment_id] for e in t.environments)) for t in tokens]

    async def names_limited_to(self, environment_id: int) -> list[str]:
        """The live tokens limited to this environment (among others), by name."""
        query = (
            select(ApiToken.name)
            .join(ApiTokenEnvironment, ApiTokenEnvironment.token_id == ApiToken.id)
            .where(ApiTokenEnvironment.environment_id == environment_id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.name)
        )
        return list(await self.session.scalars(query))

    async def add(self, token: ApiToken) -> None:
        self.session.add(token)
        await self.session.flush()
