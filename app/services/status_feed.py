"""Recorded transitions pushed to subscribers, on every server, exactly once each.

Each server keeps one `StatusFeed`. It hears of committed transitions (`app.db.feed`: PostgreSQL
NOTIFY across replicas, in process on SQLite), loads them with where they happened in one query,
and hands each to the subscriptions it matches. A subscription's queue is bounded: one that falls
`queue_size` changes behind is ended with `FeedOverrun`, and its client resumes with `since`
(history from the table, then live) or re-queries. Ids already handed out are remembered for a
while, so a transition heard twice (after a reconnection's catch-up) is delivered once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.background import BackgroundTask
from app.db.feed import TransitionListener, is_postgres, on_commit
from app.db.repositories.history import HistoryRepository, TransitionWithTarget, Where
from app.db.types import utcnow

logger = logging.getLogger("hibernia.status_feed")

REMEMBERED = 20_000  # ids handed out, to deliver a transition heard twice only once
CATCH_UP = timedelta(seconds=30)  # looked back over after the listening connection came back


class FeedOverrun(Exception):
    """The subscriber fell too far behind; it should resume with `since`."""

    def __init__(self, last_at: datetime | None) -> None:
        resume = f" Resume with since: {last_at.isoformat()}." if last_at else " Subscribe again."
        super().__init__(f"This subscription fell too far behind and was ended.{resume}")
        self.last_at = last_at


class Subscription:
    def __init__(self, where: Where, queue_size: int) -> None:
        self.where = where
        self.queue: asyncio.Queue[TransitionWithTarget | None] = asyncio.Queue(maxsize=queue_size)
        self.overrun = False
        self.last_at: datetime | None = None

    def offer(self, change: TransitionWithTarget) -> None:
        if self.overrun:
            return
        try:
            self.queue.put_nowait(change)
        except asyncio.QueueFull:
            self.overrun = True
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()  # room for the end marker
            self.queue.put_nowait(None)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> TransitionWithTarget:
        change = await self.queue.get()
        if change is None:
            raise FeedOverrun(self.last_at)
        self.last_at = change[0].at
        return change


class StatusFeed:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        engine: AsyncEngine,
        *,
        queue_size: int = 1000,
    ) -> None:
        self.session_factory = session_factory
        self.engine = engine
        self.queue_size = queue_size
        self._subscriptions: set[Subscription] = set()
        self._delivered: OrderedDict[int, None] = OrderedDict()
        self._pending: set[int] = set()
        self._wake = asyncio.Event()
        self._task = BackgroundTask("hibernia-status-feed")
        self._unsubscribe: Callable[[], None] | None = None
        self._listener: TransitionListener | None = None
        if is_postgres(engine):
            url = engine.url.render_as_string(hide_password=False)
            self._listener = TransitionListener(url, self.heard, self._caught_up_later)
        self._catch_up_from: datetime | None = None

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)

    async def start(self) -> None:
        self._task.start(self._deliver_forever)
        if self._listener is not None:
            self._listener.start()
            with contextlib.suppress(TimeoutError):  # the database may be away: it listens once it is back
                await asyncio.wait_for(self._listener.listening.wait(), timeout=5)
        else:
            self._unsubscribe = on_commit(self.engine, self.heard)

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._listener is not None:
            await self._listener.stop()
        await self._task.stop()

    def heard(self, ids: list[int]) -> None:
        """Transitions committed (called from the listener or after a commit, in the event loop)."""
        self._pending.update(i for i in ids if i not in self._delivered)
        self._wake.set()

    def _caught_up_later(self) -> None:
        self._catch_up_from = utcnow() - CATCH_UP
        self._wake.set()

    @asynccontextmanager
    async def subscribe(self, where: Where) -> AsyncIterator[Subscription]:
        subscription = Subscription(where, self.queue_size)
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)

    async def history(self, since: datetime, where: Where, *, limit: int = 1000) -> list[TransitionWithTarget]:
        async with self.session_factory() as session:
            return await HistoryRepository(session).transitions_since(since, where, limit=limit)

    async def _deliver_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._deliver()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database is away: the ids stay pending, tried at the next wake
                logger.warning("could not load transitions to push; trying again", exc_info=True)
                await asyncio.sleep(1)
                self._wake.set()

    async def _deliver(self) -> None:
        ids, catch_up = sorted(self._pending), self._catch_up_from
        if not self._subscriptions:  # nobody listens on this server: nothing to load
            self._pending.clear()
            self._catch_up_from = None
            return
        if not ids and catch_up is None:
            return
        async with self.session_factory() as session:
            history = HistoryRepository(session)
            found = await history.transitions_by_ids(ids) if ids else []
            if catch_up is not None:
                found += await history.transitions_since(catch_up, Where(), limit=10_000)
        self._pending.difference_update(ids)
        self._catch_up_from = None
        for change in sorted({c[0].id: c for c in found}.values(), key=lambda c: c[0].id):
            transition_id = change[0].id
            if transition_id in self._delivered:
                continue
            self._delivered[transition_id] = None
            if len(self._delivered) > REMEMBERED:
                self._delivered.popitem(last=False)
            for subscription in list(self._subscriptions):
                if subscription.where.admits(change[2], change[3]):
                    subscription.offer(change)
