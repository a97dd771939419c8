"""Watch-driven statuses: changes made outside Hibernia recorded within seconds, reads at no cost."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy import select

from app.cluster.registry import ClusterRegistry
from app.config import Settings
from app.db.engine import create_session_factory
from app.db.models import App, AppEnvironment, Election, Transition, TransitionCause
from app.db.repositories.status import Observation, StatusRepository
from app.db.types import utcnow
from app.domain.status import AppStatus
from app.main import create_app
from app.simulator import SimulatedCluster
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.graphql import GraphQLClient
from tests.schema.live_helpers import add_app, add_environment, attach, register_simulator
from tests.schema.operation_helpers import hibernate

NS = "team-dev"
HIBERNATED = {"metadata": {"annotations": {"hibernator.devtron.ai/replicas": "2"}}, "spec": {"replicas": 0}}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Caches and their observer on; quick heartbeats so that roles are claimed within a test.
    return settings.model_copy(update={"watch_clusters": True, "heartbeat_seconds": 0.2, "server_timeout_seconds": 1.0})


async def _status(database: DatabaseUnderTest, app: str = "web") -> str:
    async with database.engine.connect() as connection:
        status = (await connection.execute(select(AppEnvironment.status).join(App).where(App.name == app))).scalar_one()
    return str(status)


async def _until(condition: Callable[[], Awaitable[bool]], seconds: float) -> float:
    started = time.monotonic()
    while not await condition():
        assert time.monotonic() - started < seconds, f"not within {seconds} s"
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def _watching(graphql: GraphQLClient) -> None:
    """Until the server's caches are synced and its observer holds the cluster's role."""

    async def ready() -> bool:
        body = (await graphql.http.get("/readyz")).json()
        caches = body.get("caches") or {}
        return bool(caches) and all(c["synced"] and c["watching"] for c in caches.values())

    await _until(ready, 10)


async def _catalog(graphql: GraphQLClient, simulator: SimulatedCluster, apps: int = 1) -> None:
    await register_simulator(graphql, simulator)
    await add_environment(graphql, "dev", NS)
    for i in range(apps):
        name = "web" if i == 0 else f"app-{i}"
        await add_app(graphql, name, [])
        await attach(graphql, name, "dev", replicas=2)
        simulator.add_deployment(NS, name, name, 2)
    await graphql.query('{ appStatuses(environment: "dev") { status } }')


async def test_a_change_made_outside_hibernia_is_recorded_within_two_seconds(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await _catalog(graphql, simulator)
    await _watching(graphql)
    await asyncio.sleep(0.5)  # the observer's role is claimed

    simulator.patch("Deployment", NS, "web", HIBERNATED)  # as `kubectl scale` and `kubectl annotate` do
    took = await _until(lambda: _is(database, "HIBERNATING"), 2)

    print(f"\noutside change recorded in {took * 1000:.0f} ms (refresher off)")
    async with database.engine.connect() as connection:
        causes = [str(c) for c in (await connection.execute(select(Transition.cause, Transition.actor))).all()]
    assert any("OBSERVED" in c for c in causes)


async def _is(database: DatabaseUnderTest, status: str) -> bool:
    return await _status(database) == status


async def test_a_live_page_from_a_synced_cache_costs_no_request(
    simulator: SimulatedCluster, database: DatabaseUnderTest, settings: Settings, registry: ClusterRegistry
) -> None:
    # Heartbeats and role claims far apart, so that no background statement falls into the count.
    quiet = settings.model_copy(update={"heartbeat_seconds": 30, "server_timeout_seconds": 90})
    app = create_app(quiet, engine=database.engine, registry=registry)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://quiet.test") as http,
    ):
        graphql = GraphQLClient(http)
        await _catalog(graphql, simulator, apps=12)
        await _watching(graphql)
        await asyncio.sleep(1.0)  # the observer has recorded what the catalog's workloads changed
        simulator.clear_requests()
        page = (
            "{ apps(first: 100) { edges { node { name environments { liveStatus { status workloads { name } } } } } } }"
        )

        with database.counter.counting() as statements:
            data = await graphql.query(page)

    statuses = {e["node"]["name"]: e["node"]["environments"][0]["liveStatus"]["status"] for e in data["apps"]["edges"]}
    assert set(statuses.values()) == {"HEALTHY"} and len(statuses) == 12
    assert simulator.count("list") + simulator.count("get") == 0, simulator.log.counts()
    assert len(statements) <= 4, "\n".join(s[:80] for s in statements)


async def test_an_operation_is_recorded_once_without_the_observer_flapping(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await _catalog(graphql, simulator)
    await _watching(graphql)
    await asyncio.sleep(0.5)

    assert (await hibernate(graphql))["outcome"] == "APPLIED"
    await asyncio.sleep(1.0)  # the watch events of the hibernate arrive and are observed

    async with database.engine.connect() as connection:
        rows = (
            await connection.execute(
                select(Transition.from_status, Transition.to_status, Transition.cause).order_by(Transition.id)
            )
        ).all()
    after = [(str(f), str(t), str(c)) for f, t, c in rows][1:]  # the first: the catalog's live read
    assert after == [("HEALTHY", "HIBERNATING", "HIBERNATE")]


async def test_an_observation_of_an_older_view_never_overwrites_a_newer_status(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await _catalog(graphql, simulator)
    async with database.engine.connect() as connection:
        target, base = (await connection.execute(select(AppEnvironment.id, AppEnvironment.status_version))).one()
    base = base or 0  # the version of the view the catalog's live read recorded

    async def observe(status: AppStatus, previous: AppStatus, version: int) -> list[Observation]:
        async with create_session_factory(database.engine)() as session, session.begin():
            seen = Observation(target, previous, status, str(status), "", version)
            return await StatusRepository(session).record(
                [seen], cause=TransitionCause.OBSERVED, actor="test", at=utcnow()
            )

    newer = await observe(AppStatus.HIBERNATING, AppStatus.HEALTHY, base + 200)
    older = await observe(AppStatus.HEALTHY, AppStatus.HIBERNATING, base + 150)
    same = await observe(AppStatus.HEALTHY, AppStatus.HIBERNATING, base + 200)

    assert len(newer) == 1 and older == [] and len(same) == 1
    assert await _status(database) == "HEALTHY"


async def test_one_server_observes_a_cluster_and_another_takes_over_when_it_leaves(
    graphql: GraphQLClient,
    simulator: SimulatedCluster,
    database: DatabaseUnderTest,
    settings: Settings,
    registry: ClusterRegistry,
) -> None:
    await _catalog(graphql, simulator)
    second = create_app(settings, engine=database.engine, registry=registry)
    async with second.router.lifespan_context(second):
        transport = httpx.ASGITransport(app=second)
        async with httpx.AsyncClient(transport=transport, base_url="http://second.test") as http:
            await _watching(GraphQLClient(http))
        await asyncio.sleep(0.6)
        async with database.engine.connect() as connection:
            holders = (await connection.execute(select(Election.name, Election.server_id))).all()
        assert len({server for _, server in holders if server}) == 1, "one holder per role"

        simulator.patch("Deployment", NS, "web", HIBERNATED)
        await _until(lambda: _is(database, "HIBERNATING"), 2)
        await asyncio.sleep(0.5)
        assert await _observed_transitions(database) == 1, "recorded once, by the one holder"
    # The second server left (and handed its roles back, had it held them): the first observes alone.
    simulator.patch("Deployment", NS, "web", {"metadata": {"annotations": {"hibernator.devtron.ai/replicas": None}},
                                              "spec": {"replicas": 2}})  # fmt: skip
    await _until(lambda: _is(database, "HEALTHY"), 5)


async def _observed_transitions(database: DatabaseUnderTest) -> int:
    async with database.engine.connect() as connection:
        rows = (await connection.execute(select(Transition.id).where(Transition.to_status == "HIBERNATING"))).all()
    return len(rows)
