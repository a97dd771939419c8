"""What serving starts with: the startup heap out of the collector's way, unless turned off."""

from __future__ import annotations

import gc

from app.config import Settings
from app.main import create_app
from tests.fixtures.databases import DatabaseUnderTest


async def _frozen_while_serving(settings: Settings, database: DatabaseUnderTest) -> int:
    gc.unfreeze()
    try:
        app = create_app(settings, engine=database.engine)
        async with app.router.lifespan_context(app):
            return gc.get_freeze_count()
    finally:
        gc.unfreeze()


async def test_serving_freezes_what_startup_allocated(settings: Settings, database: DatabaseUnderTest) -> None:
    assert await _frozen_while_serving(settings.model_copy(update={"gc_freeze": True}), database) > 10_000


async def test_the_freeze_can_be_turned_off(settings: Settings, database: DatabaseUnderTest) -> None:
    assert await _frozen_while_serving(settings.model_copy(update={"gc_freeze": False}), database) == 0
