"""Per-request context: settings, database sessions, the actor and the dataloader registry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.types import Info as StrawberryInfo

from app.config import Settings
from app.domain.access import Principal
from app.metrics import Metrics
from app.services.container import Services
from app.services.live_status import LiveStatusService
from schema.dataloaders import Loaders


@dataclass
class Context:
    settings: Settings
    session_factory: async_sessionmaker[AsyncSession]
    services: Services
    principal: Principal
    metrics: Metrics
    request_id: str
    loaders: Loaders = field(init=False)
    # What a WebSocket client sent in `connection_init` (graphql-transport-ws); None over HTTP.
    connection_params: dict[str, object] | None = None

    @property
    def actor(self) -> str:
        """The name recorded in audit rows and deployments: the token's, or the local admin's."""
        return self.principal.name

    def __post_init__(self) -> None:
        self.fresh_loaders()

    def fresh_loaders(self) -> None:
        """Forgets what the loaders cached: a subscription's context lives as long as its connection,
        and each pushed event must be resolved from what is true now."""
        self.loaders = Loaders(self.session_factory, self.services.live_status)

    @property
    def live_status(self) -> LiveStatusService:
        return self.services.live_status

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        """A short session for one resolver: concurrent resolvers never share a session."""
        async with self.session_factory() as session:
            yield session

    @asynccontextmanager
    async def write_session(self) -> AsyncIterator[AsyncSession]:
        """One session for one mutation, committed once at the end, rolled back on any error."""
        async with self.session_factory() as session, session.begin():
            yield session


Info = StrawberryInfo[Context, None]
