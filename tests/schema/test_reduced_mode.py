"""Reduced mode: hibernate(reduceTo: N) scales down to N, keeps the originals, and wakes exactly."""

from __future__ import annotations

from app.simulator import SimulatedCluster
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.graphql import GraphQLClient
from tests.schema.operation_helpers import (
    annotation,
    codes,
    deploy,
    hibernate,
    records,
    replicas,
    setup_app,
    unhibernate,
)

NS = "team-dev"


async def test_reduce_then_unhibernate_restores_exactly(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 3)
    simulator.add_deployment(NS, "web-small", "web", 1)
    simulator.add_statefulset(NS, "web-db", "web", 2, "postgres:16")
    simulator.add_cronjob(NS, "web-report", "web", "report:1")

    reduced = await hibernate(graphql, reduceTo=1)

    assert reduced["outcome"] == "APPLIED" and reduced["errors"] == []
    assert reduced["status"]["status"] == "REDUCED"
    assert "web at 1 of 3" in reduced["status"]["reason"] and "web-db at 1 of 2" in reduced["status"]["reason"]
    assert [replicas(simulator, NS, n) for n in ("web", "web-small")] == [1, 1]
    assert replicas(simulator, NS, "web-db", "StatefulSet") == 1
    assert (annotation(simulator, NS, "web"), annotation(simulator, NS, "web-small")) == ("3", None)
    assert annotation(simulator, NS, "web-db", "StatefulSet") == "2"
    assert simulator.get("CronJob", NS, "web-report")["spec"]["suspend"] is True
    assert await records(database) == {
        "web": (3, None, "anonymous"),
        "web-db": (2, None, "anonymous"),
        "web-report": (None, False, "anonymous"),
    }
    assert (await hibernate(graphql, reduceTo=1))["outcome"] == "UNCHANGED"

    woken = await unhibernate(graphql)

    assert woken["outcome"] == "APPLIED"
    assert [replicas(simulator, NS, n) for n in ("web", "web-small")] == [3, 1]
    assert replicas(simulator, NS, "web-db", "StatefulSet") == 2
    assert annotation(simulator, NS, "web") is None and annotation(simulator, NS, "web-db", "StatefulSet") is None
    assert simulator.get("CronJob", NS, "web-report")["spec"]["suspend"] is False
    assert await records(database) == {}


async def test_hibernating_a_reduced_app_keeps_the_original_and_reducing_a_hibernated_one_too(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 4)
    await hibernate(graphql, reduceTo=2)

    hibernated = await hibernate(graphql)

    assert hibernated["status"]["status"] == "HIBERNATING"
    assert (replicas(simulator, NS, "web"), annotation(simulator, NS, "web")) == (0, "4")
    assert (await records(database))["web"][0] == 4

    reduced = await hibernate(graphql, reduceTo=1)

    assert reduced["status"]["status"] == "REDUCED"
    assert (replicas(simulator, NS, "web"), annotation(simulator, NS, "web")) == (1, "4")
    # A count at or above the original is the original: nothing left reduced.
    restored = await hibernate(graphql, reduceTo=9)
    assert restored["status"]["status"] in ("HEALTHY", "PROGRESSING")
    assert (replicas(simulator, NS, "web"), annotation(simulator, NS, "web")) == (4, None)
    assert await records(database) == {}


async def test_a_deploy_into_a_reduced_app_keeps_the_reduced_replicas(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await setup_app(graphql, simulator, replicas=3)
    simulator.add_deployment(NS, "web", "web", 3, "registry/web:1")
    await hibernate(graphql, reduceTo=1)

    deployed = await deploy(graphql, "registry/web:2")

    assert deployed["outcome"] == "APPLIED" and deployed["errors"] == []
    assert deployed["status"]["status"] == "REDUCED"
    assert "reduced mode" in deployed["deployment"]["reason"]
    web = simulator.get("Deployment", NS, "web")
    assert web["spec"]["template"]["spec"]["containers"][0]["image"] == "registry/web:2"
    assert (replicas(simulator, NS, "web"), annotation(simulator, NS, "web")) == (1, "3")
    assert (await records(database))["web"][0] == 3

    await unhibernate(graphql)

    assert (replicas(simulator, NS, "web"), annotation(simulator, NS, "web")) == (3, None)


async def test_reduce_to_below_one_is_invalid_and_changes_nothing(
    graphql: GraphQLClient, simulator: SimulatedCluster
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 3)

    for count in (0, -1):
        refused = await hibernate(graphql, reduceTo=count)
        assert refused["outcome"] == "FAILED" and codes(refused) == ["INVALID_INPUT"]
        assert refused["errors"][0]["field"] == "reduceTo"
    assert (replicas(simulator, NS, "web"), annotation(simulator, NS, "web")) == (3, None)
