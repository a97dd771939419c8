"""Throw-away databases for the test suite and the benchmarks: created, migrated, dropped.

Not used by the server. It lives beside the engine because both `tests/` and `bench/` need exactly
this, and neither should import the other.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.engine import create_engine
from app.db.migrate import upgrade_to_head


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    parameters: Any


@dataclass
class StatementLog:
    """A `before_cursor_execute` listener: records the statements an engine sends while active."""

    statements: list[Statement] = field(default_factory=list)
    active: bool = False

    def __call__(
        self, _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _executemany: bool
    ) -> None:
        # SQLite's BEGIN IMMEDIATE is transaction control, as the implicit BEGIN the driver sends unseen:
        # budgets count the statements that read and write.
        if self.active and not statement.startswith("BEGIN"):
            self.statements.append(Statement(statement, parameters))

    @contextmanager
    def recording(self) -> Iterator[list[Statement]]:
        self.statements = []
        self.active = True
        try:
            yield self.statements
        finally:
            self.active = False


@dataclass
class ScratchDatabase:
    backend: str  # "postgres" or "sqlite"
    url: str  # SQLAlchemy URL, also what server processes get as HIBERNIA_DATABASE_URL
    engine: AsyncEngine
    statements: StatementLog

    @property
    def sqlite_path(self) -> str:
        database = make_url(self.url).database
        assert database, "not an SQLite file database"
        return database

    async def analyze(self) -> None:
        """Planner statistics after a bulk load, as autovacuum would gather them in production."""
        async with self.engine.begin() as connection:
            await connection.execute(text("ANALYZE"))


def asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy URL as a plain libpq/asyncpg DSN."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def scratch_database(
    backend: str, *, prefix: str, work_dir: Path, postgres_admin_url: str | None
) -> AsyncIterator[ScratchDatabase]:
    """An empty database migrated to head (an SQLite file in `work_dir`, or a new PostgreSQL database
    created through `postgres_admin_url`), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin_dsn = ""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{work_dir / (name + '.db')}"
    else:
        assert postgres_admin_url is not None, "a PostgreSQL scratch database needs an admin URL"
        admin_dsn = asyncpg_dsn(postgres_admin_url)
        connection = await asyncpg.connect(admin_dsn)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        url = (
            make_url(postgres_admin_url)
            .set(drivername="postgresql+asyncpg", database=name)
            .render_as_string(hide_password=False)
        )
    engine = create_engine(url)
    statements = StatementLog()
    event.listen(engine.sync_engine, "before_cursor_execute", statements)
    try:
        await upgrade_to_head(engine)
        yield ScratchDatabase(backend=backend, url=url, engine=engine, statements=statements)
    finally:
        await engine.dispose()
        if backend == "postgres":
            connection = await asyncpg.connect(admin_dsn)
            try:
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await connection.close()
