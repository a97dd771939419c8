"""Keeps recorded statuses current when the cluster changes behind Hibernia's back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.repositories.status import StatusRepository
from app.services.live_status import LiveStatusService

logger = logging.getLogger("hibernia.refresher")

REFRESHER_ACTOR = "hibernia-refresher"


@dataclass(frozen=True, slots=True)
class RoundResult:
    observed: int
    changed: int


class StatusRefresher:
    """Refreshes every recorded status in rounds; one round at a time, never overlapping."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        live_status: LiveStatusService,
        interval_seconds: float,
        batch_size: int = 1000,
        on_round: Callable[[], None] | None = None,
    ) -> None:
        self.on_round = on_round
        self.session_factory = session_factory
        self.live_status = live_status
        self.interval_seconds = interval_seconds
        self.batch_size = batch_size
        self._round_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._soon = asyncio.Event()
        self.rounds = 0

    async def run_round(self) -> RoundResult:
        async with self._round_lock:
            async with self.session_factory() as session:
                ids = await StatusRepository(session).all_target_ids()
            observed = changed = 0
            for start in range(0, len(ids), self.batch_size):
                results = await self.live_status.observe(ids[start : start + self.batch_size], actor=REFRESHER_ACTOR)
                observed += len(results)
                changed += sum(1 for r in results.values() if r.changed)
            self.rounds += 1
            if self.on_round is not None:
                self.on_round()
            return RoundResult(observed=observed, changed=changed)

    def refresh_soon(self) -> None:
        """Starts the next round now rather than at the end of the interval (the database is back, and
        what changed in the clusters while it was away must be recorded)."""
        self._soon.set()

    def start(self) -> None:
        if self._task is None and self.interval_seconds > 0:
            self._task = asyncio.create_task(self._run_forever(), name="hibernia-status-refresher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run_forever(self) -> None:
        while True:
            try:
                result = await self.run_round()
                logger.info("status refresh round: %s observed, %s changed", result.observed, result.changed)
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad round (database blip) must not end the refresher
                logger.exception("status refresh round failed")
            self._soon.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._soon.wait(), timeout=self.interval_seconds)
