"""Apply and check Alembic migrations from code (the CLI, the server at start, the tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.models import Base

_ROOT = Path(__file__).resolve().parents[2]


def alembic_config() -> Config:
    config = Config(str(_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(_ROOT / "migrations"))
    config.attributes["configure_logger"] = False
    return config


async def upgrade_to_head(engine: AsyncEngine) -> None:
    def _upgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


async def pending_model_changes(engine: AsyncEngine) -> list[object]:
    """What `alembic check` would report: differences between the models and the migrated schema."""

    def _compare(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        return await connection.run_sync(_compare)


async def _current_revision(engine: AsyncEngine) -> str | None:
    def _current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(_current)


async def is_at_head(engine: AsyncEngine) -> bool:
    return await _current_revision(engine) == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def is_behind_head(engine: AsyncEngine) -> bool:
    """True when the database lacks migrations this code needs.

    A database *ahead* of this code (a newer release migrated it during a rolling upgrade) is not
    behind: migrations are written to stay backward-compatible for one release.
    """
    script = ScriptDirectory.from_config(alembic_config())
    current = await _current_revision(engine)
    if current == script.get_current_head():
        return False
    if current is None:
        return True
    try:
        script.get_revision(current)
    except Exception:  # unknown here: written by a newer release
        return False
    return True
