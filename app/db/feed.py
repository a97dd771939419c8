"""Every recorded transition is announced to every server, once its transaction commits.

- PostgreSQL: a statement trigger on `transitions` (migration 0005) sends the new ids with
  `pg_notify('hibernia_transitions', ...)`; NOTIFY is transactional, so servers hear of a transition
  exactly when it is committed, and never of one rolled back. Each server LISTENs on one dedicated
  connection (`TransitionListener`), which reconnects after an outage and says so, so that what was
  recorded meanwhile can be caught up from the table.
- SQLite (one server process): the ids of the transitions a session inserted are handed to the
  in-process subscribers of its engine after the session commits.

Either way the ids come from the INSERT's RETURNING: announcing costs no statement.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import Engine, event, insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

from app.background import BackgroundTask
from app.db.models import Transition

logger = logging.getLogger("hibernia.feed")

CHANNEL = "hibernia_transitions"
_PENDING = "hibernia.transitions"

Announce = Callable[[list[int]], None]
_subscribers: weakref.WeakKeyDictionary[Engine, list[Announce]] = weakref.WeakKeyDictionary()


async def record_transitions(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Inserts transition rows; they are announced when the session's transaction commits."""
    if not rows:
        return []
    ids = list(await session.scalars(insert(Transition).returning(Transition.id), list(rows)))
    session.sync_session.info.setdefault(_PENDING, []).extend(ids)
    return ids


def on_commit(engine: AsyncEngine, announce: Announce) -> Callable[[], None]:
    """Calls `announce(ids)` after each commit on `engine` that recorded transitions; returns the
    unsubscribe. Used on SQLite, where the server is the only process."""
    listeners = _subscribers.setdefault(engine.sync_engine, [])
    listeners.append(announce)
    return lambda: listeners.remove(announce) if announce in listeners else None


@event.listens_for(Session, "after_commit")
def _announce_committed(session: Session) -> None:
    ids = session.info.pop(_PENDING, None)
    if not ids:
        return
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    for announce in list(_subscribers.get(engine, ())):
        announce(list(ids))


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)


def is_postgres(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"


class TransitionListener:
    """LISTENs for committed transitions on its own PostgreSQL connection; reconnects for ever."""

    def __init__(self, database_url: str, announce: Announce, on_reconnected: Callable[[], None]) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self.dsn = url.render_as_string(hide_password=False)
        self.announce = announce
        self.on_reconnected = on_reconnected
        self._task = BackgroundTask("hibernia-transition-listener")
        self.listening = asyncio.Event()

    def start(self) -> None:
        self._task.start(self._run)

    async def stop(self) -> None:
        await self._task.stop()

    async def _run(self) -> None:
        wait, first = 0.25, True
        while True:
            try:
                await self._listen(reconnected=not first)
            except asyncio.CancelledError:
                raise
            except Exception:  # the database is away: listen again when it is back
                logger.warning("listening for transitions failed; trying again", exc_info=True)
            self.listening.clear()
            first = False
            await asyncio.sleep(wait)
            wait = min(wait * 2, 5.0)

    async def _listen(self, *, reconnected: bool) -> None:
        connection = await asyncpg.connect(self.dsn, timeout=10)
        lost = asyncio.Event()
        try:
            connection.add_termination_listener(lambda _connection: lost.set())
            await connection.add_listener(CHANNEL, self._heard)
            self.listening.set()
            if reconnected:
                self.on_reconnected()  # what was committed while not listening is caught up from the table
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), timeout=5)
                if not lost.is_set():
                    await connection.execute("SELECT 1", timeout=5)  # a dead peer shows only when asked
        finally:
            with contextlib.suppress(Exception):
                await connection.close(timeout=2)

    def _heard(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        ids = [int(part) for part in payload.split(",") if part.isdigit()]
        if ids:
            self.announce(ids)
