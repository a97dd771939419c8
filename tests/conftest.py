from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from app.cluster.registry import ClusterRegistry
from app.config import Settings
from app.main import create_app
from app.services.refresher import RoundResult, StatusRefresher
from app.simulator import SimulatedCluster
from tests.fixtures.databases import DatabaseUnderTest, fresh_database, postgres_admin_url
from tests.fixtures.graphql import GraphQLClient
from tests.schema.live_helpers import SIMULATOR_TOKEN

# Gateways and raw HTTP clients pointed at the session simulator.
pytest_plugins = ["tests.fixtures.cluster_clients"]

BACKENDS = ["sqlite", "postgres"]
_postgres_tests_passed = 0
# Suites `.ci/run` requires: a run where one was silently skipped must not pass.
REQUIRED_SUITES = {
    "http_audit": "HIBERNIA_REQUIRE_AUDIT",
    "kubectl": "HIBERNIA_REQUIRE_KUBECTL",
    "browser": "HIBERNIA_REQUIRE_BROWSER",
}
_suites_passed: dict[str, int] = dict.fromkeys(REQUIRED_SUITES, 0)


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
async def shared_postgres(tmp_path: Path) -> AsyncIterator[DatabaseUnderTest]:
    """A fresh PostgreSQL database of its own, for tests that run server processes on it."""
    _skip_without_postgres("postgres")
    async with fresh_database("postgres", tmp_path) as database:
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
    # The refresher is driven by tests (refresher_round), not by a timer.
    return Settings(
        HIBERNIA_DATABASE_URL=database.url,
        HIBERNIA_STATUS_REFRESH_SECONDS=0,
        HIBERNIA_CLUSTER_TIMEOUT_SECONDS=3,
        HIBERNIA_CLUSTER_RATE_LIMIT=1000,
        HIBERNIA_CLUSTER_RATE_BURST=1000,
        # A collection at each of hundreds of app starts would cost the suite a minute.
        HIBERNIA_GC_FREEZE=False,
        # The reconciler is driven by tests (settle_round), so leases they plant stay as planted.
        HIBERNIA_RECONCILE_SECONDS=0,
        # Live reads list the cluster, as the request budgets count; the caches have tests of their own.
        HIBERNIA_WATCH_CLUSTERS=False,
        # The scheduler is driven by tests (Scheduler.tick with a clock of their own).
        HIBERNIA_SCHEDULER_ENABLED=False,
    )


@pytest.fixture(scope="session")
async def simulator_server() -> AsyncIterator[SimulatedCluster]:
    cluster = SimulatedCluster(token=SIMULATOR_TOKEN)
    await cluster.start()
    try:
        yield cluster
    finally:
        await cluster.stop()


@pytest.fixture
async def open_cluster() -> AsyncIterator[SimulatedCluster]:
    """A cluster without a token, as `hibernia simulate-cluster` serves it (kubectl sends none over HTTP)."""
    cluster = SimulatedCluster()
    await cluster.start()
    try:
        yield cluster
    finally:
        await cluster.stop()


@pytest.fixture
async def simulator(simulator_server: SimulatedCluster) -> AsyncIterator[SimulatedCluster]:
    """The session's simulated cluster with no objects, no faults and an empty request log."""
    await simulator_server.go_online()
    simulator_server.reset()
    try:
        yield simulator_server
    finally:
        await simulator_server.go_online()
        simulator_server.reset()


@pytest.fixture
async def registry(settings: Settings) -> AsyncIterator[ClusterRegistry]:
    registry = ClusterRegistry(settings)
    try:
        yield registry
    finally:
        await registry.close()


@pytest.fixture
async def hibernia(
    database: DatabaseUnderTest, settings: Settings, registry: ClusterRegistry
) -> AsyncIterator[Starlette]:
    app = create_app(settings, engine=database.engine, registry=registry)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def graphql(hibernia: Starlette) -> AsyncIterator[GraphQLClient]:
    transport = httpx.ASGITransport(app=hibernia)
    async with httpx.AsyncClient(transport=transport, base_url="http://hibernia.test") as http:
        yield GraphQLClient(http=http)


ClientFactory = Callable[..., Awaitable[GraphQLClient]]


@pytest.fixture
async def client_with(
    database: DatabaseUnderTest, settings: Settings, registry: ClusterRegistry
) -> AsyncIterator[ClientFactory]:
    """Makes GraphQL clients of servers with other settings (same database and clusters)."""

    async def make(**overrides: object) -> GraphQLClient:
        app = create_app(settings.model_copy(update=overrides), engine=database.engine, registry=registry)
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hibernia.test")
        clients.append(http)
        return GraphQLClient(http)

    clients: list[httpx.AsyncClient] = []
    try:
        yield make
    finally:
        for http in clients:
            await http.aclose()


@pytest.fixture
def refresher_round(hibernia: Starlette) -> Callable[[], Awaitable[RoundResult]]:
    """One round of the background status refresher of the app under test."""
    refresher: StatusRefresher = hibernia.state.runtime.refresher
    return refresher.run_round


@pytest.fixture
def settle_round(hibernia: Starlette) -> Callable[[], Awaitable[int]]:
    """One round of the reconciler of the app under test; returns how many app environments it settled."""
    reconcile: Callable[[], Awaitable[int]] = hibernia.state.runtime.services.reconciler.run_round
    return reconcile


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    global _postgres_tests_passed
    if report.when == "call" and report.passed and "postgres" in report.keywords:
        _postgres_tests_passed += 1
    if report.when == "call" and report.passed:
        for suite in REQUIRED_SUITES:
            if suite in report.keywords:
                _suites_passed[suite] += 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "postgres" in callspec.id.split("-"):
            item.add_marker(pytest.mark.postgres)
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # CI sets this so a run where PostgreSQL was silently skipped cannot pass.
    if os.environ.get("HIBERNIA_REQUIRE_POSTGRES") == "1" and _postgres_tests_passed == 0:
        print("\nHIBERNIA_REQUIRE_POSTGRES=1 but no PostgreSQL test passed", flush=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    for suite, variable in REQUIRED_SUITES.items():
        if os.environ.get(variable) == "1" and _suites_passed[suite] == 0:
            print(f"\n{variable}=1 but no {suite} test passed", flush=True)
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
