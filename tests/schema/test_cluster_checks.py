"""createCluster and updateCluster check before saving; Cluster.health says whether the cluster answers."""

from __future__ import annotations

from typing import Any

from app.simulator import SimulatedCluster
from tests.fixtures.graphql import GraphQLClient
from tests.fixtures.servers import free_port
from tests.schema.catalog_helpers import CREATE_CLUSTER
from tests.schema.live_helpers import SIMULATOR_TOKEN, add_app, add_environment, register_simulator

UPDATE_CLUSTER = """mutation($i: UpdateClusterInput!) {
  updateCluster(input: $i) { cluster { name } errors { code field message } }
}"""
HEALTH = "{ clusters { name health { reachable lastContactAt lastError } } }"


async def _create(graphql: GraphQLClient, **values: Any) -> list[tuple[str, str | None]]:
    data = await graphql.query(CREATE_CLUSTER, {"input": {"name": "c", **values}})
    return [(e["code"], e["field"]) for e in data["createCluster"]["errors"]]


async def test_create_cluster_checks_reachability_and_credentials(
    graphql: GraphQLClient, simulator: SimulatedCluster
) -> None:
    dead = await _create(graphql, server=f"http://127.0.0.1:{free_port()}", token="t")
    unauthorised = await _create(graphql, server=simulator.url, token="wrong")
    unchecked = await _create(graphql, server=f"http://127.0.0.1:{free_port()}", verify=False, name="later")
    checked = await _create(graphql, server=simulator.url, token=SIMULATOR_TOKEN)
    names = [c["name"] for c in (await graphql.query("{ clusters { name } }"))["clusters"]]

    assert dead == [("CLUSTER_UNAVAILABLE", "server")]
    assert unauthorised == [("INVALID_INPUT", "token")]
    assert unchecked == [] and checked == []
    assert names == ["c", "later"]


async def test_update_cluster_checks_the_namespaces_of_its_environments(
    graphql: GraphQLClient, simulator: SimulatedCluster
) -> None:
    await register_simulator(graphql, simulator)
    await add_environment(graphql, "dev", "shop-dev")
    await add_app(graphql, "web", ["dev"])
    simulator.add_deployment("shop-dev", "web", "web", 1, "web:1")
    simulator.grant("no-patch", deny=["patch statefulsets"])
    simulator.grant("fine")

    refused = (await graphql.query(UPDATE_CLUSTER, {"i": {"name": "sim", "token": "no-patch"}}))["updateCluster"]
    accepted = (await graphql.query(UPDATE_CLUSTER, {"i": {"name": "sim", "token": "fine"}}))["updateCluster"]
    status = await graphql.query('{ appStatuses(environment: "dev") { status } }')

    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INVALID_INPUT", "token")]
    assert "patch statefulsets in namespace shop-dev" in refused["errors"][0]["message"]
    # The refused token was never saved; the accepted one is used from now on.
    assert accepted["errors"] == [] and status == {"appStatuses": [{"status": "HEALTHY"}]}


async def test_cluster_health_says_whether_it_answers(graphql: GraphQLClient, simulator: SimulatedCluster) -> None:
    await register_simulator(graphql, simulator)

    up = (await graphql.query(HEALTH))["clusters"][0]["health"]
    await simulator.go_offline()
    await graphql.query(UPDATE_CLUSTER, {"i": {"name": "sim", "verify": False, "token": SIMULATOR_TOKEN}})
    down = (await graphql.query(HEALTH))["clusters"][0]["health"]
    await simulator.go_online()

    assert up["reachable"] is True and up["lastContactAt"] and up["lastError"] is None
    assert down["reachable"] is False and "does not answer" in down["lastError"]
