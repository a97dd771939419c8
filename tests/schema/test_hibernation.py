"""hibernate / unhibernate: exact, idempotent, never recording 0 as an original."""

from __future__ import annotations

import pytest

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


@pytest.mark.parametrize("original", [1, 3, 7])
async def test_hibernate_then_unhibernate_restores_exactly(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest, original: int
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", original, annotations={"team.example/owner": "core"})
    graphql.actor = "ci-bot"

    hibernated = await hibernate(graphql)

    assert hibernated["outcome"] == "APPLIED" and hibernated["errors"] == []
    assert hibernated["status"]["status"] == "HIBERNATING"
    assert replicas(simulator, NS, "web") == 0
    assert annotation(simulator, NS, "web") == str(original)
    assert simulator.get("Deployment", NS, "web")["metadata"]["annotations"]["team.example/owner"] == "core"
    assert await records(database) == {"web": (original, None, "ci-bot")}

    woken = await unhibernate(graphql)

    assert woken["outcome"] == "APPLIED" and woken["errors"] == []
    assert woken["status"]["status"] in ("WAKING", "HEALTHY")
    assert replicas(simulator, NS, "web") == original
    assert annotation(simulator, NS, "web") is None
    assert simulator.get("Deployment", NS, "web")["metadata"]["annotations"]["team.example/owner"] == "core"
    assert await records(database) == {}
    assert await held_leases(database) == 0


async def test_hibernating_twice_is_unchanged_and_keeps_the_original(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 3)
    await hibernate(graphql)

    again = await hibernate(graphql)

    assert again["outcome"] == "UNCHANGED" and again["errors"] == []
    assert again["status"]["status"] == "HIBERNATING"
    assert annotation(simulator, NS, "web") == "3"
    assert (await records(database))["web"][0] == 3


async def test_retry_after_a_lost_database_write_takes_the_original_from_the_annotation(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    # The cluster side of a hibernation happened (annotation + 0) but the record never reached the
    # database: a retry must record 3 from the annotation, never the 0 it sees in `replicas`.
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", hibernated_from=3)

    retried = await hibernate(graphql)

    assert retried["outcome"] == "UNCHANGED"
    assert (await records(database))["web"][0] == 3
    assert (await unhibernate(graphql))["outcome"] == "APPLIED"
    assert replicas(simulator, NS, "web") == 3


async def test_unhibernate_uses_the_database_record_when_the_annotation_was_lost(
    graphql: GraphQLClient, simulator: SimulatedCluster
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 4)
    await hibernate(graphql)
    # Someone strips annotations (a re-apply of an old manifest) but leaves the workload at 0.
    simulator.patch("Deployment", NS, "web", {"metadata": {"annotations": None}})

    woken = await unhibernate(graphql)

    assert woken["outcome"] == "APPLIED"
    assert replicas(simulator, NS, "web") == 4


async def test_a_workload_at_zero_without_annotation_is_not_hibernated_and_not_recorded(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 0)

    result = await hibernate(graphql)

    assert result["outcome"] == "UNCHANGED"
    assert result["status"]["status"] == "STOPPED"
    assert await records(database) == {}
    assert annotation(simulator, NS, "web") is None


async def test_statefulset_and_cronjobs_are_hibernated_and_restored(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 2)
    simulator.add_statefulset(NS, "web-db", "web", 3, "postgres:16")
    simulator.add_cronjob(NS, "web-report", "web", "report:1", schedule="0 * * * *")
    simulator.add_cronjob(NS, "web-cleanup", "web", "cleanup:1", schedule="0 3 * * *", suspend=True)

    hibernated = await hibernate(graphql)

    assert hibernated["status"]["status"] == "HIBERNATING"
    assert replicas(simulator, NS, "web-db", "StatefulSet") == 0
    assert simulator.get("CronJob", NS, "web-report")["spec"]["suspend"] is True
    assert simulator.get("CronJob", NS, "web-cleanup")["spec"]["suspend"] is True
    # The CronJob its owner had suspended is not ours to record.
    assert await records(database) == {
        "web": (2, None, "anonymous"),
        "web-db": (3, None, "anonymous"),
        "web-report": (None, False, "anonymous"),
    }

    await unhibernate(graphql)

    assert replicas(simulator, NS, "web") == 2
    assert replicas(simulator, NS, "web-db", "StatefulSet") == 3
    assert simulator.get("CronJob", NS, "web-report")["spec"]["suspend"] is False
    assert simulator.get("CronJob", NS, "web-cleanup")["spec"]["suspend"] is True, "was suspended before"
    assert await records(database) == {}


async def test_an_hpa_takes_over_again_after_unhibernate(graphql: GraphQLClient, simulator: SimulatedCluster) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 3)
    simulator.add_hpa(NS, "web", "web", min_replicas=2, max_replicas=5, release="web")

    await hibernate(graphql)
    assert replicas(simulator, NS, "web") == 0, "the HPA leaves a target at 0 alone"

    simulator.patch("HorizontalPodAutoscaler", NS, "web", {"spec": {"minReplicas": 4}})
    assert replicas(simulator, NS, "web") == 0, "still left alone while hibernated"

    await unhibernate(graphql)

    # Restored to the recorded 3, which the HPA then lifts to its new floor of 4.
    assert replicas(simulator, NS, "web") == 4
    simulator.patch("HorizontalPodAutoscaler", NS, "web", {"spec": {"minReplicas": 5}})
    assert replicas(simulator, NS, "web") == 5, "the HPA scales the awake target again"


async def test_partial_hibernation_by_workload_name(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 2)
    simulator.add_deployment(NS, "web-worker", "web", 3)

    result = await hibernate(graphql, workloads=["web-worker"])

    assert result["outcome"] == "APPLIED"
    assert result["status"]["status"] == "PARTIALLY_HIBERNATED"
    assert replicas(simulator, NS, "web") == 2
    assert replicas(simulator, NS, "web-worker") == 0
    assert set(await records(database)) == {"web-worker"}


async def test_unknown_workload_names_change_nothing(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 2)

    result = await hibernate(graphql, workloads=["web", "ghost"])

    assert codes(result) == ["INVALID_INPUT"]
    assert "ghost" in result["errors"][0]["message"]
    assert replicas(simulator, NS, "web") == 2
    assert await records(database) == {}
    assert await held_leases(database) == 0


async def test_unknown_app_or_environment_is_not_found(graphql: GraphQLClient, simulator: SimulatedCluster) -> None:
    await setup_app(graphql, simulator)

    assert codes(await hibernate(graphql, app="ghost")) == ["NOT_FOUND"]
    assert codes(await unhibernate(graphql, environment="nowhere")) == ["NOT_FOUND"]
    assert (await hibernate(graphql, app="ghost"))["outcome"] == "FAILED"


async def test_cluster_down_is_a_payload_error_that_changes_nothing(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 2)
    await simulator.go_offline()

    result = await hibernate(graphql)

    assert result["outcome"] == "FAILED"
    assert codes(result) == ["CLUSTER_UNAVAILABLE"]
    assert await records(database) == {}
    assert await held_leases(database) == 0


async def test_history_records_who_did_what(graphql: GraphQLClient, simulator: SimulatedCluster) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 2)
    graphql.actor = "alice"
    await hibernate(graphql)

    data = await graphql.query(
        """{ app(name: "web") { environments {
             hibernation { actor workloads { name originalReplicas actor } }
             transitions(first: 10) { totalCount edges { node { fromStatus toStatus cause actor } } } } } }"""
    )

    env = data["app"]["environments"][0]
    assert env["hibernation"] == {
        "actor": "alice",
        "workloads": [{"name": "web", "originalReplicas": 2, "actor": "alice"}],
    }
    assert [e["node"] for e in env["transitions"]["edges"]] == [
        {"fromStatus": "NOT_DEPLOYED", "toStatus": "HIBERNATING", "cause": "HIBERNATE", "actor": "alice"}
    ]
