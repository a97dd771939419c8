"""Two `hibernia serve` processes on PostgreSQL watching one cluster: a change made with kubectl is
recorded by the server elected for the cluster and pushed to a subscriber of the other; when the
elected one is killed, the other takes over."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from app.db.models import App, AppEnvironment, Election, Server
from app.simulator import SimulatedCluster
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.servers import ServerProcess, shop_catalog, start_server
from tests.fixtures.subscriptions import subscriber

NS = "shop"
CHANGES = """subscription { statusChanges(filter: {apps: ["web"]}) {
  appEnvironment { app { name } } fromStatus toStatus cause actor } }"""


async def _catalog(server: ServerProcess, cluster: SimulatedCluster) -> None:
    cluster.add_deployment(NS, "web", "web", 2)
    await shop_catalog(server, cluster.url, ["web"])


async def _kubectl(cluster: SimulatedCluster, tmp_path: Path, *args: str) -> None:
    """kubectl when it is installed; else the same change through the simulator's API client."""
    kubectl = os.environ.get("HIBERNIA_KUBECTL") or shutil.which("kubectl")
    if kubectl is None:
        raise AssertionError("kubectl is not installed")
    config = tmp_path / "kubeconfig"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: sim\n"
        f"clusters: [{{name: sim, cluster: {{server: '{cluster.url}'}}}}]\n"
        "contexts: [{name: sim, context: {cluster: sim, user: u, namespace: shop}}]\nusers: [{name: u, user: {}}]\n"
    )
    process = await asyncio.create_subprocess_exec(
        kubectl, "--kubeconfig", str(config), *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, err = await process.communicate()
    assert process.returncode == 0, err.decode()


async def _status(database: DatabaseUnderTest) -> str:
    async with database.engine.connect() as connection:
        status = (await connection.execute(select(AppEnvironment.status).join(App).where(App.name == "web"))).scalar()
    return str(status)


async def _until_status(database: DatabaseUnderTest, status: str, seconds: float) -> float:
    started = time.monotonic()
    while await _status(database) != status:
        assert time.monotonic() - started < seconds, f"not {status} within {seconds} s"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def _synced(server: ServerProcess) -> None:
    for _ in range(200):
        caches = (await server.client.http.get("/readyz")).json().get("caches") or {}
        if caches and all(c["synced"] and c["watching"] for c in caches.values()):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the caches did not sync within 10 s")


@pytest.mark.kubectl
async def test_a_kubectl_change_reaches_a_subscriber_of_another_server_and_survives_a_kill(
    open_cluster: SimulatedCluster, shared_postgres: DatabaseUnderTest, tmp_path: Path
) -> None:
    first = await start_server(shared_postgres.url, tmp_path)
    second = await start_server(shared_postgres.url, tmp_path)
    servers = [first, second]
    try:
        await _catalog(first, open_cluster)
        for server in servers:
            await _synced(server)
        await asyncio.sleep(3.5)  # a heartbeat: the observer's role is claimed
        async with shared_postgres.engine.connect() as connection:
            holder = (
                await connection.execute(
                    select(Server.pid)
                    .join(Election, Election.server_id == Server.id)
                    .where(Election.name.like("observe:%"))
                )
            ).scalar_one()
        observer = next(s for s in servers if s.process.pid == holder)
        other = second if observer is first else first

        async with subscriber(other.url) as changes:
            await changes.subscribe(CHANGES)
            await asyncio.sleep(0.3)
            started = time.monotonic()
            await _kubectl(open_cluster, tmp_path, "annotate", "deployment", "web", "hibernator.devtron.ai/replicas=2")
            await _kubectl(open_cluster, tmp_path, "scale", "deployment", "web", "--replicas=0")
            while True:
                change = (await changes.next(timeout=2))["statusChanges"]
                if change["toStatus"] == "HIBERNATING":
                    break
            pushed = time.monotonic() - started
        assert change["cause"] == "OBSERVED" and pushed < 2, (change, pushed)

        observer.kill()
        killed = time.monotonic()
        await observer.process.wait()
        await _kubectl(open_cluster, tmp_path, "scale", "deployment", "web", "--replicas=2")
        await _until_status(shared_postgres, "HEALTHY", 25)
        takeover = time.monotonic() - killed
        print(f"\nkubectl -> subscriber on the other server: {pushed * 1000:.0f} ms")
        print(f"recorded again {takeover:.1f} s after the observing server was killed")
        assert takeover <= 20
    finally:
        for server in servers:
            await server.stop()  # the killed one too: its client's connections are closed
