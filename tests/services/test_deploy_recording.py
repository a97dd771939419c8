"""A deploy batch's recording runs to its end even when the request is cancelled, once or twice."""

from __future__ import annotations

import asyncio
import logging

import pytest

from app.services.deploy import _even_if_cancelled


async def test_the_recording_outlives_repeated_cancellation() -> None:
    finished: list[str] = []

    async def recording() -> str:
        await asyncio.sleep(0.1)
        finished.append("recorded")
        return "results"

    request = asyncio.ensure_future(_even_if_cancelled(recording()))
    await asyncio.sleep(0.02)
    request.cancel()  # the client went away
    await asyncio.sleep(0.02)
    request.cancel()  # and the server is shutting down

    with pytest.raises(asyncio.CancelledError):
        await request
    assert finished == ["recorded"]  # the cancellation came through only once the rows were written


async def test_a_recording_that_fails_after_a_cancellation_is_logged_not_lost(caplog: pytest.LogCaptureFixture) -> None:
    async def recording() -> str:
        await asyncio.sleep(0.05)
        raise RuntimeError("the database went away")

    request = asyncio.ensure_future(_even_if_cancelled(recording()))
    await asyncio.sleep(0.01)
    request.cancel()

    with caplog.at_level(logging.ERROR, logger="hibernia.deploy"), pytest.raises(asyncio.CancelledError):
        await request
    assert any(record.exc_info and "database went away" in str(record.exc_info[1]) for record in caplog.records)


async def test_without_cancellation_the_result_or_the_error_comes_back() -> None:
    async def ok() -> int:
        return 3

    async def broken() -> int:
        raise ValueError("no")

    assert await _even_if_cancelled(ok()) == 3
    with pytest.raises(ValueError, match="no"):
        await _even_if_cancelled(broken())
