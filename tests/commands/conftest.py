"""The pipeline client's tests: `hibernia` subprocesses against a real `hibernia serve` process and the
simulator, on each backend."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import BACKENDS, _skip_without_postgres
from tests.fixtures.databases import DatabaseUnderTest, fresh_database
from tests.fixtures.servers import ServerProcess, serving


@pytest.fixture(scope="session", params=BACKENDS)
async def database_session(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[DatabaseUnderTest]:
    """A database of their own per backend (overriding the suite's), as the browser tests have: the
    server process never shares an SQLite file, and its write lock, with tests that run in process."""
    _skip_without_postgres(request.param)
    async with fresh_database(request.param, tmp_path_factory.mktemp("cli-db")) as database:
        yield database


@pytest.fixture(scope="session")
async def cli_server(
    database_session: DatabaseUnderTest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServerProcess]:
    """One development server per backend; each test brings its own catalog. No reconciler, so the
    leases a test plants stay as planted."""
    async with serving(
        database_session.url, tmp_path_factory.mktemp("cli-server"), HIBERNIA_RECONCILE_SECONDS="0"
    ) as server:
        yield server
