"""The audit feed: what happened where, across app environments, newest first."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import App, AppEnvironment, Deployment, Environment, Transition
from app.db.repositories.history import FeedFilter, FeedRepository


class AuditService:
    def __init__(self, session: AsyncSession) -> None:
        self.feed = FeedRepository(session)

    async def transitions(
        self, where: FeedFilter, *, first: int, before_id: int | None
    ) -> list[tuple[Transition, AppEnvironment, App, Environment]]:
        return await self.feed.page(Transition, where, first=first, before_id=before_id)

    async def deployments(
        self, where: FeedFilter, *, first: int, before_id: int | None
    ) -> list[tuple[Deployment, AppEnvironment, App, Environment]]:
        return await self.feed.page(Deployment, where, first=first, before_id=before_id)

    async def count_transitions(self, where: FeedFilter) -> int:
        return await self.feed.count(Transition, where)

    async def count_deployments(self, where: FeedFilter) -> int:
        return await self.feed.count(Deployment, where)
