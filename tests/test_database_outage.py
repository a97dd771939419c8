"""A database outage: typed answers while it lasts, what reached the cluster recorded when it returns."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from app.cluster.registry import ClusterRegistry
from app.config import Settings
from app.db.models import AppEnvironment, Deployment, Transition
from app.main import create_app
from app.simulator import SimulatedCluster
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.graphql import GraphQLClient
from tests.fixtures.outage import DatabaseOutage, outage_engine
from tests.schema.operation_helpers import codes, deploy, held_leases, hibernate, records, setup_app

NS = "team-dev"


@dataclass
class Outaged:
    client: GraphQLClient
    outage: DatabaseOutage
    reconcile_round: object


@pytest.fixture
async def outaged(database: DatabaseUnderTest, settings: Settings, registry: ClusterRegistry) -> AsyncIterator[Outaged]:
    """A server whose database the test can cut: through a TCP proxy (PostgreSQL) or a failing disk (SQLite)."""
    async with outage_engine(database.url) as outage:
        quick = settings.model_copy(
            # The refresher's own rounds are a minute apart: only the database's return can start one sooner.
            update={"heartbeat_seconds": 0.2, "server_timeout_seconds": 1.0, "status_refresh_seconds": 60}
        )
        app = create_app(quick, engine=outage.engine, registry=registry)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hibernia.test") as http:
                yield Outaged(GraphQLClient(http), outage, app.state.runtime.services.reconciler.run_round)


async def _settled(outaged: Outaged, database: DatabaseUnderTest) -> None:
    """Rounds of the reconciler until nothing is held (the hold ends once the database answers)."""
    for _ in range(100):
        await outaged.reconcile_round()  # type: ignore[operator]
        if await held_leases(database) == 0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("leases still held 10 s after the database came back")


async def test_a_request_that_cannot_run_is_503_with_retry_after_and_the_server_recovers(
    outaged: Outaged,
) -> None:
    http = outaged.client.http
    await outaged.outage.cut()

    during = await http.post("/graphql", json={"query": "{ apps { totalCount } }"})
    mutation = await http.post(
        "/graphql", json={"query": 'mutation { createApp(input: {name: "a", team: "t"}) { errors { code } } }'}
    )

    for response in (during, mutation):
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"].isdigit()
        body = response.json()
        assert [e["extensions"]["code"] for e in body["errors"]] == ["SERVICE_UNAVAILABLE"]
    assert (await http.get("/readyz")).status_code == 503

    await outaged.outage.restore()
    after = await outaged.client.query("{ apps { totalCount } }")
    assert after == {"apps": {"totalCount": 0}}
    assert (await http.get("/readyz")).status_code == 200


async def _when_patching(simulator: SimulatedCluster) -> None:
    # The guard has read (three LISTs); the patch, slowed down, is on its way.
    while simulator.count("list") < 3:
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.1)


async def test_a_deploy_cut_off_from_its_database_is_recorded_from_the_cluster_when_it_returns(
    outaged: Outaged, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    client = outaged.client
    await setup_app(client, simulator)
    simulator.add_deployment(NS, "web", "web", 1, "team/web:1")
    simulator.clear_requests()
    simulator.set_faults(latency_seconds=0.6, only_verbs=["patch"])

    deploying = asyncio.create_task(deploy(client, "team/web:2"))
    await _when_patching(simulator)
    await outaged.outage.cut()
    result = await deploying

    assert result["outcome"] == "APPLIED", "the cluster took it"
    assert codes(result) == ["SERVICE_UNAVAILABLE"]
    assert simulator.get("Deployment", NS, "web")["spec"]["template"]["spec"]["containers"][0]["image"] == "team/web:2"

    await outaged.outage.restore()
    await _settled(outaged, database)

    async with database.engine.connect() as connection:
        outcome, reason = (
            await connection.execute(
                select(Deployment.outcome, Deployment.error).where(Deployment.image == "team/web:2")
            )
        ).one()
        causes = [
            str(c) for c in (await connection.execute(select(Transition.cause).order_by(Transition.id))).scalars()
        ]
    assert str(outcome) == "SUCCEEDED" and "database" in (reason or "")
    assert causes[-1] == "DEPLOY"


async def test_a_hibernate_cut_off_from_its_database_gets_its_records_when_it_returns(
    outaged: Outaged, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    client = outaged.client
    await setup_app(client, simulator)
    simulator.add_deployment(NS, "web", "web", 3)
    simulator.clear_requests()
    client.actor = "alice"
    simulator.set_faults(latency_seconds=0.6, only_verbs=["patch"])

    hibernating = asyncio.create_task(hibernate(client))
    await _when_patching(simulator)
    await outaged.outage.cut()
    result = await hibernating

    assert result["outcome"] == "APPLIED" and codes(result) == ["SERVICE_UNAVAILABLE"], result

    await outaged.outage.restore()
    await _settled(outaged, database)

    assert await records(database) == {"web": (3, None, "alice")}
    async with database.engine.connect() as connection:
        cause, actor, to = (
            await connection.execute(
                select(Transition.cause, Transition.actor, Transition.to_status).order_by(Transition.id.desc()).limit(1)
            )
        ).one()
    assert (str(cause), actor, str(to)) == ("HIBERNATE", "alice", "HIBERNATING")


async def test_a_cluster_change_made_while_the_database_was_away_is_recorded_when_it_returns(
    outaged: Outaged, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    client = outaged.client
    await setup_app(client, simulator)
    simulator.add_deployment(NS, "web", "web", 3)
    await client.query('{ appStatus(app: "web", environment: "dev") { status } }')
    await outaged.outage.cut()

    # Hibernated by another tool (Devtron, winter-soldier) while Hibernia cannot record anything.
    simulator.patch(
        "Deployment",
        NS,
        "web",
        {"metadata": {"annotations": {"hibernator.devtron.ai/replicas": "3"}}, "spec": {"replicas": 0}},
    )
    await asyncio.sleep(0.5)
    await outaged.outage.restore()

    for _ in range(100):
        async with database.engine.connect() as connection:
            status = (await connection.execute(select(AppEnvironment.status))).scalar_one()
        if str(status) == "HIBERNATING":
            break
        await asyncio.sleep(0.1)
    assert str(status) == "HIBERNATING", "recorded within 10 s of the database's return"
