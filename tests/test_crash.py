"""A server killed mid-operation, and one stopped with SIGTERM: real processes on PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlalchemy import select

from app.db.models import App, AppEnvironment, Deployment, OperationLease, Server
from app.simulator import SimulatedCluster
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.servers import ServerProcess, start_server
from tests.schema.live_helpers import add_environment, register_simulator
from tests.schema.operation_helpers import DEPLOY_MANY, codes, deploy, hibernate, records, setup_app

NS = "team-dev"
APPS = [f"app-{i:02d}" for i in range(40)]


async def _catalog(server: ServerProcess, simulator: SimulatedCluster) -> None:
    client = server.client
    await register_simulator(client, simulator)
    await add_environment(client, "dev", NS)
    for app in APPS:
        data = await client.query(
            'mutation($n: String!) { createApp(input: {name: $n, team: "core", environments: ["dev"]}) '
            "{ errors { code } } }",
            {"n": app},
        )
        assert data["createApp"]["errors"] == []
        simulator.add_deployment(NS, app, app, 1, "team/app:1")


async def _deployments(database: DatabaseUnderTest) -> dict[str, tuple[str, str | None]]:
    """The killed server's deployments (image team/app:2), by app."""
    async with database.engine.connect() as connection:
        rows = await connection.execute(
            select(App.name, Deployment.outcome, Deployment.error)
            .join(AppEnvironment, AppEnvironment.id == Deployment.app_environment_id)
            .join(App, App.id == AppEnvironment.app_id)
            .where(Deployment.image == "team/app:2")
        )
        return {app: (str(outcome), error) for app, outcome, error in rows}


async def test_a_server_killed_mid_deploy_many_locks_nothing_for_long_and_is_settled_from_the_cluster(
    simulator: SimulatedCluster, shared_postgres: DatabaseUnderTest, tmp_path: Path
) -> None:
    first = await start_server(shared_postgres.url, tmp_path)
    await _catalog(first, simulator)
    simulator.set_faults(latency_seconds=0.25, only_verbs=["patch"])

    deploying = asyncio.create_task(
        first.client.post(DEPLOY_MANY, {"input": {"environment": "dev", "apps": APPS, "image": "team/app:2"}})
    )
    while simulator.count("patch") < 8:  # some apps deployed, others on their way
        await asyncio.sleep(0.01)
    first.kill()
    killed_at = time.monotonic()
    deploying.cancel()
    await first.stop()  # reaps the killed process and closes its client's connections
    simulator.set_faults()

    second = await start_server(shared_postgres.url, tmp_path)
    try:
        # How long does the crash lock an app the killed server was deploying?
        while True:
            attempt = await deploy(second.client, "team/app:3", app=APPS[-1])
            if codes(attempt) != ["OPERATION_IN_PROGRESS"]:
                break
            assert time.monotonic() - killed_at < 25, attempt
            await asyncio.sleep(0.25)
        lockout = time.monotonic() - killed_at
        print(f"\nlocked out for {lockout:.1f} s after kill -9 (default settings)")
        assert attempt["outcome"] == "APPLIED"
        assert lockout <= 20

        # Every interrupted deployment is settled from the cluster, none guessed.
        deadline = time.monotonic() + 30
        while any(
            outcome in ("RUNNING", "UNCONFIRMED") for outcome, _ in (await _deployments(shared_postgres)).values()
        ):
            assert time.monotonic() < deadline, await _deployments(shared_postgres)
            await asyncio.sleep(0.25)
        settled = await _deployments(shared_postgres)
        assert set(settled) == set(APPS)
        # The cluster decides: SUCCEEDED ("confirmed") exactly for the apps that run the image, FAILED
        # with the reason for the others. (The last app has been deployed again since it was settled.)
        for app in APPS[:-1]:
            image = simulator.get("Deployment", NS, app)["spec"]["template"]["spec"]["containers"][0]["image"]
            outcome, reason = settled[app]
            if image == "team/app:2":
                assert (outcome, "Confirmed" in (reason or "")) == ("SUCCEEDED", True), (app, settled[app])
            else:
                assert (outcome, "Deploy again" in (reason or "")) == ("FAILED", True), (app, settled[app])
        assert {outcome for outcome, _ in settled.values()} == {"SUCCEEDED", "FAILED"}, "the kill fell mid-batch"
        async with shared_postgres.engine.connect() as connection:
            held = (
                await connection.execute(select(OperationLease.holder).where(OperationLease.holder.is_not(None)))
            ).all()
        assert held == []
    finally:
        await second.stop()


async def test_sigterm_lets_the_running_operation_finish_and_record_before_the_server_leaves(
    simulator: SimulatedCluster, shared_postgres: DatabaseUnderTest, tmp_path: Path
) -> None:
    server = await start_server(shared_postgres.url, tmp_path)
    await setup_app(server.client, simulator)
    simulator.add_deployment(NS, "web", "web", 3)
    simulator.set_faults(latency_seconds=1.0, only_verbs=["patch"])

    hibernating = asyncio.create_task(hibernate(server.client))
    while simulator.count("list") < 3:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)
    server.process.terminate()  # SIGTERM while the patch is on its way

    result = await hibernating
    exit_code = await asyncio.wait_for(server.process.wait(), timeout=60)
    await server.client.http.aclose()

    assert result["outcome"] == "APPLIED" and result["errors"] == []
    assert exit_code in (0, -15), "uvicorn re-raises the SIGTERM it handled, once it has shut down"
    assert await records(shared_postgres) == {"web": (3, None, "anonymous")}
    async with shared_postgres.engine.connect() as connection:
        held = (await connection.execute(select(OperationLease.holder).where(OperationLease.holder.is_not(None)))).all()
        servers = (await connection.execute(select(Server.id))).all()
    assert held == [] and servers == []
