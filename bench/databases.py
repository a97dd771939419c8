"""A fresh, migrated database per section (PostgreSQL by default, SQLite with --sqlite), dropped after."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from app.db.scratch import ScratchDatabase, asyncpg_dsn, scratch_database

__all__ = ["BenchDatabase", "asyncpg_dsn", "bench_database", "postgres_admin_url"]

# A PostgreSQL server the bench may create and drop databases on: its own variable, else the one the
# test suite (and CI) uses, else the local default.
POSTGRES_URL_VARIABLES = ("HIBERNIA_BENCH_POSTGRES_URL", "HIBERNIA_TEST_POSTGRES_URL")
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_admin_url() -> str:
    return next((os.environ[name] for name in POSTGRES_URL_VARIABLES if os.environ.get(name)), DEFAULT_POSTGRES_URL)


BenchDatabase = ScratchDatabase


@asynccontextmanager
async def bench_database(backend: str, label: str, work_dir: Path) -> AsyncIterator[BenchDatabase]:
    async with scratch_database(
        backend, prefix=f"hibernia_bench_{label}", work_dir=work_dir, postgres_admin_url=postgres_admin_url()
    ) as database:
        yield database
