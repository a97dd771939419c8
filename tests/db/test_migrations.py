from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from app.db.migrate import is_at_head, pending_model_changes
from app.db.models import Base
from tests.conftest import _skip_without_postgres
from tests.fixtures.databases import DatabaseUnderTest, fresh_database


async def test_migrations_leave_nothing_pending(database: DatabaseUnderTest) -> None:
    # `alembic check`: the migrated schema equals the models.
    assert await pending_model_changes(database.engine) == []
    assert await is_at_head(database.engine)


async def test_migrations_create_every_table(database: DatabaseUnderTest) -> None:
    async with database.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert set(Base.metadata.tables) <= tables


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_downgrade_to_base_and_upgrade_again(backend: str, tmp_path: Path) -> None:
    _skip_without_postgres(backend)
    from alembic import command
    from sqlalchemy.engine import Connection

    from app.db.migrate import alembic_config, upgrade_to_head

    async with fresh_database(backend, tmp_path) as database:

        def _downgrade(connection: Connection) -> None:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "base")

        async with database.engine.begin() as connection:
            await connection.run_sync(_downgrade)
        async with database.engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        assert tables <= {"alembic_version"}
        await upgrade_to_head(database.engine)
        assert await pending_model_changes(database.engine) == []
