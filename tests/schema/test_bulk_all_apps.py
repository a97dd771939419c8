"""Whole-environment bulk operations: `allApps: true`, narrowed by `teams` and `excludeApps`."""

from __future__ import annotations

from typing import Any

import pytest

from app.simulator import SimulatedCluster
from tests.fixtures.graphql import GraphQLClient
from tests.schema.live_helpers import add_app, add_environment, register_simulator
from tests.schema.operation_helpers import DEPLOY_MANY, HIBERNATE_MANY, UNHIBERNATE_MANY, replicas

NS = "team-dev"
TEAMS = {"api": "core", "web": "core", "shop": "sales", "pay": "sales", "ops": "infra"}


async def _setup(graphql: GraphQLClient, simulator: SimulatedCluster) -> None:
    await register_simulator(graphql, simulator)
    await add_environment(graphql, "dev", NS)
    await add_environment(graphql, "prod", "team-prod")
    for app, team in TEAMS.items():
        await add_app(graphql, app, ["dev"], team=team)
        simulator.add_deployment(NS, app, app, 2, f"{app}:1")
    await add_app(graphql, "elsewhere", ["prod"])  # attached elsewhere: never part of dev's allApps
    simulator.add_deployment("team-prod", "elsewhere", "elsewhere", 2)


async def _bulk(graphql: GraphQLClient, mutation: str, field: str, **input_: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await graphql.query(mutation, {"input": {"environment": "dev", **input_}}))[field]
    return payload


async def test_all_apps_hibernates_and_wakes_the_whole_environment_listing_each(
    graphql: GraphQLClient, simulator: SimulatedCluster
) -> None:
    await _setup(graphql, simulator)

    slept = await _bulk(graphql, HIBERNATE_MANY, "hibernateMany", allApps=True)

    assert slept["errors"] == []
    assert [(r["app"], r["outcome"]) for r in slept["results"]] == [(app, "APPLIED") for app in sorted(TEAMS)]
    assert all(replicas(simulator, NS, app) == 0 for app in TEAMS)
    assert replicas(simulator, "team-prod", "elsewhere") == 2

    woken = await _bulk(graphql, UNHIBERNATE_MANY, "unhibernateMany", allApps=True)

    assert [r["app"] for r in woken["results"]] == sorted(TEAMS)
    assert all(replicas(simulator, NS, app) == 2 for app in TEAMS)


async def test_teams_and_exclusions_narrow_all_apps(graphql: GraphQLClient, simulator: SimulatedCluster) -> None:
    await _setup(graphql, simulator)

    slept = await _bulk(
        graphql, HIBERNATE_MANY, "hibernateMany", allApps=True, teams=["core", "sales"], excludeApps=["pay"]
    )

    assert [r["app"] for r in slept["results"]] == ["api", "shop", "web"]
    assert {app: replicas(simulator, NS, app) for app in TEAMS} == {"api": 0, "web": 0, "shop": 0, "pay": 2, "ops": 2}

    deployed = await _bulk(
        graphql, DEPLOY_MANY, "deployMany", allApps=True, teams=["infra"], image="ops:2", onHibernated="SKIP"
    )

    assert [(r["app"], r["outcome"]) for r in deployed["results"]] == [("ops", "APPLIED")]
    image = simulator.get("Deployment", NS, "ops")["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "ops:2"


@pytest.mark.parametrize(
    ("input_", "field"),
    [
        pytest.param({}, "apps", id="neither-apps-nor-allApps"),
        pytest.param({"allApps": False}, "apps", id="allApps-false"),
        pytest.param({"apps": ["api"], "allApps": True}, "allApps", id="both"),
        pytest.param({"apps": ["api"], "teams": ["core"]}, "teams", id="teams-without-allApps"),
        pytest.param({"allApps": True, "teams": ["nobody"]}, "allApps", id="nothing-left"),
        pytest.param({"allApps": True, "teams": []}, "teams", id="empty-teams"),
    ],
)
async def test_without_an_explicit_choice_nothing_is_touched(
    graphql: GraphQLClient, simulator: SimulatedCluster, input_: dict[str, Any], field: str
) -> None:
    await _setup(graphql, simulator)

    for mutation, name, extra in (
        (HIBERNATE_MANY, "hibernateMany", {}),
        (UNHIBERNATE_MANY, "unhibernateMany", {}),
        (DEPLOY_MANY, "deployMany", {"image": "x:2"}),
    ):
        payload = await _bulk(graphql, mutation, name, **input_, **extra)
        assert payload["results"] == []
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_INPUT", field)]
    assert all(replicas(simulator, NS, app) == 2 for app in TEAMS)
    assert simulator.count("patch") == 0
