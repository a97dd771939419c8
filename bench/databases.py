"""A fresh, migrated database per section (PostgreSQL by default, SQLite with --sqlite), dropped after."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]

from app.db.scratch import ScratchDatabase, asyncpg_dsn, scratch_database

__all__ = ["BenchDatabase", "asyncpg_dsn", "bench_database", "postgres_admin_url"]

# A PostgreSQL server the bench may create and drop databases on: its own variable, else the one the
# test suite (and CI) uses, else the local default.
POSTGRES_URL_VARIABLES = ("HIBERNIA_BENCH_POSTGRES_URL", "HIBERNIA_TEST_POSTGRES_URL")
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_admin_url() -> str:
    return next((os.environ[name] for name in POSTGRES_URL_VARIABLES if os.environ.get(name)), DEFAULT_POSTGRES_URL)


BenchDatabase = ScratchDatabase


SETTLE_SECONDS = 30.0


async def settle_postgres() -> None:
    """Waits until the server is idle (no autovacuum worker, no other active query), then checkpoints.

    The previous section's 100,000-row seed and its database drop leave the server vacuuming and
    flushing for a while; on two cores that work would be timed as part of the next section.
    """
    connection = await asyncpg.connect(asyncpg_dsn(postgres_admin_url()))
    try:
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline:
            busy = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                "AND (backend_type = 'autovacuum worker' OR (backend_type = 'client backend' AND state = 'active'))"
            )
            if not busy:
                break
            await asyncio.sleep(0.2)
        await connection.execute("CHECKPOINT")
    finally:
        await connection.close()


@asynccontextmanager
async def bench_database(backend: str, label: str, work_dir: Path) -> AsyncIterator[BenchDatabase]:
    if backend == "postgres":
        await settle_postgres()
    async with scratch_database(
        backend, prefix=f"hibernia_bench_{label}", work_dir=work_dir, postgres_admin_url=postgres_admin_url()
    ) as database:
        yield database
