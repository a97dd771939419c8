"""Retrying a transaction that PostgreSQL aborted to break a deadlock.

Batched writes lock many rows; two of them (a bulk deploy recording its statuses, a live page
recording what it saw) can lock the same rows in different orders. PostgreSQL then aborts one
with SQLSTATE 40P01 and the other goes on; the aborted one is safe to run again from the start.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

logger = logging.getLogger("hibernia.db")

T = TypeVar("T")

DEADLOCK_DETECTED = "40P01"
ATTEMPTS = 3


def is_deadlock(error: BaseException) -> bool:
    return isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) == DEADLOCK_DETECTED


async def retrying_deadlocks(transaction: Callable[[], Awaitable[T]], what: str) -> T:
    """Runs `transaction` (which opens and commits its own transaction) again after a deadlock."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await transaction()
        except DBAPIError as error:
            if not is_deadlock(error) or attempt == ATTEMPTS:
                raise
            logger.warning("deadlock while %s; trying again (%d of %d)", what, attempt + 1, ATTEMPTS)
    raise AssertionError("unreachable")
