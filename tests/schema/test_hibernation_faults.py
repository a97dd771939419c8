"""hibernate / unhibernate under cluster faults: records follow what the cluster answered."""

from __future__ import annotations

from app.simulator import SimulatedCluster
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.graphql import GraphQLClient
from tests.schema.operation_helpers import (
    annotation,
    codes,
    held_leases,
    hibernate,
    records,
    replicas,
    setup_app,
    unhibernate,
)

NS = "team-dev"


async def test_a_hibernate_the_cluster_refused_stores_no_record(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 3)
    simulator.set_faults(error_rate=1, only_verbs=["patch"])

    result = await hibernate(graphql)

    assert result["outcome"] == "FAILED"
    assert codes(result) == ["CLUSTER_UNAVAILABLE"]
    assert replicas(simulator, NS, "web") == 3 and annotation(simulator, NS, "web") is None
    assert await records(database) == {}
    assert result["status"]["status"] == "HEALTHY"
    assert await held_leases(database) == 0

    # Its owner later scales it to 0: nothing Hibernia did, so nothing for unhibernate to wake.
    simulator.set_faults()
    simulator.patch("Deployment", NS, "web", {"spec": {"replicas": 0}})
    woken = await unhibernate(graphql)

    assert woken["outcome"] == "UNCHANGED"
    assert replicas(simulator, NS, "web") == 0


async def test_an_unhibernate_the_cluster_refused_keeps_the_record(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 3)
    assert (await hibernate(graphql))["outcome"] == "APPLIED"
    simulator.set_faults(error_rate=1, only_verbs=["patch"])

    result = await unhibernate(graphql)

    assert result["outcome"] == "FAILED"
    assert codes(result) == ["CLUSTER_UNAVAILABLE"]
    assert replicas(simulator, NS, "web") == 0 and annotation(simulator, NS, "web") == "3"
    assert (await records(database))["web"][0] == 3
    assert result["status"]["status"] == "HIBERNATING"

    simulator.set_faults()
    again = await unhibernate(graphql)

    assert again["outcome"] == "APPLIED"
    assert replicas(simulator, NS, "web") == 3
    assert await records(database) == {}


async def test_a_refused_cronjob_suspend_records_nothing_and_a_retry_finishes(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 2)
    simulator.add_cronjob(NS, "web-report", "web", "report:1")
    simulator.set_faults(error_rate=1, only_verbs=["patch"], only_namespaces=[NS])

    failed = await hibernate(graphql)

    assert failed["outcome"] == "FAILED"
    assert await records(database) == {}
    assert simulator.get("CronJob", NS, "web-report")["spec"]["suspend"] is False

    simulator.set_faults()
    done = await hibernate(graphql)

    assert done["outcome"] == "APPLIED" and done["status"]["status"] == "HIBERNATING"
    assert set(await records(database)) == {"web", "web-report"}
