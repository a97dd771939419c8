"""Runs `hibernia` as a pipeline would, and the catalog it works on."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from app.db.engine import create_session_factory
from app.db.models import App, AppEnvironment, OperationLease
from app.db.types import utcnow
from app.services.tokens import TokenService
from app.simulator import SimulatedCluster
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.servers import ROOT, ServerProcess
from tests.schema.live_helpers import add_app, add_environment, attach, register_simulator

NS = "cli-dev"
APPS = ("api", "web", "worker")


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


async def hibernia(
    server: ServerProcess | str, *args: str, token: str | None = None, stdout_closed: bool = False
) -> Run:
    """`hibernia ARGS` with HIBERNIA_URL pointing at the server; the test's event loop keeps serving
    the simulator meanwhile. `stdout_closed`: nobody reads its output (as after `| head -1` ended)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("HIBERNIA_")}
    env["HIBERNIA_URL"] = server if isinstance(server, str) else server.url
    if token:
        env["HIBERNIA_TOKEN"] = token
    return await _run(env, args, stdout_closed=stdout_closed)


async def hibernia_admin(database_url: str, *args: str) -> Run:
    """A `hibernia` command that works on the database directly (cluster, token)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("HIBERNIA_")}
    env["HIBERNIA_DATABASE_URL"] = database_url
    env["HIBERNIA_CLUSTER_TIMEOUT_SECONDS"] = "3"
    return await _run(env, args)


async def _run(env: dict[str, str], args: tuple[str, ...], *, stdout_closed: bool = False) -> Run:
    stdout: int = asyncio.subprocess.PIPE
    if stdout_closed:
        read_end, stdout = os.pipe()
        os.close(read_end)  # its first write fails with EPIPE
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.cli", *args, cwd=ROOT, env=env, stdout=stdout, stderr=asyncio.subprocess.PIPE
    )
    if stdout_closed:
        os.close(stdout)
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return Run(process.returncode, (out or b"").decode(), err.decode())


async def catalog(server: ServerProcess, simulator: SimulatedCluster, replicas: int = 2) -> None:
    """Environment `dev` with api, web and worker running `<app>:1`."""
    client = server.client
    await register_simulator(client, simulator)
    await add_environment(client, "dev", NS)
    for app in APPS:
        await add_app(client, app, [])
        await attach(client, app, "dev", replicas=replicas)
        simulator.add_deployment(NS, app, app, replicas, f"{app}:1")


async def token(database: DatabaseUnderTest, name: str, role: str, environments: list[str] | None = None) -> str:
    async with create_session_factory(database.engine)() as session, session.begin():
        return await TokenService(session).create(name, role, environments or [])


async def plant_lease(database: DatabaseUnderTest, app: str) -> None:
    """Another server's operation holds the app for a minute."""
    now = utcnow()
    async with database.engine.begin() as connection:
        target = (
            await connection.execute(
                select(AppEnvironment.id).join(App, App.id == AppEnvironment.app_id).where(App.name == app)
            )
        ).scalar_one()
        await connection.execute(
            update(OperationLease)
            .where(OperationLease.app_environment_id == target)
            .values(
                holder="other-server",
                operation="hibernate",
                actor="night-bot",
                acquired_at=now,
                expires_at=now + timedelta(minutes=1),
            )
        )
