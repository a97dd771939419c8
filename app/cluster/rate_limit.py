"""A client-side token bucket, so one gateway never floods its API server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class RateLimitExceeded(Exception):
    """The token bucket cannot give a token within the time the caller has left."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"the next request slot is {wait:.2f}s away")
        self.wait = wait


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up; a request takes one token.

    Callers reserve a token at once (the balance may go negative) and sleep until it is theirs,
    so concurrent callers are served in arrival order without a lock.
    """

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = float(rate)
        self.burst = int(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    async def acquire(self, max_wait: float | None = None) -> None:
        """Take a token, waiting for it; `RateLimitExceeded` if that would take over `max_wait`."""
        self._refill()
        self._tokens -= 1
        if self._tokens >= 0:
            return
        wait = -self._tokens / self.rate
        if max_wait is not None and wait > max_wait:
            self._tokens += 1
            raise RateLimitExceeded(wait)
        try:
            await asyncio.sleep(wait)
        except BaseException:
            self._tokens += 1
            raise
