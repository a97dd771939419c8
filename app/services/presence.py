"""This server process in the database: its heartbeat, and the database's clock it keeps time by.

A server beats every `heartbeat_seconds`; one whose last beat is older than `timeout_seconds` is
dead, and the leases it held are settled by the others (`app.services.reconciler`). Every beat also
measures how far this machine's clock is from the database's, so that lease times and heartbeats of
servers with skewed clocks are compared on one clock.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.background import BackgroundTask
from app.db.repositories.servers import ServerRepository
from app.db.types import utcnow

logger = logging.getLogger("hibernia.presence")


class ServerPresence:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        heartbeat_seconds: float = 3.0,
        timeout_seconds: float = 10.0,
        local_clock: Callable[[], datetime] = utcnow,
        on_back: Callable[[], None] | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.heartbeat_seconds = heartbeat_seconds
        self.timeout_seconds = timeout_seconds
        self.local_clock = local_clock
        # Called when the database answers again after beats failed.
        self.on_back = on_back
        self.id = uuid.uuid4().hex
        self.host = socket.gethostname()[:253]
        self.pid = os.getpid()
        self.machine = _machine(self.host)
        self._offset = timedelta(0)
        self._task = BackgroundTask("hibernia-heartbeat")
        self.last_beat: datetime | None = None
        # When the current run of successful beats began (None while beats fail).
        self.beating_since: datetime | None = None

    def now(self) -> datetime:
        """The database's time, as well as this server knows it (its clock plus the measured offset)."""
        return self.local_clock() + self._offset

    def dead_before(self) -> datetime | None:
        """Servers whose last heartbeat is older than this are dead; None while this server cannot judge.

        A server that just reached the database (at start, or after an outage) waits two heartbeats
        before it calls others dead: if the database was away, they were cut off too and need that
        long to beat again.
        """
        if self.beating_since is None:
            return None
        now = self.now()
        if now - self.beating_since < timedelta(seconds=2 * self.heartbeat_seconds):
            return None
        return now - timedelta(seconds=self.timeout_seconds)

    async def beat(self) -> None:
        async with self.session_factory() as session, session.begin():
            repository = ServerRepository(session)
            before = self.local_clock()
            database_now = await repository.database_now()
            after = self.local_clock()
            self._offset = database_now - (before + (after - before) / 2)
            await repository.beat(self.id, host=self.host, pid=self.pid, machine=self.machine, now=database_now)
        back = self.beating_since is None and self.last_beat is not None
        if self.beating_since is None:
            self.beating_since = database_now
        self.last_beat = database_now
        if back and self.on_back is not None:
            self.on_back()

    async def gone_neighbours(self, repository: ServerRepository) -> list[str]:
        """Servers registered from this machine whose process is gone: dead now, without waiting for
        their heartbeat to time out (a server restarted after a crash frees its apps at once)."""
        if self.machine is None:
            return []
        return [
            server_id
            for server_id, pid in await repository.on_machine(self.machine, other_than=self.id)
            if pid == self.pid or not _alive(pid)  # one process per pid: a reused pid means the old one ended
        ]

    def start(self) -> None:
        self._task.start(self._beat_forever)

    async def stop(self) -> None:
        """Stops beating and leaves: the server's row goes, so nobody waits for it to time out."""
        await self._task.stop()
        try:
            async with self.session_factory() as session, session.begin():
                await ServerRepository(session).remove(self.id)
        except Exception:  # the database is away: the others see the heartbeat stop instead
            logger.warning("could not remove this server's row at shutdown", exc_info=True)

    async def _beat_forever(self) -> None:
        while True:
            try:
                await self.beat()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database is away; beat again soon, the others wait `timeout_seconds`
                self.beating_since = None
                logger.warning("heartbeat failed; trying again", exc_info=True)
            await asyncio.sleep(self.heartbeat_seconds)


def _machine(host: str) -> str | None:
    """This machine and process id namespace, where processes can see each other by pid."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:  # not Linux, or no /proc: other servers are judged by their heartbeat only
        return None
    return f"{host}/{namespace}"[:300]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True
