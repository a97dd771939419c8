"""The background services' task: rounds every interval, at once when woken, failures survived, and a
wake-up that arrives during a round never lost (a catalog change made while the caches sync)."""

from __future__ import annotations

import asyncio

from app.background import BackgroundTask

LONG = 3600.0  # an interval no test waits for


async def test_a_wake_during_a_round_starts_the_next_round_when_it_ends() -> None:
    task = BackgroundTask("rounds")
    rounds: list[int] = []
    second = asyncio.Event()

    async def round_() -> None:
        rounds.append(len(rounds) + 1)
        if len(rounds) == 1:
            task.wake()  # as sync_soon() from a request while this round reads the catalog
        else:
            second.set()

    task.start(lambda: task.repeat(round_, LONG, lambda: None))
    try:
        await asyncio.wait_for(second.wait(), timeout=10)
    finally:
        await task.stop()
    assert rounds == [1, 2]


async def test_a_failed_round_is_reported_and_the_rounds_go_on() -> None:
    task = BackgroundTask("rounds")
    failures: list[str] = []
    done = asyncio.Event()

    async def round_() -> None:
        if not failures:
            raise ConnectionError("database away")
        done.set()

    def failed() -> None:
        failures.append("failed")
        task.wake()  # again at once, as the tests need no interval

    task.start(lambda: task.repeat(round_, LONG, failed))
    try:
        await asyncio.wait_for(done.wait(), timeout=10)
    finally:
        await task.stop()
    assert failures == ["failed"]


async def test_start_twice_runs_one_task_and_stop_ends_it() -> None:
    task = BackgroundTask("once")
    started = 0
    forever = asyncio.Event()

    async def work() -> None:
        nonlocal started
        started += 1
        await forever.wait()

    task.start(work)
    task.start(work)
    await asyncio.sleep(0)
    assert task.running and started == 1
    await task.stop()
    assert not task.running
    await task.stop()  # stopping a stopped task is harmless
