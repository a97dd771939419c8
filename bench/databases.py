"""A fresh, migrated database per section (PostgreSQL by default, SQLite with --sqlite), dropped after."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.engine import create_engine
from app.db.migrate import upgrade_to_head
from bench.counting import StatementLog

# A PostgreSQL server the bench may create and drop databases on: its own variable, else the one the
# test suite (and CI) uses, else the local default.
POSTGRES_URL_VARIABLES = ("HIBERNIA_BENCH_POSTGRES_URL", "HIBERNIA_TEST_POSTGRES_URL")
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_admin_url() -> str:
    return next((os.environ[name] for name in POSTGRES_URL_VARIABLES if os.environ.get(name)), DEFAULT_POSTGRES_URL)


def asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy URL as a plain libpq/asyncpg DSN."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class BenchDatabase:
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


@asynccontextmanager
async def bench_database(backend: str, label: str, work_dir: Path) -> AsyncIterator[BenchDatabase]:
    name = f"hibernia_bench_{label}_{uuid.uuid4().hex[:8]}"
    admin_dsn = ""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{work_dir / (name + '.db')}"
    else:
        admin = postgres_admin_url()
        admin_dsn = asyncpg_dsn(admin)
        connection = await asyncpg.connect(admin_dsn)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        url = make_url(admin).set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    statements = StatementLog()
    event.listen(engine.sync_engine, "before_cursor_execute", statements)
    try:
        await upgrade_to_head(engine)
        yield BenchDatabase(backend=backend, url=url, engine=engine, statements=statements)
    finally:
        await engine.dispose()
        if backend == "postgres":
            connection = await asyncpg.connect(admin_dsn)
            try:
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await connection.close()
