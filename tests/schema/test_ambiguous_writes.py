"""Writes whose answer was lost are read back; status churn is nobody's conflict."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy import select

from app.db.models import Deployment
from app.simulator import SimulatedCluster
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
    setup_app,
    unhibernate,
)

NS = "team-dev"


def _image(simulator: SimulatedCluster) -> str:
    image: str = simulator.get("Deployment", NS, "web")["spec"]["template"]["spec"]["containers"][0]["image"]
    return image


async def _deployment(database: DatabaseUnderTest, image: str) -> tuple[str, str | None]:
    async with database.engine.connect() as connection:
        outcome, error = (
            await connection.execute(select(Deployment.outcome, Deployment.error).where(Deployment.image == image))
        ).one()
    return str(outcome), error


async def test_a_hibernate_whose_answer_was_dropped_is_read_back_as_applied(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 3)
    simulator.set_faults(dropped_answer_next=1, only_verbs=["patch"])

    result = await hibernate(graphql)

    assert result["outcome"] == "APPLIED" and result["errors"] == []
    assert replicas(simulator, NS, "web") == 0 and annotation(simulator, NS, "web") == "3"
    assert await records(database) == {"web": (3, None, "anonymous")}
    assert await held_leases(database) == 0


async def test_an_unhibernate_whose_answer_was_dropped_is_read_back_as_applied(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 3)
    await hibernate(graphql)
    simulator.set_faults(dropped_answer_next=1, only_verbs=["patch"])

    result = await unhibernate(graphql)

    assert result["outcome"] == "APPLIED" and result["errors"] == []
    assert replicas(simulator, NS, "web") == 3
    assert await records(database) == {}


async def test_a_deploy_answered_too_late_is_read_back_as_applied(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest, client_with: ClientFactory
) -> None:
    impatient = await client_with(cluster_timeout_seconds=0.5)
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 1, "team/web:1")
    simulator.set_faults(late_answer_next=1, late_answer_seconds=5, only_verbs=["patch"])

    result = await deploy(impatient, "team/web:2")

    assert result["outcome"] == "APPLIED" and result["errors"] == []
    assert result["deployment"]["outcome"] == "SUCCEEDED"
    assert _image(simulator) == "team/web:2"


async def test_a_first_deploy_whose_create_was_answered_too_late_is_read_back(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest, client_with: ClientFactory
) -> None:
    impatient = await client_with(cluster_timeout_seconds=0.5)
    await setup_app(graphql, simulator)
    simulator.set_faults(late_answer_next=1, late_answer_seconds=5, only_verbs=["create"])

    result = await deploy(impatient, "team/web:1")

    assert result["outcome"] == "APPLIED", result
    assert _image(simulator) == "team/web:1"


async def test_a_patch_that_failed_without_landing_is_a_checked_failure(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 1, "team/web:1")
    simulator.set_faults(error_rate=1, only_verbs=["patch"])

    result = await deploy(graphql, "team/web:2")

    assert result["outcome"] == "FAILED" and codes(result) == ["CLUSTER_UNAVAILABLE"]
    assert "may have landed" not in result["errors"][0]["message"]
    assert result["deployment"]["outcome"] == "FAILED"
    assert _image(simulator) == "team/web:1"
    assert await held_leases(database) == 0


async def test_an_unknowable_deploy_is_unconfirmed_until_settled_from_the_cluster(
    graphql: GraphQLClient,
    simulator: SimulatedCluster,
    database: DatabaseUnderTest,
    settle_round: Callable[[], Awaitable[int]],
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 1, "team/web:1")
    # The patch lands, its answer is held, and then the API server goes away: neither the answer
    # nor a read back will come.
    simulator.set_faults(late_answer_next=1, late_answer_seconds=30, only_verbs=["patch"])
    deploying = asyncio.create_task(deploy(graphql, "team/web:2"))
    while _image(simulator) != "team/web:2":
        await asyncio.sleep(0.005)
    await simulator.go_offline()

    result = await deploying

    assert result["outcome"] == "FAILED" and codes(result) == ["CLUSTER_UNAVAILABLE"]
    assert "may have landed" in result["errors"][0]["message"]
    assert result["deployment"]["outcome"] == "UNCONFIRMED"
    assert await held_leases(database) == 1, "left to settle"

    await simulator.go_online()
    simulator.set_faults()
    assert await settle_round() == 1
    outcome, reason = await _deployment(database, "team/web:2")
    assert outcome == "SUCCEEDED" and "Confirmed" in (reason or "")
    assert await held_leases(database) == 0


async def test_a_wake_never_loses_to_its_own_rollout(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    # The controller writes status every few milliseconds while pods come up, as a real cluster does.
    simulator.controller.rollout_seconds = 1.5
    simulator.controller.status_churn_seconds = 0.005
    await setup_app(graphql, simulator, replicas=3)
    simulator.add_deployment(NS, "web", "web", 3, "team/web:1")
    simulator.add_statefulset(NS, "web-db", "web", 3)
    assert (await hibernate(graphql))["outcome"] == "APPLIED"

    for round_ in range(3):
        woken = await deploy(graphql, f"team/web:{round_ + 2}", onHibernated="WAKE")
        assert woken["outcome"] == "APPLIED" and woken["errors"] == [], woken
        # And back to sleep while the pods are still coming up: status moves, nobody conflicts.
        slept = await hibernate(graphql)
        assert slept["outcome"] == "APPLIED" and slept["errors"] == [], slept
    assert replicas(simulator, NS, "web") == 0 and replicas(simulator, NS, "web-db", "StatefulSet") == 0
    assert simulator.count("patch", status=409) > 0, "the status churn did meet the writes"


async def test_a_wake_deploy_of_a_lone_deployment_is_one_patch(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await setup_app(graphql, simulator, replicas=2)
    simulator.add_deployment(NS, "web", "web", 2, "team/web:1")
    await hibernate(graphql)
    simulator.clear_requests()

    woken = await deploy(graphql, "team/web:2", onHibernated="WAKE")

    assert woken["outcome"] == "APPLIED"
    assert simulator.count("patch") == 1
    assert replicas(simulator, NS, "web") == 2 and annotation(simulator, NS, "web") is None
    assert _image(simulator) == "team/web:2"
    assert await records(database) == {}


async def test_a_409_with_nothing_changed_is_written_again(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 2, "team/web:1")
    simulator.set_faults(conflict_next=2, only_verbs=["patch"])

    result = await deploy(graphql, "team/web:2")

    assert result["outcome"] == "APPLIED" and result["errors"] == []
    assert _image(simulator) == "team/web:2"
