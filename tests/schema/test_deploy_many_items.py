"""deployMany with `items`: each app its own image, the same guard and per-app isolation."""

from __future__ import annotations

from typing import Any

from app.simulator import SimulatedCluster
from tests.fixtures.graphql import GraphQLClient
from tests.schema.live_helpers import add_app, add_environment, register_simulator
from tests.schema.operation_helpers import DEPLOY_MANY, hibernate

NS = "items-dev"


async def _setup(graphql: GraphQLClient, simulator: SimulatedCluster, names: list[str]) -> None:
    await register_simulator(graphql, simulator)
    await add_environment(graphql, "dev", NS)
    for app in names:
        await add_app(graphql, app, ["dev"])
        simulator.add_deployment(NS, app, app, 1, f"{app}:1")


async def _deploy_many(graphql: GraphQLClient, **input: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await graphql.query(DEPLOY_MANY, {"input": {"environment": "dev", **input}}))[
        "deployMany"
    ]
    return payload


def _image(simulator: SimulatedCluster, app: str) -> str:
    image: str = simulator.get("Deployment", NS, app)["spec"]["template"]["spec"]["containers"][0]["image"]
    return image


def _outcomes(payload: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    return [(r["app"], r["outcome"], [e["code"] for e in r["errors"]]) for r in payload["results"]]


async def test_each_app_gets_its_own_image_in_input_order(graphql: GraphQLClient, simulator: SimulatedCluster) -> None:
    await _setup(graphql, simulator, ["a", "b", "c"])

    payload = await _deploy_many(
        graphql,
        items=[{"app": "c", "image": "shared:2"}, {"app": "a", "image": "a:7"}, {"app": "b", "image": "shared:2"}],
    )

    assert payload["errors"] == []
    assert _outcomes(payload) == [("c", "APPLIED", []), ("a", "APPLIED", []), ("b", "APPLIED", [])]
    assert [r["deployment"]["image"] for r in payload["results"]] == ["shared:2", "a:7", "shared:2"]
    assert [_image(simulator, app) for app in ("a", "b", "c")] == ["a:7", "shared:2", "shared:2"]


async def test_a_bad_image_or_a_hibernated_app_fails_only_its_own_item(
    graphql: GraphQLClient, simulator: SimulatedCluster
) -> None:
    await _setup(graphql, simulator, ["a", "b", "c", "d"])
    assert (await hibernate(graphql, "c"))["outcome"] == "APPLIED"

    payload = await _deploy_many(
        graphql,
        items=[
            {"app": "a", "image": "a:2"},
            {"app": "b", "image": "Not An Image"},
            {"app": "c", "image": "c:2"},
            {"app": "d", "image": "d:2"},
            {"app": "a", "image": "a:3"},
        ],
        onHibernated="SKIP",
    )

    assert _outcomes(payload) == [
        ("a", "APPLIED", []),
        ("b", "FAILED", ["INVALID_INPUT"]),
        ("c", "SKIPPED", []),
        ("d", "APPLIED", []),
        ("a", "SKIPPED", ["INVALID_INPUT"]),  # listed again: it runs once, with its first image
    ]
    assert [_image(simulator, app) for app in ("a", "b", "c", "d")] == ["a:2", "b:1", "c:1", "d:2"]


async def test_items_and_one_image_for_all_exclude_each_other(
    graphql: GraphQLClient, simulator: SimulatedCluster
) -> None:
    await _setup(graphql, simulator, ["a"])

    both = await _deploy_many(graphql, apps=["a"], image="a:2", items=[{"app": "a", "image": "a:3"}])
    neither = await _deploy_many(graphql)
    no_image = await _deploy_many(graphql, apps=["a"])
    empty = await _deploy_many(graphql, items=[])

    assert [(e["code"], e["field"]) for e in both["errors"]] == [("INVALID_INPUT", "items")]
    assert [(e["code"], e["field"]) for e in neither["errors"]] == [("INVALID_INPUT", "apps")]
    assert [(e["code"], e["field"]) for e in no_image["errors"]] == [("INVALID_INPUT", "apps")]
    assert [e["code"] for e in empty["errors"]] == ["INVALID_INPUT"]
    assert all(p["results"] == [] for p in (both, neither, no_image, empty))
    assert _image(simulator, "a") == "a:1"
