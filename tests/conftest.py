from __future__ import annotations

import os
from collections.abc import AsyncIterator

import httpx
import pytest

from app.config import Settings
from app.main import create_app
from tests.fixtures.databases import DatabaseUnderTest, fresh_database, postgres_admin_url
from tests.fixtures.graphql import GraphQLClient

BACKENDS = ["sqlite", "postgres"]
_postgres_tests_passed = 0


def _skip_without_postgres(backend: str) -> None:
    if backend == "postgres" and postgres_admin_url() is None:
        pytest.skip("set HIBERNIA_TEST_POSTGRES_URL to run the PostgreSQL tests")


@pytest.fixture(scope="session", params=BACKENDS)
async def database_session(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[DatabaseUnderTest]:
    """One migrated database per backend for the whole run."""
    _skip_without_postgres(request.param)
    async with fresh_database(request.param, tmp_path_factory.mktemp("db")) as database:
        yield database


@pytest.fixture
async def database(database_session: DatabaseUnderTest) -> AsyncIterator[DatabaseUnderTest]:
    """The session database, emptied after each test: every test owns its data."""
    try:
        yield database_session
    finally:
        await database_session.clear()


@pytest.fixture
def settings(database: DatabaseUnderTest) -> Settings:
    return Settings(HIBERNIA_DATABASE_URL=database.url, HIBERNIA_STATUS_REFRESH_SECONDS=0)


@pytest.fixture
async def graphql(database: DatabaseUnderTest, settings: Settings) -> AsyncIterator[GraphQLClient]:
    app = create_app(settings, engine=database.engine)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://hibernia.test") as http,
    ):
        yield GraphQLClient(http=http)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    global _postgres_tests_passed
    if report.when == "call" and report.passed and "postgres" in report.keywords:
        _postgres_tests_passed += 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "postgres" in callspec.id.split("-"):
            item.add_marker(pytest.mark.postgres)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # CI sets this so a run where PostgreSQL was silently skipped cannot pass.
    if os.environ.get("HIBERNIA_REQUIRE_POSTGRES") == "1" and _postgres_tests_passed == 0:
        print("\nHIBERNIA_REQUIRE_POSTGRES=1 but no PostgreSQL test passed", flush=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
