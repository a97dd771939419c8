"""rollback: the previous successful image (or a named deployment's) deployed again as any deploy."""

from __future__ import annotations

from typing import Any

from app.simulator import SimulatedCluster
from tests.fixtures.graphql import GraphQLClient
from tests.schema.operation_helpers import codes, deploy, hibernate, replicas, setup_app

NS = "rollback-dev"
ROLLBACK = """mutation($input: RollbackInput!) {
  rollback(input: $input) {
    outcome
    deployment { id image outcome rolledBackFrom { id image } }
    status { status }
    errors { code field }
  }
}"""


async def _rollback(graphql: GraphQLClient, **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await graphql.query(ROLLBACK, {"input": {"app": "web", "environment": "dev", **extra}}))[
        "rollback"
    ]
    return payload


def _image(simulator: SimulatedCluster) -> str:
    image: str = simulator.get("Deployment", NS, "web")["spec"]["template"]["spec"]["containers"][0]["image"]
    return image


async def _deployed(graphql: GraphQLClient, simulator: SimulatedCluster, *images: str) -> list[str]:
    """web on dev (2 replicas), then each image deployed; their deployment ids."""
    await setup_app(graphql, simulator, namespace=NS, replicas=2)
    simulator.add_deployment(NS, "web", "web", 2, "web:1")
    ids = []
    for image in images:
        payload = await deploy(graphql, image)
        assert payload["outcome"] == "APPLIED", payload
        ids.append(payload["deployment"]["id"])
    return ids


async def test_rollback_deploys_the_previous_image_and_links_what_it_rolled_back(
    graphql: GraphQLClient, simulator: SimulatedCluster
) -> None:
    ids = await _deployed(graphql, simulator, "web:2", "web:3")

    back = await _rollback(graphql)
    forth = await _rollback(graphql)

    assert back["outcome"] == "APPLIED" and back["errors"] == []
    assert back["deployment"]["image"] == "web:2" and back["deployment"]["outcome"] == "SUCCEEDED"
    assert back["deployment"]["rolledBackFrom"] == {"id": ids[1], "image": "web:3"}
    # Rolling back a rollback returns to what it replaced, as `kubectl rollout undo` does.
    assert forth["deployment"]["image"] == "web:3"
    assert forth["deployment"]["rolledBackFrom"]["id"] == back["deployment"]["id"]
    assert _image(simulator) == "web:3"


async def test_rollback_to_a_named_deployment(graphql: GraphQLClient, simulator: SimulatedCluster) -> None:
    ids = await _deployed(graphql, simulator, "web:2", "web:3", "web:4")

    payload = await _rollback(graphql, to=ids[0])

    assert payload["outcome"] == "APPLIED" and payload["deployment"]["image"] == "web:2"
    assert payload["deployment"]["rolledBackFrom"]["image"] == "web:4"
    assert _image(simulator) == "web:2"


async def test_rollback_across_a_hibernation_follows_the_hibernated_policy(
    graphql: GraphQLClient, simulator: SimulatedCluster
) -> None:
    await _deployed(graphql, simulator, "web:2", "web:3")
    assert (await hibernate(graphql))["outcome"] == "APPLIED"

    refused = await _rollback(graphql)
    image_while_hibernated = _image(simulator)
    woken = await _rollback(graphql, onHibernated="WAKE")

    assert codes(refused) == ["APP_HIBERNATED"] and refused["outcome"] == "FAILED"
    assert image_while_hibernated == "web:3"
    assert woken["outcome"] == "APPLIED" and woken["deployment"]["image"] == "web:2"
    assert woken["deployment"]["rolledBackFrom"]["image"] == "web:3"
    assert _image(simulator) == "web:2" and replicas(simulator, NS, "web") == 2


async def test_rollback_refuses_when_there_is_nothing_to_roll_back_to(
    graphql: GraphQLClient, simulator: SimulatedCluster
) -> None:
    await _deployed(graphql, simulator, "web:2")
    await setup_app(graphql, simulator, app="api", namespace=NS, register=False)
    simulator.add_deployment(NS, "api", "api", 1, "api:1")
    other = (await deploy(graphql, "api:2", app="api"))["deployment"]["id"]

    nothing = await _rollback(graphql)
    not_ours = await _rollback(graphql, to=other)
    malformed = await _rollback(graphql, to="not-an-id")
    unknown_app = (await graphql.query(ROLLBACK, {"input": {"app": "nope", "environment": "dev"}}))["rollback"]

    assert [(e["code"], e["field"]) for e in nothing["errors"]] == [("INVALID_INPUT", "to")]
    assert [(e["code"], e["field"]) for e in not_ours["errors"]] == [("NOT_FOUND", "to")]
    assert [(e["code"], e["field"]) for e in malformed["errors"]] == [("INVALID_INPUT", "to")]
    assert codes(unknown_app) == ["NOT_FOUND"]
    assert _image(simulator) == "web:2"
