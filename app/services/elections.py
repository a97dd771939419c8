"""Roles one server holds at a time across replicas: observing a cluster, running schedules.

Every `interval` seconds this server claims the roles it wants (one conditional UPDATE each, so
exactly one server wins) and so renews those it holds. A role expires `timeout` seconds after its
last renewal, and is free at once when its server is known dead or gone (`app.services.presence`):
a role fails over within the server timeout of its holder's death. A stopping server hands its
roles back.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.background import BackgroundTask
from app.db.repositories.elections import ElectionRepository
from app.db.repositories.servers import ServerRepository
from app.services.presence import ServerPresence

logger = logging.getLogger("hibernia.elections")

Changed = Callable[[str, bool], None]  # (role, held now)


class Elections:
    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], presence: ServerPresence, *, interval: float
    ) -> None:
        self.session_factory = session_factory
        self.presence = presence
        self.interval = interval
        self.wanted: set[str] = set()
        self.held: set[str] = set()
        self._listeners: list[Changed] = []
        self._task = BackgroundTask("hibernia-elections")

    def on_change(self, listener: Changed) -> None:
        self._listeners.append(listener)

    def want(self, role: str) -> None:
        if role not in self.wanted:
            self.wanted.add(role)
            self._task.wake()

    def holds(self, role: str) -> bool:
        return role in self.held

    async def run_round(self) -> None:
        now = self.presence.now()
        expires_at = now + timedelta(seconds=self.presence.timeout_seconds)
        async with self.session_factory() as session, session.begin():
            gone = await self.presence.gone_neighbours(ServerRepository(session))
            repository = ElectionRepository(session)
            won = {
                role
                for role in sorted(self.wanted)
                if await repository.claim(
                    role,
                    server_id=self.presence.id,
                    now=now,
                    expires_at=expires_at,
                    dead_before=self.presence.dead_before(),
                    gone=gone,
                )
            }
        self._settle(won)

    def _settle(self, held: set[str]) -> None:
        gained, lost = held - self.held, self.held - held
        self.held = held
        for role in sorted(gained):
            logger.info("this server now holds %s", role)
        for role in sorted(lost):
            logger.warning("this server no longer holds %s", role)
        for listener in self._listeners:
            for role in sorted(gained):
                listener(role, True)
            for role in sorted(lost):
                listener(role, False)

    def start(self) -> None:
        self._task.start(lambda: self._task.repeat(self.run_round, self.interval, self._round_failed))

    async def stop(self) -> None:
        await self._task.stop()
        held, self.held = set(self.held), set()
        with contextlib.suppress(Exception):  # the database is away: the roles expire by themselves
            async with self.session_factory() as session, session.begin():
                await ElectionRepository(session).release(held, server_id=self.presence.id)

    def _round_failed(self) -> None:  # the database is away: whoever can reach it takes over meanwhile
        logger.warning("claiming roles failed; trying again", exc_info=True)
        self._settle(set())
