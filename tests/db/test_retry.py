"""A transaction PostgreSQL aborted to break a deadlock runs again; other errors do not."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError

from app.db.retry import ATTEMPTS, retrying_deadlocks


class _DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _error(sqlstate: str) -> DBAPIError:
    return DBAPIError("UPDATE ...", None, _DriverError(sqlstate))


async def test_a_deadlock_is_retried_until_it_goes_through() -> None:
    calls = 0

    async def transaction() -> str:
        nonlocal calls
        calls += 1
        if calls < ATTEMPTS:
            raise _error("40P01")
        return "done"

    assert await retrying_deadlocks(transaction, "testing") == "done"
    assert calls == ATTEMPTS


async def test_a_deadlock_every_time_gives_up_and_other_errors_are_not_retried() -> None:
    calls = 0

    async def always(sqlstate: str) -> None:
        nonlocal calls
        calls += 1
        raise _error(sqlstate)

    with pytest.raises(DBAPIError):
        await retrying_deadlocks(lambda: always("40P01"), "testing")
    assert calls == ATTEMPTS
    calls = 0
    with pytest.raises(DBAPIError):
        await retrying_deadlocks(lambda: always("23505"), "testing")  # a unique violation
    assert calls == 1
