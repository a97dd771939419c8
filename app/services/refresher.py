"""Keeps recorded statuses current when the cluster changes behind Hibernia's back."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.background import BackgroundTask
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
        self._task = BackgroundTask("hibernia-status-refresher")
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
        self._task.wake()

    def start(self) -> None:
        if self.interval_seconds > 0:
            self._task.start(lambda: self._task.repeat(self._logged_round, self.interval_seconds, _round_failed))

    async def stop(self) -> None:
        await self._task.stop()

    async def _logged_round(self) -> None:
        result = await self.run_round()
        logger.info("status refresh round: %s observed, %s changed", result.observed, result.changed)


def _round_failed() -> None:  # one bad round (database blip) must not end the refresher
    logger.exception("status refresh round failed")
