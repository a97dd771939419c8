"""Telling a database that is away (down, restarting, unreachable, locked) from a bug.

A request that meets one gets `SERVICE_UNAVAILABLE` (HTTP 503 with Retry-After when it could not
run at all), never a masked INTERNAL; the server itself recovers when the database returns, as
the engine's pool pre-pings and replaces dead connections.
"""

from __future__ import annotations

import sqlite3

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import exc

from app.domain.errors import ErrorCode, HiberniaError

RETRY_AFTER_SECONDS = 5

_DRIVER_MODULES = ("sqlalchemy", "asyncpg", "aiosqlite", "sqlite3")
# Raised by the drivers when the server is away; socket errors count only when a driver raised them.
_UNAVAILABLE_CAUSES: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
)


class DatabaseUnavailable(HiberniaError):
    """`nothing_changed`: raised before the operation changed anything, so its leases are simply freed."""

    def __init__(self, detail: str = "", *, nothing_changed: bool = False) -> None:
        self.nothing_changed = nothing_changed
        super().__init__(
            ErrorCode.SERVICE_UNAVAILABLE,
            "The database did not answer"
            + (f" ({detail})" if detail else "")
            + f"; nothing was lost. Retry in {RETRY_AFTER_SECONDS} seconds.",
        )


def is_unavailable(error: BaseException) -> bool:
    """Whether `error` means the database could not be reached or used right now."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DatabaseUnavailable):
            return True
        if isinstance(current, exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, (exc.DisconnectionError, exc.TimeoutError)):
            return True
        if isinstance(current, exc.OperationalError) and _operational_means_away(current.orig):
            return True
        if isinstance(current, sqlite3.OperationalError) and _operational_means_away(current):
            return True
        if isinstance(current, _UNAVAILABLE_CAUSES):
            return True
        if isinstance(current, OSError) and _raised_by_a_driver(current):
            return True
        if isinstance(current, exc.StatementError) and current.orig is not None:
            current = current.orig
            continue
        current = current.__cause__ or current.__context__
    return False


def _raised_by_a_driver(error: BaseException) -> bool:
    traceback = error.__traceback__
    while traceback is not None:
        module = str(traceback.tb_frame.f_globals.get("__name__", ""))
        if module.startswith(_DRIVER_MODULES):
            return True
        traceback = traceback.tb_next
    return False


def _operational_means_away(original: BaseException | None) -> bool:
    if isinstance(original, sqlite3.OperationalError):
        # Locked, busy or unreadable: another process holds the file, or the disk is failing.
        text = str(original).lower()
        return any(word in text for word in ("locked", "busy", "disk i/o", "unable to open"))
    return True  # PostgreSQL's OperationalError family: connection and server-side availability
