"""API tokens: create (shown once), list, revoke, and authenticate a request's bearer token."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ApiToken, ApiTokenEnvironment
from app.db.repositories.catalog import CatalogRepository
from app.db.repositories.tokens import TokenRepository
from app.db.types import utcnow
from app.domain.access import Principal, Role
from app.domain.errors import InvalidInput, NotFound
from app.domain.names import validate_dns_label

TOKEN_PREFIX = "hib_"


def hash_token(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class TokenInfo:
    name: str
    role: Role
    environments: list[str]
    created_at: datetime
    revoked_at: datetime | None


class TokenService:
    def __init__(self, session: AsyncSession) -> None:
        self.repository = TokenRepository(session)
        self.catalog = CatalogRepository(session)

    async def create(self, name: str, role: str, environments: Sequence[str]) -> str:
        """Stores a new token's hash and returns the token, which is never shown again."""
        validate_dns_label(name, field="name", what="Token name")
        try:
            token_role = Role(role)
        except ValueError:
            raise InvalidInput(f"Role must be one of: {', '.join(r.value for r in Role)}.", field="role") from None
        if await self.repository.by_name(name) is not None:
            raise InvalidInput(f"A token named '{name}' already exists; revoke it or pick another name.", field="name")
        found = {e.name: e for e in await self.catalog.environments_by_names(list(environments))}
        for environment in environments:
            if environment not in found:
                raise NotFound("Environment", environment, field="environment")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = ApiToken(name=name, role=token_role.value, token_hash=hash_token(token))
        row.environments = [ApiTokenEnvironment(environment_id=found[e].id) for e in dict.fromkeys(environments)]
        await self.repository.add(row)
        return token

    async def list(self) -> list[TokenInfo]:
        return [
            TokenInfo(token.name, Role(token.role), environments, token.created_at, token.revoked_at)
            for token, environments in await self.repository.all()
        ]

    async def revoke(self, name: str) -> None:
        token = await self.repository.by_name(name)
        if token is None:
            raise NotFound("Token", name, field="name")
        if token.revoked_at is None:
            token.revoked_at = utcnow()

    async def authenticate(self, token: str) -> Principal | None:
        found = await self.repository.by_hash(hash_token(token))
        if found is None:
            return None
        row, environments = found
        return Principal(name=row.name, role=Role(row.role), environments=frozenset(environments) or None)
