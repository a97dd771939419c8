"""On SQLite, a transaction that reads then writes takes the write lock when it begins."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from app.db.engine import create_engine, create_session_factory, write_transaction


def _write_elsewhere(path: Path) -> None:
    """A write from another connection that does not wait for the lock."""
    other = sqlite3.connect(path, timeout=0)
    try:
        other.execute("INSERT INTO t VALUES (2)")
        other.commit()
    finally:
        other.close()


@pytest.fixture
def database_file(tmp_path: Path) -> Path:
    path = tmp_path / "locks.db"
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE t (n INTEGER)")
    return path


async def test_a_write_transaction_holds_the_write_lock_from_its_first_read(database_file: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{database_file}")
    try:
        async with write_transaction(create_session_factory(engine)) as session:
            await session.execute(text("SELECT count(*) FROM t"))
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                _write_elsewhere(database_file)  # waits its turn: what was read stays true until written
            await session.execute(text("INSERT INTO t VALUES (1)"))
        _write_elsewhere(database_file)
    finally:
        await engine.dispose()


async def test_a_plain_transaction_reads_without_locking(database_file: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{database_file}")
    try:
        async with create_session_factory(engine)() as session, session.begin():
            await session.execute(text("SELECT count(*) FROM t"))
            _write_elsewhere(database_file)  # readers never stop a writer
    finally:
        await engine.dispose()
