"""The database for the server-side commands, checked before use: a command never creates an empty
SQLite file where it happens to run, and never answers an unmigrated or unreachable database with a
traceback."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.commands.exit_codes import CommandError, ExitCode
from app.config import get_settings
from app.db.engine import create_engine
from app.db.migrate import is_behind_head, upgrade_to_head


def describe_database(database_url: str) -> str:
    """Where the database is, for people: the SQLite file's absolute path, or the URL without its password."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        return database_url
    if url.get_backend_name() == "sqlite":
        return f"SQLite file {url.database}" if url.database not in (None, "", ":memory:") else "in-memory SQLite"
    return url.render_as_string(hide_password=True)


def _engine(database_url: str) -> AsyncEngine:
    try:
        return create_engine(database_url)
    except (ArgumentError, ValueError) as error:
        raise CommandError(ExitCode.USAGE, f"HIBERNIA_DATABASE_URL is not a database URL: {error}") from None


def _unreachable(database_url: str, error: Exception) -> CommandError:
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    return CommandError(
        ExitCode.UNAVAILABLE,
        f"cannot reach the database ({describe_database(database_url)}): {reason}; "
        "check HIBERNIA_DATABASE_URL and that the database is up",
    )


def _require_sqlite_file(database_url: str) -> None:
    # Connecting would create an empty file here, and the command would then fail on missing tables.
    url = make_url(database_url)
    file = url.database if url.get_backend_name() == "sqlite" else None
    if file not in (None, "", ":memory:") and not Path(file).is_file():
        raise CommandError(
            ExitCode.UNAVAILABLE,
            f"no database at {file}; run `hibernia migrate` to create it, "
            "or set HIBERNIA_DATABASE_URL to the server's database",
        )


@asynccontextmanager
async def migrated_database() -> AsyncIterator[AsyncEngine]:
    """The configured database, refused in one line when it is missing, unreachable or unmigrated."""
    database_url = get_settings().database_url
    _require_sqlite_file(database_url)
    engine = _engine(database_url)
    # Alembic says which dialect it found at INFO; a command's output is its answer alone.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    try:
        try:
            behind = await is_behind_head(engine)
        except (SQLAlchemyError, OSError) as error:
            raise _unreachable(database_url, error) from None
        if behind:
            raise CommandError(
                ExitCode.UNAVAILABLE,
                f"the database ({describe_database(database_url)}) is not migrated; run `hibernia migrate` first",
            )
        yield engine
    finally:
        await engine.dispose()


async def migrate() -> None:
    database_url = get_settings().database_url
    engine = _engine(database_url)
    try:
        await upgrade_to_head(engine)
    except (SQLAlchemyError, OSError) as error:
        raise _unreachable(database_url, error) from None
    finally:
        await engine.dispose()
