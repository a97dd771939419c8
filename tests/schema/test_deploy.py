"""deploy: the guard (FETCH_HELM_PIPELINE_APP_STATUS), the three policies, and the legacy path."""

from __future__ import annotations

import pytest

from app.config import HibernatedPolicySetting
from app.simulator import SimulatedCluster
from tests.conftest import ClientFactory
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.graphql import GraphQLClient
from tests.schema.operation_helpers import (
    annotation,
    codes,
    deploy,
    hibernate,
    records,
    replicas,
    running_deployments,
    setup_app,
)

NS = "team-dev"


def _image(simulator: SimulatedCluster, name: str = "web") -> list[str]:
    containers = simulator.get("Deployment", NS, name)["spec"]["template"]["spec"]["containers"]
    return [c["image"] for c in containers]


async def test_first_deploy_creates_the_deployment(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await setup_app(graphql, simulator, replicas=2)
    graphql.actor = "ci-bot"

    result = await deploy(graphql, "registry.example.com/web:1.0")

    assert result["outcome"] == "APPLIED" and result["errors"] == []
    assert result["deployment"]["outcome"] == "SUCCEEDED"
    assert result["deployment"]["actor"] == "ci-bot"
    assert result["deployment"]["finishedAt"]
    assert result["status"]["status"] in ("PROGRESSING", "HEALTHY")
    assert _image(simulator) == ["registry.example.com/web:1.0"]
    assert replicas(simulator, NS, "web") == 2
    assert await running_deployments(database) == 0


async def test_redeploy_changes_only_the_main_container(graphql: GraphQLClient, simulator: SimulatedCluster) -> None:
    await setup_app(graphql, simulator, replicas=3)
    simulator.add_deployment(NS, "web", "web", 1, "web:1", container_name="web")
    simulator.patch(
        "Deployment",
        NS,
        "web",
        {
            "spec": {
                "template": {
                    "spec": {"containers": [{"name": "web", "image": "web:1"}, {"name": "proxy", "image": "envoy:1"}]}
                }
            }
        },
    )

    result = await deploy(graphql, "web:2")

    assert result["outcome"] == "APPLIED"
    assert _image(simulator) == ["web:2", "envoy:1"]
    assert replicas(simulator, NS, "web") == 3


@pytest.mark.parametrize("original", [2, 5])
async def test_refuse_leaves_a_hibernated_app_alone_and_says_why(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest, original: int
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", original, "web:1")
    graphql.actor = "nightly-hibernator"
    await hibernate(graphql)
    graphql.actor = "ci-bot"

    result = await deploy(graphql, "web:2", onHibernated="REFUSE")

    assert result["outcome"] == "FAILED"
    assert codes(result) == ["APP_HIBERNATED"]
    message = result["errors"][0]["message"]
    assert "nightly-hibernator" in message and "onHibernated: WAKE" in message
    assert result["deployment"]["outcome"] == "FAILED" and result["deployment"]["reason"]
    assert replicas(simulator, NS, "web") == 0
    assert _image(simulator) == ["web:1"]
    assert (await records(database))["web"][0] == original


async def test_skip_leaves_a_hibernated_app_alone(graphql: GraphQLClient, simulator: SimulatedCluster) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 2, "web:1")
    await hibernate(graphql)

    result = await deploy(graphql, "web:2", onHibernated="SKIP")

    assert result["outcome"] == "SKIPPED" and result["errors"] == []
    assert result["deployment"]["outcome"] == "SKIPPED"
    assert "hibernated" in result["deployment"]["reason"]
    assert replicas(simulator, NS, "web") == 0 and _image(simulator) == ["web:1"]


async def test_a_partially_hibernated_app_is_guarded_too(graphql: GraphQLClient, simulator: SimulatedCluster) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 2, "web:1")
    simulator.add_deployment(NS, "web-worker", "web", 2, "worker:1")
    await hibernate(graphql, workloads=["web-worker"])

    result = await deploy(graphql, "web:2", onHibernated="REFUSE")

    assert codes(result) == ["APP_HIBERNATED"]
    assert _image(simulator) == ["web:1"]


async def test_wake_unhibernates_then_deploys_as_one_operation(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await setup_app(graphql, simulator, replicas=1)
    simulator.add_deployment(NS, "web", "web", 1, "web:1")
    simulator.add_deployment(NS, "web-worker", "web", 4, "worker:1")
    await hibernate(graphql)

    result = await deploy(graphql, "web:2", onHibernated="WAKE")

    assert result["outcome"] == "APPLIED" and result["errors"] == []
    assert _image(simulator) == ["web:2"]
    assert replicas(simulator, NS, "web") == 1
    assert replicas(simulator, NS, "web-worker") == 4, "woken to its recorded replicas"
    assert annotation(simulator, NS, "web-worker") is None
    assert await records(database) == {}
    history = await graphql.query(
        '{ app(name: "web") { environments { transitions { edges { node { cause toStatus } } } } } }'
    )
    causes = [e["node"]["cause"] for e in history["app"]["environments"][0]["transitions"]["edges"]]
    assert causes[:2] == ["DEPLOY", "UNHIBERNATE"], "both steps are in the history, newest first"


async def test_the_default_policy_comes_from_the_settings(
    graphql: GraphQLClient, simulator: SimulatedCluster, client_with: ClientFactory
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 2, "web:1")
    await hibernate(graphql)
    skipping = await client_with(default_on_hibernated=HibernatedPolicySetting.SKIP)

    config = await skipping.query("{ serverConfig { hibernationCheckEnabled defaultOnHibernated } }")
    result = await deploy(skipping, "web:2")

    assert config["serverConfig"] == {"hibernationCheckEnabled": True, "defaultOnHibernated": "SKIP"}
    assert result["outcome"] == "SKIPPED"
    assert result["deployment"]["onHibernated"] == "SKIP"


async def test_with_the_check_off_a_deploy_wakes_the_app_and_clears_the_record(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest, client_with: ClientFactory
) -> None:
    await setup_app(graphql, simulator, replicas=2)
    simulator.add_deployment(NS, "web", "web", 2, "web:1")
    await hibernate(graphql)
    legacy = await client_with(fetch_helm_pipeline_app_status=False)

    config = await legacy.query("{ serverConfig { hibernationCheckEnabled } }")
    result = await deploy(legacy, "web:2", onHibernated="REFUSE")

    assert config["serverConfig"]["hibernationCheckEnabled"] is False
    assert result["outcome"] == "APPLIED", "no check: the policy is not consulted"
    assert replicas(simulator, NS, "web") == 2
    assert annotation(simulator, NS, "web") is None
    assert await records(database) == {}
    assert result["status"]["status"] != "HIBERNATING"


@pytest.mark.parametrize("image", ["", "  ", "team/UPPER:1", "has space:1", "a" * 1100, "web:tag:extra"])
async def test_a_bad_image_is_rejected_before_anything_is_recorded(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest, image: str
) -> None:
    await setup_app(graphql, simulator)

    result = await deploy(graphql, image)

    assert codes(result) == ["INVALID_INPUT"]
    assert result["errors"][0]["field"] == "image"
    assert result["deployment"] is None
    assert simulator.count() == 0


async def test_deployment_history_pages_newest_first(graphql: GraphQLClient, simulator: SimulatedCluster) -> None:
    await setup_app(graphql, simulator)
    for tag in range(5):
        assert (await deploy(graphql, f"web:{tag}"))["outcome"] == "APPLIED"
    query = """query($after: String) { app(name: "web") { environments {
        deployments(first: 2, after: $after) {
          totalCount edges { node { image } } pageInfo { hasNextPage endCursor } } } } }"""

    seen: list[str] = []
    after = None
    while True:
        page = (await graphql.query(query, {"after": after}))["app"]["environments"][0]["deployments"]
        assert page["totalCount"] == 5
        seen += [e["node"]["image"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert seen == [f"web:{tag}" for tag in reversed(range(5))]


async def test_cluster_down_fails_the_deploy_record_with_the_reason(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await setup_app(graphql, simulator)
    await simulator.go_offline()

    result = await deploy(graphql, "web:2")

    assert codes(result) == ["CLUSTER_UNAVAILABLE"]
    assert result["deployment"]["outcome"] == "FAILED"
    assert result["deployment"]["reason"]
    assert await running_deployments(database) == 0


@pytest.mark.parametrize("policy", ["REFUSE", "SKIP"])
async def test_a_deploy_that_finds_an_app_hibernated_outside_hibernia_records_it(
    graphql: GraphQLClient, simulator: SimulatedCluster, policy: str
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", image="web:1", hibernated_from=3)  # by winter-soldier

    await deploy(graphql, "web:2", onHibernated=policy)

    data = await graphql.query("{ appEnvironments(filter: {statuses: [HIBERNATING]}) { totalCount } }")
    assert data["appEnvironments"]["totalCount"] == 1


async def test_a_release_without_a_deployment_gets_none_created(
    graphql: GraphQLClient, simulator: SimulatedCluster
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_statefulset(NS, "web-db", "web", 1, "postgres:16")

    result = await deploy(graphql, "web:2")

    assert codes(result) == ["INVALID_INPUT"]
    assert simulator.count("create") == 0


async def test_a_same_named_deployment_of_another_release_is_named_not_retried(
    graphql: GraphQLClient, simulator: SimulatedCluster
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", None, 1, "other:1")  # no release label: not this release's

    result = await deploy(graphql, "web:2")

    assert codes(result) == ["CONFLICT"]
    assert "app.kubernetes.io/instance" in result["errors"][0]["message"]
    assert simulator.count("create") == 1
