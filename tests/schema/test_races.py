"""No races: the operation lease and resourceVersion preconditions keep every interleaving serial."""

from __future__ import annotations

import asyncio
import os
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from app.db.models import AppEnvironment, Deployment, OperationLease
from app.db.types import utcnow
from app.simulator import SimulatedCluster
from app.simulator.resources import resource_for_kind
from tests.conftest import ClientFactory
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.graphql import GraphQLClient
from tests.schema.operation_helpers import (
    annotation,
    codes,
    deploy,
    held_leases,
    hibernate,
    records,
    replicas,
    running_deployments,
    setup_app,
    unhibernate,
)

NS = "team-dev"
ROUNDS = int(os.environ.get("HIBERNIA_RACE_ROUNDS", "50"))


def _image(simulator: SimulatedCluster) -> str:
    image: str = simulator.get("Deployment", NS, "web")["spec"]["template"]["spec"]["containers"][0]["image"]
    return image


async def _recorded_status(database: DatabaseUnderTest) -> str:
    async with database.engine.connect() as connection:
        return str((await connection.execute(select(AppEnvironment.status))).scalar_one())


def classify(hibernated: dict[str, Any], deployed: dict[str, Any]) -> str:
    """Names the serial order a round's two results prove, or fails the test."""
    h, d = hibernated["outcome"], deployed["outcome"]
    if h == "APPLIED" and d == "FAILED" and codes(deployed) == ["APP_HIBERNATED"]:
        return "hibernate, then refused deploy"
    if h == "APPLIED" and d == "APPLIED":
        return "deploy, then hibernate"
    if codes(hibernated) == ["OPERATION_IN_PROGRESS"] and d == "APPLIED":
        return "deploy; hibernate answered in progress"
    if codes(deployed) == ["OPERATION_IN_PROGRESS"] and h == "APPLIED":
        return "hibernate; deploy answered in progress"
    raise AssertionError(f"no serial order explains hibernate={hibernated} deploy={deployed}")


async def check_round(
    graphql: GraphQLClient,
    simulator: SimulatedCluster,
    database: DatabaseUnderTest,
    order: str,
    image_before: str,
    image_now: str,
) -> None:
    hibernate_applied = order != "deploy; hibernate answered in progress"
    deploy_applied = order in ("deploy, then hibernate", "deploy; hibernate answered in progress")
    assert _image(simulator) == (image_now if deploy_applied else image_before)
    if hibernate_applied:
        # Hibernate was applied last (a later deploy would have been refused): the app is asleep.
        assert replicas(simulator, NS, "web") == 0
    assert all(original not in (0, None) for original, _, _ in (await records(database)).values())
    live = (await graphql.query('{ appStatus(app: "web", environment: "dev") { status } }'))["appStatus"]["status"]
    # Hibernate applied last leaves it asleep; a deploy alone (hibernate refused) leaves it awake.
    assert live == "HIBERNATING" if hibernate_applied else live in ("HEALTHY", "PROGRESSING", "WAKING")
    assert await _recorded_status(database) == live
    assert await held_leases(database) == 0
    assert await running_deployments(database) == 0


async def _after(delay: float, operation: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    await asyncio.sleep(delay)
    return await operation


async def test_concurrent_hibernate_and_refusing_deploy_always_serialise(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await setup_app(graphql, simulator, replicas=2)
    simulator.add_deployment(NS, "web", "web", 2, "web:0")
    simulator.set_faults(latency_seconds=0.002)  # widen the windows where the two could interleave
    orders: Counter[str] = Counter()

    for round_ in range(1, ROUNDS + 1):
        if replicas(simulator, NS, "web") == 0:
            assert (await unhibernate(graphql))["outcome"] == "APPLIED"
        before = _image(simulator)
        image = f"web:{round_}"
        # Jittered starts: sometimes they collide on the lease, sometimes one runs right after the other.
        jitter = random.Random(round_)
        hibernated, deployed = await asyncio.gather(
            _after(jitter.uniform(0, 0.12), hibernate(graphql)),
            _after(jitter.uniform(0, 0.12), deploy(graphql, image, onHibernated="REFUSE")),
        )
        order = classify(hibernated, deployed)
        orders[order] += 1
        await check_round(graphql, simulator, database, order, before, image)

    print(f"\n{ROUNDS} rounds on {database.backend}: {dict(orders)}")
    assert sum(orders.values()) == ROUNDS


async def test_a_lease_whose_holder_died_is_settled_and_freed_after_it_expires(
    graphql: GraphQLClient,
    simulator: SimulatedCluster,
    database: DatabaseUnderTest,
    settle_round: Callable[[], Awaitable[int]],
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 2, "web:1")
    now = utcnow()
    async with database.engine.begin() as connection:
        app_environment_id = (await connection.execute(select(AppEnvironment.id))).scalar_one()
        await connection.execute(
            Deployment.__table__.insert().values(
                app_environment_id=app_environment_id,
                image="web:crashed",
                on_hibernated="REFUSE",
                outcome="RUNNING",
                actor="crashed-bot",
                started_at=now - timedelta(minutes=10),
            )
        )
        await connection.execute(
            update(OperationLease).values(
                holder="dead-process",
                operation="deploy",
                actor="crashed-bot",
                acquired_at=now - timedelta(minutes=10),
                expires_at=now + timedelta(minutes=1),
            )
        )

    busy = await hibernate(graphql)

    assert codes(busy) == ["OPERATION_IN_PROGRESS"]
    assert "deploy" in busy["errors"][0]["message"] and "crashed-bot" in busy["errors"][0]["message"]
    assert replicas(simulator, NS, "web") == 2

    async with database.engine.begin() as connection:
        await connection.execute(update(OperationLease).values(expires_at=now - timedelta(seconds=1)))
    assert await settle_round() == 1

    deployed = await deploy(graphql, "web:2")

    assert deployed["outcome"] == "APPLIED"
    assert await held_leases(database) == 0
    # The dead holder's deploy is no longer RUNNING forever: the cluster does not run its image.
    async with database.engine.connect() as connection:
        crashed = (await connection.execute(select(Deployment).where(Deployment.image == "web:crashed"))).one()
    assert crashed.outcome == "FAILED" and "web:crashed" in crashed.error


async def _when_the_guard_has_read(simulator: SimulatedCluster, lists: int) -> None:
    while simulator.count("list") < lists:
        await asyncio.sleep(0.001)


async def test_a_workload_hibernated_between_check_and_write_is_never_overwritten(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 2, "web:1")
    simulator.set_faults(latency_seconds=0.3, only_verbs=["patch"])

    deploying = asyncio.create_task(deploy(graphql, "web:2", onHibernated="REFUSE"))
    await _when_the_guard_has_read(simulator, lists=3)
    # Behind Hibernia's back (winter-soldier), while the deploy's patch is on its way:
    simulator.patch(
        "Deployment",
        NS,
        "web",
        {"metadata": {"annotations": {"hibernator.devtron.ai/replicas": "2"}}, "spec": {"replicas": 0}},
    )
    result = await deploying

    assert simulator.count("patch", status=409) == 1, "the stale write was refused by its resourceVersion"
    assert codes(result) == ["APP_HIBERNATED"], "re-checked after the conflict"
    assert replicas(simulator, NS, "web") == 0
    assert annotation(simulator, NS, "web") == "2"
    assert _image(simulator) == "web:1"
    assert await running_deployments(database) == 0


async def test_hibernate_rereads_a_workload_scaled_between_read_and_write(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 2, "web:1")
    simulator.set_faults(latency_seconds=0.3, only_verbs=["patch"])

    hibernating = asyncio.create_task(hibernate(graphql))
    await _when_the_guard_has_read(simulator, lists=3)
    simulator.patch("Deployment", NS, "web", {"spec": {"replicas": 5}})  # someone scales up meanwhile
    result = await hibernating

    assert result["outcome"] == "APPLIED"
    assert simulator.count("patch", status=409) == 1
    assert annotation(simulator, NS, "web") == "5", "the original is what was there when it was written"
    assert (await records(database))["web"][0] == 5


@pytest.mark.parametrize("operations", [2, 5])
async def test_only_one_of_many_simultaneous_operations_gets_the_lease(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest, operations: int
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 2, "web:1")
    simulator.set_faults(latency_seconds=0.05)

    results = await asyncio.gather(*(hibernate(graphql) for _ in range(operations)))

    outcomes = Counter(r["outcome"] if not r["errors"] else r["errors"][0]["code"] for r in results)
    assert outcomes["APPLIED"] == 1
    assert outcomes["APPLIED"] + outcomes["OPERATION_IN_PROGRESS"] + outcomes["UNCHANGED"] == operations
    assert await held_leases(database) == 0


async def test_an_operation_slower_than_its_lease_keeps_it(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest, client_with: ClientFactory
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 2, "web:1")
    short_leases = await client_with(lease_seconds=0.3)
    simulator.set_faults(latency_seconds=1.0, only_verbs=["patch"])

    slow = asyncio.create_task(hibernate(short_leases))
    await _when_the_guard_has_read(simulator, lists=3)
    await asyncio.sleep(0.6)  # twice the lease: without renewal it would have expired by now
    meanwhile = await deploy(short_leases, "web:2", onHibernated="REFUSE")
    result = await slow

    assert codes(meanwhile) == ["OPERATION_IN_PROGRESS"]
    assert result["outcome"] == "APPLIED"
    assert await held_leases(database) == 0


async def test_a_workload_deleted_after_a_conflict_is_left_out_and_the_rest_recorded(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 2, "web:1")
    simulator.add_deployment(NS, "web-worker", "web", 3, "worker:1")
    simulator.set_faults(latency_seconds=0.3, only_verbs=["patch", "get"])

    hibernating = asyncio.create_task(hibernate(graphql))
    await _when_the_guard_has_read(simulator, lists=3)
    simulator.patch("Deployment", NS, "web-worker", {"spec": {"replicas": 4}})  # its patch will get a 409
    while simulator.count("patch", status=409) < 1:
        await asyncio.sleep(0.005)
    simulator.store.delete(resource_for_kind("Deployment"), NS, "web-worker")  # gone before the re-read
    result = await hibernating

    assert result["errors"] == []
    assert result["status"]["status"] == "HIBERNATING"
    assert set(await records(database)) == {"web"}
    assert await held_leases(database) == 0
