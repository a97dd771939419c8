"""Bulk operations: per-app results in input order; one app's failure never fails another."""

from __future__ import annotations

import asyncio
from typing import Any

from app.simulator import SimulatedCluster
from tests.conftest import ClientFactory
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.graphql import GraphQLClient
from tests.schema.live_helpers import add_app, add_environment, register_simulator
from tests.schema.operation_helpers import (
    DEPLOY_MANY,
    HIBERNATE_MANY,
    UNHIBERNATE_MANY,
    held_leases,
    hibernate,
    replicas,
    running_deployments,
)

NS = "team-dev"
APPS = [f"app-{i}" for i in range(8)]


async def _setup(graphql: GraphQLClient, simulator: SimulatedCluster) -> None:
    await register_simulator(graphql, simulator)
    await add_environment(graphql, "dev", NS)
    for app in APPS:
        await add_app(graphql, app, ["dev"])
        simulator.add_deployment(NS, app, app, 2, f"{app}:1")


async def _bulk(graphql: GraphQLClient, mutation: str, field: str, **input_: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await graphql.query(mutation, {"input": {"environment": "dev", **input_}}))[field]
    return payload


async def test_deploy_many_skips_hibernated_apps_and_answers_in_input_order(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await _setup(graphql, simulator)
    for app in ("app-2", "app-5"):
        await hibernate(graphql, app=app)
    order = list(reversed(APPS))

    payload = await _bulk(graphql, DEPLOY_MANY, "deployMany", apps=order, image="team/app:2", onHibernated="SKIP")

    assert payload["errors"] == []
    assert [r["app"] for r in payload["results"]] == order
    outcomes = {r["app"]: r["outcome"] for r in payload["results"]}
    assert outcomes == {app: "SKIPPED" if app in ("app-2", "app-5") else "APPLIED" for app in APPS}
    assert all(r["deployment"]["outcome"] in ("SUCCEEDED", "SKIPPED") for r in payload["results"])
    for app in APPS:
        image = simulator.get("Deployment", NS, app)["spec"]["template"]["spec"]["containers"][0]["image"]
        assert image == (f"{app}:1" if app in ("app-2", "app-5") else "team/app:2")
    assert replicas(simulator, NS, "app-2") == 0
    assert await running_deployments(database) == 0


async def test_unknown_apps_fail_alone_and_duplicates_run_once(
    graphql: GraphQLClient, simulator: SimulatedCluster
) -> None:
    await _setup(graphql, simulator)

    payload = await _bulk(graphql, HIBERNATE_MANY, "hibernateMany", apps=["app-0", "ghost", "app-1", "app-0"])

    results = [(r["app"], r["outcome"], [e["code"] for e in r["errors"]]) for r in payload["results"]]
    assert results == [
        ("app-0", "APPLIED", []),
        ("ghost", "FAILED", ["NOT_FOUND"]),
        ("app-1", "APPLIED", []),
        ("app-0", "SKIPPED", ["INVALID_INPUT"]),
    ]


async def test_whole_request_errors(graphql: GraphQLClient, simulator: SimulatedCluster) -> None:
    await _setup(graphql, simulator)

    unknown_env = (await graphql.query(HIBERNATE_MANY, {"input": {"environment": "nowhere", "apps": ["app-0"]}}))[
        "hibernateMany"
    ]
    empty = await _bulk(graphql, HIBERNATE_MANY, "hibernateMany", apps=[])
    too_many = await _bulk(graphql, HIBERNATE_MANY, "hibernateMany", apps=[f"a{i}" for i in range(501)])

    assert [e["code"] for e in unknown_env["errors"]] == ["NOT_FOUND"] and unknown_env["results"] == []
    assert [e["code"] for e in empty["errors"]] == ["INVALID_INPUT"]
    assert [e["code"] for e in too_many["errors"]] == ["INVALID_INPUT"]
    assert simulator.count("patch") == 0


async def test_an_outage_mid_bulk_leaves_a_true_state_and_a_retry_finishes(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest, client_with: ClientFactory
) -> None:
    await _setup(graphql, simulator)
    sequential = await client_with(bulk_concurrency=1)  # so the outage falls between apps
    simulator.set_faults(latency_seconds=0.02, only_verbs=["patch"])

    async def cut_the_cluster() -> None:
        while simulator.count("patch") < 3:
            await asyncio.sleep(0.001)
        await simulator.go_offline()

    cutter = asyncio.create_task(cut_the_cluster())
    payload = await _bulk(sequential, HIBERNATE_MANY, "hibernateMany", apps=APPS)
    await cutter

    done = {r["app"] for r in payload["results"] if r["outcome"] == "APPLIED"}
    failed = {r["app"] for r in payload["results"] if r["outcome"] == "FAILED"}
    assert done and failed and done | failed == set(APPS)
    assert all(
        [e["code"] for e in r["errors"]] == ["CLUSTER_UNAVAILABLE"] for r in payload["results"] if r["app"] in failed
    )
    recorded = await graphql.query("{ appEnvironments(first: 100) { edges { node { app { name } status } } } }")
    statuses = {e["node"]["app"]["name"]: e["node"]["status"] for e in recorded["appEnvironments"]["edges"]}
    for app in APPS:
        # The recorded status of each app matches what really happened to it.
        assert (statuses[app] == "HIBERNATING") == (replicas(simulator, NS, app) == 0)
    assert {app for app in APPS if replicas(simulator, NS, app) == 0} >= done
    assert await held_leases(database) == 0

    await simulator.go_online()
    simulator.set_faults()
    retry = await _bulk(graphql, HIBERNATE_MANY, "hibernateMany", apps=APPS)

    assert all(r["outcome"] in ("APPLIED", "UNCHANGED") and r["errors"] == [] for r in retry["results"])
    assert all(replicas(simulator, NS, app) == 0 for app in APPS)

    woken = await _bulk(graphql, UNHIBERNATE_MANY, "unhibernateMany", apps=APPS)
    assert all(r["outcome"] == "APPLIED" for r in woken["results"])
    assert all(replicas(simulator, NS, app) == 2 for app in APPS)


async def test_bulk_reads_are_batched_per_namespace(graphql: GraphQLClient, simulator: SimulatedCluster) -> None:
    await _setup(graphql, simulator)

    payload = await _bulk(graphql, HIBERNATE_MANY, "hibernateMany", apps=APPS)

    assert all(r["outcome"] == "APPLIED" for r in payload["results"])
    # Eight apps, three kinds: reads coalesce into a few LISTs instead of 3 per app (24).
    assert simulator.count("list") < 3 * len(APPS) / 2
    assert simulator.count("patch") == len(APPS)
