"""deployMany runs as one batch: constant SQL, one LIST per kind, per-app isolation kept."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from app.db.models import App, AppEnvironment, Deployment, OperationLease, Transition
from app.db.repositories.status import StatusRepository
from app.db.types import utcnow
from app.simulator import SimulatedCluster
from tests.conftest import ClientFactory
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.graphql import GraphQLClient
from tests.schema.live_helpers import add_app, add_environment, register_simulator
from tests.schema.operation_helpers import DEPLOY_MANY, held_leases, hibernate, replicas, running_deployments

NS = "team-dev"


async def _apps(graphql: GraphQLClient, simulator: SimulatedCluster, names: list[str]) -> None:
    for app in names:
        await add_app(graphql, app, ["dev"])
        simulator.add_deployment(NS, app, app, 2, f"{app}:1")


async def _setup(graphql: GraphQLClient, simulator: SimulatedCluster, names: list[str]) -> None:
    await register_simulator(graphql, simulator)
    await add_environment(graphql, "dev", NS)
    await _apps(graphql, simulator, names)


async def _deploy_many(graphql: GraphQLClient, apps: list[str], image: str, **extra: Any) -> dict[str, Any]:
    variables = {"input": {"environment": "dev", "apps": apps, "image": image, **extra}}
    payload: dict[str, Any] = (await graphql.query(DEPLOY_MANY, variables))["deployMany"]
    assert payload["errors"] == []
    return payload


def _image(simulator: SimulatedCluster, app: str) -> str:
    image: str = simulator.get("Deployment", NS, app)["spec"]["template"]["spec"]["containers"][0]["image"]
    return image


def _outcomes(payload: dict[str, Any]) -> dict[str, tuple[str, list[str]]]:
    return {r["app"]: (r["outcome"], [e["code"] for e in r["errors"]]) for r in payload["results"]}


async def _recorded(database: DatabaseUnderTest) -> dict[str, str]:
    async with database.engine.connect() as connection:
        rows = await connection.execute(
            select(App.name, AppEnvironment.status).join(App, App.id == AppEnvironment.app_id)
        )
        return {name: str(status.value if hasattr(status, "value") else status) for name, status in rows}


async def test_a_batch_costs_the_same_sql_and_one_list_per_kind_whatever_its_size(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    small, large = [f"s-{i}" for i in range(3)], [f"l-{i}" for i in range(24)]
    await _setup(graphql, simulator, small + large)
    for app in ("s-1", "l-3", "l-7"):
        await hibernate(graphql, app=app)

    costs: dict[int, tuple[int, dict[str, int]]] = {}
    for group in (small, large):
        before = simulator.log.counts()
        with database.counter.counting() as statements:
            payload = await _deploy_many(graphql, group, "team/app:2", onHibernated="SKIP")
        after = simulator.log.counts()
        requests = {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)}
        costs[len(group)] = (len(statements), requests)
        hibernated = {"s-1", "l-3", "l-7"}
        assert _outcomes(payload) == {a: ("SKIPPED" if a in hibernated else "APPLIED", []) for a in group}

    (small_sql, small_requests), (large_sql, large_requests) = costs[3], costs[24]
    assert small_sql == large_sql, (small_sql, large_sql, "\n".join(s[:70] for s in statements))
    # Environment check, targets, leases, deployment rows, records, previous statuses, statuses,
    # transitions, deployment outcomes, lease release.
    assert large_sql == 10, "\n".join(s[:90] for s in statements)
    for requests, applied in ((small_requests, 2), (large_requests, 22)):
        assert requests == {
            "list Deployment": 1,
            "list StatefulSet": 1,
            "list CronJob": 1,
            "patch Deployment": applied,
        }, requests


async def test_one_busy_app_is_refused_alone_and_its_lease_is_left_to_its_holder(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    apps = ["a", "b", "c"]
    await _setup(graphql, simulator, apps)
    now = utcnow()
    async with database.engine.begin() as connection:
        busy_id = (
            await connection.execute(
                select(AppEnvironment.id).join(App, App.id == AppEnvironment.app_id).where(App.name == "b")
            )
        ).scalar_one()
        await connection.execute(
            update(OperationLease)
            .where(OperationLease.app_environment_id == busy_id)
            .values(
                holder="other-server",
                operation="hibernate",
                actor="night-bot",
                acquired_at=now,
                expires_at=now + timedelta(minutes=1),
            )
        )

    payload = await _deploy_many(graphql, apps, "team/app:2", onHibernated="SKIP")

    assert _outcomes(payload) == {
        "a": ("APPLIED", []),
        "b": ("FAILED", ["OPERATION_IN_PROGRESS"]),
        "c": ("APPLIED", []),
    }
    busy = next(r for r in payload["results"] if r["app"] == "b")
    assert busy["deployment"] is None and "night-bot" in busy["errors"][0]["message"]
    assert _image(simulator, "b") == "b:1"
    async with database.engine.connect() as connection:
        rows = await connection.execute(select(OperationLease.app_environment_id, OperationLease.holder))
        holders = dict(rows.all())
    assert holders[busy_id] == "other-server"
    assert [h for i, h in holders.items() if i != busy_id] == [None, None]


async def test_a_cluster_down_fails_every_app_and_leaves_nothing_running_or_held(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    apps = ["a", "b"]
    await _setup(graphql, simulator, apps)
    await simulator.go_offline()
    try:
        payload = await _deploy_many(graphql, apps, "team/app:2", onHibernated="SKIP")
    finally:
        await simulator.go_online()

    assert _outcomes(payload) == {app: ("FAILED", ["CLUSTER_UNAVAILABLE"]) for app in apps}
    assert all(r["deployment"]["outcome"] == "FAILED" for r in payload["results"])
    assert await held_leases(database) == 0 and await running_deployments(database) == 0
    async with database.engine.connect() as connection:
        transitions = (await connection.execute(select(Transition.id))).all()
    assert transitions == []  # nothing was observed, so nothing is claimed


async def test_an_outage_mid_batch_leaves_a_true_state_and_a_retry_finishes(
    graphql: GraphQLClient,
    simulator: SimulatedCluster,
    database: DatabaseUnderTest,
    client_with: ClientFactory,
    settle_round: Callable[[], Awaitable[int]],
) -> None:
    apps = [f"app-{i}" for i in range(8)]
    await _setup(graphql, simulator, apps)
    await hibernate(graphql, app="app-0")
    sequential = await client_with(bulk_concurrency=1)  # so the outage falls between apps
    # Slow patches: going offline takes the simulator's server up to 0.1 s, so the cut lands mid-batch.
    simulator.set_faults(latency_seconds=0.05, only_verbs=["patch"])

    async def cut_the_cluster() -> None:
        while simulator.count("patch") < 4:  # 1 from the hibernate, then 3 deploys
            await asyncio.sleep(0.001)
        await simulator.go_offline()

    cutter = asyncio.create_task(cut_the_cluster())
    payload = await _deploy_many(sequential, apps, "team/app:2", onHibernated="SKIP")
    await cutter

    outcomes = _outcomes(payload)
    done = {app for app, (outcome, _) in outcomes.items() if outcome == "APPLIED"}
    failed = {app for app, (outcome, _) in outcomes.items() if outcome == "FAILED"}
    assert outcomes["app-0"] == ("SKIPPED", [])
    assert done and failed and done | failed | {"app-0"} == set(apps)
    assert all(outcomes[app][1] == ["CLUSTER_UNAVAILABLE"] for app in failed)
    await simulator.go_online()
    simulator.set_faults()
    # The patch cut mid-flight could not be read back: its app is settled once the cluster answers.
    await settle_round()
    for app in apps[1:]:
        # What the cluster holds is exactly what the results say was applied.
        assert (_image(simulator, app) == "team/app:2") == (app in done)
    recorded = await _recorded(database)
    assert recorded["app-0"] == "HIBERNATING"
    assert await held_leases(database) == 0 and await running_deployments(database) == 0
    async with database.engine.connect() as connection:
        rows = await connection.execute(
            select(App.name, Deployment.outcome)
            .join(AppEnvironment, AppEnvironment.id == Deployment.app_environment_id)
            .join(App, App.id == AppEnvironment.app_id)
            .where(Deployment.image == "team/app:2")
        )
        deployments = {name: str(getattr(outcome, "value", outcome)) for name, outcome in rows}
    assert deployments == {
        app: "SKIPPED" if app == "app-0" else "SUCCEEDED" if app in done else "FAILED" for app in apps
    }

    retry = await _deploy_many(graphql, apps, "team/app:2", onHibernated="SKIP")

    assert _outcomes(retry) == {app: ("SKIPPED" if app == "app-0" else "APPLIED", []) for app in apps}
    assert all(_image(simulator, app) == "team/app:2" for app in apps[1:])


async def test_wake_in_a_batch_wakes_the_hibernated_and_deploys_everywhere(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    apps = ["a", "b", "c"]
    await _setup(graphql, simulator, apps)
    await hibernate(graphql, app="b")

    payload = await _deploy_many(graphql, apps, "team/app:3", onHibernated="WAKE")

    assert _outcomes(payload) == {app: ("APPLIED", []) for app in apps}
    assert all(_image(simulator, app) == "team/app:3" for app in apps)
    assert replicas(simulator, NS, "b") == 1  # the app environment's desired replicas, as a deploy sets
    statuses = {r["app"]: r["status"]["status"] for r in payload["results"]}
    assert statuses["b"] in ("WAKING", "HEALTHY", "PROGRESSING")
    assert (await _recorded(database))["b"] == statuses["b"]
    assert await held_leases(database) == 0 and await running_deployments(database) == 0


async def test_refuse_in_a_batch_names_each_hibernated_app(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    apps = ["a", "b"]
    await _setup(graphql, simulator, apps)
    await hibernate(graphql, app="a")

    payload = await _deploy_many(graphql, [*apps, "ghost"], "team/app:2", onHibernated="REFUSE")

    assert _outcomes(payload) == {
        "a": ("FAILED", ["APP_HIBERNATED"]),
        "b": ("APPLIED", []),
        "ghost": ("FAILED", ["NOT_FOUND"]),
    }
    refused = next(r for r in payload["results"] if r["app"] == "a")
    assert refused["deployment"]["outcome"] == "FAILED" and refused["status"]["status"] == "HIBERNATING"
    assert _image(simulator, "a") == "a:1" and replicas(simulator, NS, "a") == 0


async def test_when_the_statuses_cannot_be_recorded_the_deployments_still_end(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    apps = ["a", "b"]
    await _setup(graphql, simulator, apps)

    async def broken(*args: object, **kwargs: object) -> set[int]:
        raise RuntimeError("the database went away mid-write")

    monkeypatch.setattr(StatusRepository, "record_operations", broken)
    payload = await _deploy_many(graphql, apps, "team/app:2", onHibernated="SKIP")

    # The patches happened: each app says so, and no deployment is left RUNNING or lease held.
    assert _outcomes(payload) == {app: ("APPLIED", []) for app in apps}
    assert all(r["deployment"]["outcome"] == "SUCCEEDED" for r in payload["results"])
    assert all(_image(simulator, app) == "team/app:2" for app in apps)
    assert await running_deployments(database) == 0 and await held_leases(database) == 0
