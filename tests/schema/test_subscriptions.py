"""statusChanges over WebSocket: every recorded transition, filtered, scoped, resumable."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import websockets

from app.cluster.registry import ClusterRegistry
from app.config import RunMode, Settings
from app.main import create_app
from app.simulator import SimulatedCluster
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.graphql import GraphQLClient
from tests.fixtures.servers import start_server
from tests.fixtures.subscriptions import PROTOCOL, served, subscriber
from tests.schema.live_helpers import add_app, add_environment, attach, register_simulator
from tests.schema.operation_helpers import hibernate, unhibernate
from tests.schema.schedule_helpers import Clock, create_schedule, nightly

CHANGES = """
subscription($filter: StatusChangeFilter, $since: DateTime) {
  statusChanges(filter: $filter, since: $since) {
    appEnvironment { app { name team } environment { name } status }
    fromStatus toStatus cause actor reason at
  }
}"""


@pytest.fixture
async def server(database: DatabaseUnderTest, settings: Settings, registry: ClusterRegistry) -> AsyncIterator[str]:
    async with served(create_app(settings, engine=database.engine, registry=registry)) as url:
        yield url


async def _two_environments(graphql: GraphQLClient, simulator: SimulatedCluster) -> None:
    await register_simulator(graphql, simulator)
    await add_environment(graphql, "dev", "team-dev")
    await add_environment(graphql, "prod", "team-prod")
    await add_app(graphql, "web", [], team="storefront")
    await add_app(graphql, "api", [], team="payments")
    for app in ("web", "api"):
        for environment, namespace in (("dev", "team-dev"), ("prod", "team-prod")):
            await attach(graphql, app, environment, replicas=2)
            simulator.add_deployment(namespace, app, app, 2)


async def test_a_hibernate_is_pushed_to_a_subscriber_within_two_seconds(
    server: str, graphql: GraphQLClient, simulator: SimulatedCluster
) -> None:
    await _two_environments(graphql, simulator)
    async with subscriber(server) as changes:
        await changes.subscribe(CHANGES)
        await asyncio.sleep(0.2)  # subscribed before the change
        graphql.actor = "alice"
        started = time.monotonic()
        await hibernate(graphql, app="web", environment="dev")

        change = (await changes.next(timeout=2))["statusChanges"]
        assert time.monotonic() - started < 2
    assert change["appEnvironment"]["app"]["name"] == "web"
    assert change["appEnvironment"]["environment"]["name"] == "dev"
    assert change["appEnvironment"]["status"] == "HIBERNATING"
    assert (change["fromStatus"], change["toStatus"], change["cause"], change["actor"]) == (
        "NOT_DEPLOYED",
        "HIBERNATING",
        "HIBERNATE",
        "alice",
    )


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        ({"environments": ["prod"]}, [("api", "prod"), ("web", "prod")]),
        ({"apps": ["api"]}, [("api", "dev"), ("api", "prod")]),
        ({"teams": ["storefront"], "environments": ["dev"]}, [("web", "dev")]),
    ],
)
async def test_the_filter_chooses_environments_apps_and_teams(
    server: str,
    graphql: GraphQLClient,
    simulator: SimulatedCluster,
    filter_: dict[str, list[str]],
    expected: list[tuple[str, str]],
) -> None:
    await _two_environments(graphql, simulator)
    async with subscriber(server) as changes:
        await changes.subscribe(CHANGES, {"filter": filter_})
        await asyncio.sleep(0.2)
        for app in ("api", "web"):
            for environment in ("dev", "prod"):
                await hibernate(graphql, app=app, environment=environment)
        got = []
        for _ in expected:
            change = (await changes.next(timeout=2))["statusChanges"]["appEnvironment"]
            got.append((change["app"]["name"], change["environment"]["name"]))
        await changes.nothing_for(0.5)
    assert sorted(got) == expected


async def test_since_replays_what_was_missed_then_goes_on_live_without_repeats(
    server: str, graphql: GraphQLClient, simulator: SimulatedCluster
) -> None:
    await _two_environments(graphql, simulator)
    await hibernate(graphql, app="web", environment="dev")
    first = await graphql.query(
        '{ appEnvironments(filter: {environments: ["dev"], search: "web"}) '
        "{ edges { node { transitions(first: 1) { edges { node { at } } } } } } }"
    )
    since = first["appEnvironments"]["edges"][0]["node"]["transitions"]["edges"][0]["node"]["at"]
    await unhibernate(graphql, app="web", environment="dev")

    async with subscriber(server) as changes:
        await changes.subscribe(CHANGES, {"since": since, "filter": {"apps": ["web"], "environments": ["dev"]}})
        replayed = [(await changes.next())["statusChanges"]["cause"] for _ in range(2)]
        await hibernate(graphql, app="web", environment="dev")
        live = (await changes.next())["statusChanges"]["cause"]
        await changes.nothing_for(0.5)
    assert replayed == ["HIBERNATE", "UNHIBERNATE"] and live == "HIBERNATE"


async def test_production_needs_a_token_in_connection_init_and_limits_it_to_its_environments(
    database: DatabaseUnderTest, settings: Settings, registry: ClusterRegistry, graphql: GraphQLClient,
    simulator: SimulatedCluster,
) -> None:  # fmt: skip
    from app.services.tokens import TokenService

    await _two_environments(graphql, simulator)
    async with database.engine.begin():
        pass
    from app.db.engine import create_session_factory

    async with create_session_factory(database.engine)() as session, session.begin():
        token = await TokenService(session).create("dev-viewer", "viewer", ["dev"])
    production = create_app(
        settings.model_copy(update={"env": RunMode.PRODUCTION}), engine=database.engine, registry=registry
    )
    async with served(production) as url:
        with pytest.raises(Exception) as refused:  # closed with 4403 at connection_init
            async with subscriber(url):
                pass
        assert "4403" in str(refused.value)
        async with subscriber(url, {"Authorization": f"Bearer {token}"}) as changes:
            await changes.subscribe(CHANGES)
            await asyncio.sleep(0.2)
            await hibernate(graphql, app="web", environment="prod")
            await hibernate(graphql, app="web", environment="dev")
            change = (await changes.next())["statusChanges"]["appEnvironment"]
            await changes.nothing_for(0.5)
    assert change["environment"]["name"] == "dev"


async def test_upgrades_from_another_origin_are_refused_unless_allowed(
    database: DatabaseUnderTest, settings: Settings, registry: ClusterRegistry
) -> None:
    allowed = settings.model_copy(update={"allowed_origins": ["https://dash.example"]})
    async with served(create_app(allowed, engine=database.engine, registry=registry)) as url:
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            async with subscriber(url, origin="https://evil.example"):
                pass
        assert refused.value.response.status_code == 403
        async with subscriber(url, origin="https://dash.example"):
            pass
        async with subscriber(url, origin=url):  # the server's own pages
            pass
        async with subscriber(url):  # not a browser: no Origin
            pass


async def test_a_subscriber_on_one_server_hears_what_another_recorded_exactly_once(
    database: DatabaseUnderTest, settings: Settings, registry: ClusterRegistry, graphql: GraphQLClient,
    simulator: SimulatedCluster,
) -> None:  # fmt: skip
    await _two_environments(graphql, simulator)
    other = create_app(settings, engine=database.engine, registry=registry)
    one = create_app(settings, engine=database.engine, registry=registry)
    async with served(one) as listening, served(other) as writing:
        import httpx

        async with httpx.AsyncClient(base_url=writing) as http, subscriber(listening) as changes:
            await changes.subscribe(CHANGES)
            await asyncio.sleep(0.3)
            writer = GraphQLClient(http)
            started = time.monotonic()
            await hibernate(writer, app="api", environment="prod")
            change: dict[str, Any] = (await changes.next(timeout=2))["statusChanges"]
            elapsed = time.monotonic() - started
            await changes.nothing_for(0.7)
    assert change["cause"] == "HIBERNATE" and elapsed < 2
    assert PROTOCOL == "graphql-transport-ws"


async def test_across_two_server_processes_on_postgresql(
    simulator: SimulatedCluster, shared_postgres: DatabaseUnderTest, tmp_path: Path
) -> None:
    first, second = [await start_server(shared_postgres.url, tmp_path) for _ in range(2)]
    try:
        await _two_environments(first.client, simulator)
        await _settled(first.client)  # the elected observer has recorded the new workloads
        async with subscriber(first.url) as changes:
            await changes.subscribe(CHANGES, {"filter": {"apps": ["web"]}})
            await asyncio.sleep(0.3)
            started = time.monotonic()
            await hibernate(second.client, app="web", environment="prod")
            change = (await changes.next(timeout=2))["statusChanges"]
            elapsed = time.monotonic() - started
            await changes.nothing_for(0.7)
        assert (change["cause"], change["appEnvironment"]["environment"]["name"]) == ("HIBERNATE", "prod")
        assert elapsed < 2
        print(f"\nhibernate on one server -> subscriber on another: {elapsed * 1000:.0f} ms")
    finally:
        await first.stop()
        await second.stop()


async def _settled(client: GraphQLClient) -> None:
    for _ in range(100):
        data = await client.query("{ appEnvironments { edges { node { status } } } }")
        if {e["node"]["status"] for e in data["appEnvironments"]["edges"]} == {"HEALTHY"}:
            await asyncio.sleep(0.3)
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the statuses did not settle")


async def test_a_subscriber_that_falls_behind_is_ended_with_where_to_resume(
    database: DatabaseUnderTest, graphql: GraphQLClient, simulator: SimulatedCluster
) -> None:
    from app.db.engine import create_session_factory
    from app.db.repositories.history import Where
    from app.services.status_feed import FeedOverrun, StatusFeed

    await _two_environments(graphql, simulator)
    feed = StatusFeed(create_session_factory(database.engine), database.engine, queue_size=2)
    await feed.start()
    try:
        async with feed.subscribe(Where()) as slow:
            for app in ("web", "api"):
                for environment in ("dev", "prod"):
                    await hibernate(graphql, app=app, environment=environment)
            await asyncio.sleep(0.5)  # delivered meanwhile, never read
            received = []
            with pytest.raises(FeedOverrun) as overrun:
                async for change in slow:
                    received.append(change)
    finally:
        await feed.stop()
    assert len(received) == 1, "the queue held two: one change, then the end"
    assert overrun.value.last_at == received[0][0].at


async def test_a_scheduled_sleep_is_pushed_like_any_other_change(
    database: DatabaseUnderTest,
    settings: Settings,
    registry: ClusterRegistry,
    graphql: GraphQLClient,
    simulator: SimulatedCluster,
) -> None:
    await _two_environments(graphql, simulator)
    await graphql.query('{ appStatuses(environment: "dev") { status } }')  # recorded: HEALTHY
    created = await create_schedule(graphql, **nightly(apps=["web"]))
    assert created["errors"] == []
    app = create_app(settings, engine=database.engine, registry=registry)
    scheduler = app.state.runtime.services.scheduler
    scheduler.clock = Clock(datetime(2026, 6, 5, 18, 0, tzinfo=UTC))  # Friday 20:00 in Paris
    async with served(app) as url, subscriber(url) as changes:
        await changes.subscribe(CHANGES, {"filter": {"apps": ["web"], "environments": ["dev"]}})
        await asyncio.sleep(0.2)

        assert (await scheduler.tick()).slept == ["web@dev"]

        change = (await changes.next(timeout=2))["statusChanges"]
    assert (change["fromStatus"], change["toStatus"], change["cause"], change["actor"]) == (
        "HEALTHY",
        "HIBERNATING",
        "SCHEDULE",
        "schedule:nightly",
    )
