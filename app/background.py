"""The long-running tasks of a server's background services (heartbeat, elections, caches, observer,
refresher, reconciler, the transition listener).

Each service runs one named asyncio task: started once, cancelled and awaited on stop. A service that
works in rounds repeats them every `seconds`, or at once when woken; a wake-up that arrives while a
round runs starts the next round as soon as that one ends, so no request for a round is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any


class BackgroundTask:
    def __init__(self, name: str) -> None:
        self.name = name
        self._task: asyncio.Task[None] | None = None
        self._soon = asyncio.Event()

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Runs `work()` until `stop`; a second start while it runs does nothing."""
        if self._task is None:
            self._task = asyncio.create_task(work(), name=self.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def wake(self) -> None:
        """The next round starts now rather than at the end of the interval."""
        self._soon.set()

    async def repeat(self, round_: Callable[[], Awaitable[object]], seconds: float, failed: Callable[[], None]) -> None:
        """Runs `round_` every `seconds` (sooner when woken) until cancelled. A round that raises
        calls `failed` from inside the handler (so it may log the exception) and the rounds go on."""
        while True:
            self._soon.clear()
            try:
                await round_()
            except asyncio.CancelledError:
                raise
            except Exception:
                failed()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._soon.wait(), timeout=seconds)
