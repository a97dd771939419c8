"""Changing and deleting catalog entries: refusals name what uses them, deleting archives (history stays
readable), names can be used again, and nothing is ever deleted from the cluster."""

from __future__ import annotations

from typing import Any

from app.db.engine import create_session_factory
from app.services.tokens import TokenService
from app.simulator import SimulatedCluster
from tests.commands.pipeline import plant_lease
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.graphql import GraphQLClient
from tests.schema.catalog_helpers import ATTACH_APP
from tests.schema.live_helpers import add_app, add_environment, register_simulator
from tests.schema.operation_helpers import codes, hibernate, unhibernate

NS = "life-dev"


def _mutation(field: str, input_type: str, selection: str) -> str:
    return f"mutation($i: {input_type}!) {{ {field}(input: $i) {{ {selection} errors {{ code message field }} }} }}"


UPDATE_CLUSTER = _mutation("updateCluster", "UpdateClusterInput", "cluster { name server }")
DELETE_CLUSTER = _mutation("deleteCluster", "DeleteByNameInput", "cluster { name archivedAt }")
UPDATE_ENVIRONMENT = _mutation("updateEnvironment", "UpdateEnvironmentInput", "environment { name namespace }")
DELETE_ENVIRONMENT = _mutation("deleteEnvironment", "DeleteByNameInput", "environment { name archivedAt }")
UPDATE_APP = _mutation("updateApp", "UpdateAppInput", "app { name team }")
DETACH_APP = _mutation("detachApp", "DetachAppInput", "appEnvironment { id archivedAt }")
DELETE_APP = _mutation("deleteApp", "DeleteByNameInput", "app { name archivedAt }")
FEED = """query($apps: [String!]) {
  transitions(first: 100, filter: { apps: $apps }) {
    nodes { cause appEnvironment { id archivedAt app { name archivedAt } environment { name archivedAt } } }
  }
}"""


async def _change(graphql: GraphQLClient, document: str, **values: Any) -> dict[str, Any]:
    data = await graphql.query(document, {"i": values})
    payload: dict[str, Any] = next(iter(data.values()))
    return payload


async def _catalog(graphql: GraphQLClient, simulator: SimulatedCluster) -> None:
    """web on dev with some history."""
    await register_simulator(graphql, simulator)
    await add_environment(graphql, "dev", NS)
    await add_app(graphql, "web", ["dev"])
    simulator.add_deployment(NS, "web", "web", 1, "web:1")
    assert (await hibernate(graphql, "web", "dev"))["outcome"] == "APPLIED"
    assert (await unhibernate(graphql, "web", "dev"))["outcome"] == "APPLIED"


async def test_deleting_what_is_in_use_is_refused_naming_what_uses_it(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await _catalog(graphql, simulator)
    async with create_session_factory(database.engine)() as session, session.begin():
        await TokenService(session).create("dev-bot", "deployer", ["dev"])

    cluster = await _change(graphql, DELETE_CLUSTER, name="sim")
    environment = await _change(graphql, DELETE_ENVIRONMENT, name="dev")
    app = await _change(graphql, DELETE_APP, name="web")
    unknown = await _change(graphql, DELETE_CLUSTER, name="nope")
    assert (await _change(graphql, DETACH_APP, app="web", environment="dev"))["errors"] == []
    still_a_token = await _change(graphql, DELETE_ENVIRONMENT, name="dev")

    assert codes(cluster) == ["INVALID_INPUT"] and "dev" in cluster["errors"][0]["message"]
    assert codes(environment) == ["INVALID_INPUT"] and "web" in environment["errors"][0]["message"]
    assert codes(app) == ["INVALID_INPUT"] and "dev" in app["errors"][0]["message"]
    assert codes(unknown) == ["NOT_FOUND"]
    assert codes(still_a_token) == ["INVALID_INPUT"] and "dev-bot" in still_a_token["errors"][0]["message"]
    assert cluster["cluster"] is None and environment["environment"] is None and app["app"] is None


async def test_deleting_archives_history_stays_and_the_cluster_is_left_alone(
    graphql: GraphQLClient, simulator: SimulatedCluster
) -> None:
    await _catalog(graphql, simulator)
    simulator.clear_requests()

    detached = await _change(graphql, DETACH_APP, app="web", environment="dev")
    listed = await graphql.query("{ appEnvironments(first: 10) { totalCount } }")
    operation = await hibernate(graphql, "web", "dev")
    app = await _change(graphql, DELETE_APP, name="web")
    environment = await _change(graphql, DELETE_ENVIRONMENT, name="dev")
    cluster = await _change(graphql, DELETE_CLUSTER, name="sim")
    catalog = await graphql.query('{ app(name: "web") { name } environments { name } clusters { name } }')
    feed = (await graphql.query(FEED, {"apps": ["web"]}))["transitions"]["nodes"]

    assert detached["errors"] == [] and detached["appEnvironment"]["archivedAt"]
    assert listed["appEnvironments"]["totalCount"] == 0
    assert codes(operation) == ["NOT_FOUND"]
    assert app["app"]["archivedAt"] and environment["environment"]["archivedAt"] and cluster["cluster"]["archivedAt"]
    assert catalog == {"app": None, "environments": [], "clusters": []}
    # The audit trail keeps every row, naming where it happened.
    assert {row["cause"] for row in feed} >= {"HIBERNATE", "UNHIBERNATE"}
    where = feed[0]["appEnvironment"]
    assert where["archivedAt"] and where["app"]["archivedAt"] and where["environment"]["archivedAt"]
    # Nothing was deleted, or even written, in the cluster.
    assert simulator.count("delete") == 0 and simulator.count("patch") == 0
    assert simulator.get("Deployment", NS, "web")["spec"]["replicas"] == 1


async def test_names_can_be_used_again_and_attaching_again_continues_the_history(
    graphql: GraphQLClient, simulator: SimulatedCluster
) -> None:
    await _catalog(graphql, simulator)
    before = (await graphql.query(FEED, {"apps": ["web"]}))["transitions"]["nodes"]
    attachment_id = before[0]["appEnvironment"]["id"]
    assert (await _change(graphql, DETACH_APP, app="web", environment="dev"))["errors"] == []

    again = await graphql.query(ATTACH_APP, {"input": {"app": "web", "environment": "dev", "replicas": 2}})
    after = (await graphql.query(FEED, {"apps": ["web"]}))["transitions"]["nodes"]
    assert (await _change(graphql, DETACH_APP, app="web", environment="dev"))["errors"] == []
    assert (await _change(graphql, DELETE_APP, name="web"))["errors"] == []
    recreated = await graphql.query(
        'mutation { createApp(input: {name: "web", team: "new"}) { app { id } errors { code } } }'
    )

    assert again["attachApp"]["errors"] == []
    assert again["attachApp"]["appEnvironment"]["id"] == attachment_id
    assert again["attachApp"]["appEnvironment"]["desiredReplicas"] == 2
    assert len(after) >= len(before) and after[-1] == before[-1]
    assert recreated["createApp"]["errors"] == []


async def test_updates_change_the_team_the_namespace_and_how_the_cluster_is_reached(
    graphql: GraphQLClient, simulator: SimulatedCluster
) -> None:
    await _catalog(graphql, simulator)

    team = await _change(graphql, UPDATE_APP, name="web", team="storefront")
    moved = await _change(graphql, UPDATE_ENVIRONMENT, name="dev", namespace="elsewhere")
    gone = await graphql.query('{ appStatus(app: "web", environment: "dev") { status } }')
    back = await _change(graphql, UPDATE_ENVIRONMENT, name="dev", namespace=NS)
    refused = await _change(graphql, UPDATE_CLUSTER, name="sim", server="http://127.0.0.1:9")
    dead = await _change(graphql, UPDATE_CLUSTER, name="sim", server="http://127.0.0.1:9", verify=False)
    unreachable = await graphql.query('{ appStatus(app: "web", environment: "dev") { status } }')
    healed = await _change(graphql, UPDATE_CLUSTER, name="sim", server=simulator.url)
    reachable = await graphql.query('{ appStatus(app: "web", environment: "dev") { status } }')
    bad_url = await _change(graphql, UPDATE_CLUSTER, name="sim", server="not a url")
    bad_team = await _change(graphql, UPDATE_APP, name="web", team=" ")

    assert team["app"] == {"name": "web", "team": "storefront"}
    assert moved["environment"]["namespace"] == "elsewhere" and back["errors"] == []
    assert gone["appStatus"]["status"] == "MISSING"
    assert codes(refused) == ["CLUSTER_UNAVAILABLE"]  # checked first: nothing was saved
    assert dead["errors"] == [] and unreachable["appStatus"]["status"] == "UNKNOWN"
    assert healed["cluster"]["server"] == simulator.url and reachable["appStatus"]["status"] == "HEALTHY"
    assert codes(bad_url) == ["INVALID_INPUT"] and codes(bad_team) == ["INVALID_INPUT"]


async def test_an_app_is_not_detached_while_an_operation_holds_it(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await _catalog(graphql, simulator)
    await plant_lease(database, "web")

    busy = await _change(graphql, DETACH_APP, app="web", environment="dev")

    assert codes(busy) == ["OPERATION_IN_PROGRESS"] and "night-bot" in busy["errors"][0]["message"]
    assert (await graphql.query("{ appEnvironments(first: 10) { totalCount } }"))["appEnvironments"]["totalCount"] == 1
