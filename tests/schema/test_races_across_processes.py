"""The operation lease across server processes: two `hibernia serve` on one PostgreSQL database."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.simulator import SimulatedCluster
from tests.conftest import _skip_without_postgres
from tests.fixtures.databases import DatabaseUnderTest, fresh_database
from tests.fixtures.graphql import GraphQLClient
from tests.schema.operation_helpers import deploy, hibernate, replicas, setup_app, unhibernate
from tests.schema.test_races import NS, _after, _image, check_round, classify

ROUNDS = int(os.environ.get("HIBERNIA_PROCESS_RACE_ROUNDS", "25"))
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def shared_postgres(tmp_path: Path) -> AsyncIterator[DatabaseUnderTest]:
    _skip_without_postgres("postgres")
    async with fresh_database("postgres", tmp_path) as database:
        yield database


async def _serve(database_url: str) -> tuple[asyncio.subprocess.Process, GraphQLClient]:
    port = _free_port()
    env = {
        **os.environ,
        "HIBERNIA_DATABASE_URL": database_url,
        "HIBERNIA_STATUS_REFRESH_SECONDS": "0",
        "HIBERNIA_CLUSTER_RATE_LIMIT": "1000",
        "HIBERNIA_CLUSTER_RATE_BURST": "1000",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.cli", "serve", "--no-migrate", "--port", str(port),
        cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30)
    for _ in range(600):
        try:
            if (await http.get("/healthz")).status_code == 200:
                return process, GraphQLClient(http)
        except httpx.TransportError:
            pass
        assert process.returncode is None, "the server exited at start"
        await asyncio.sleep(0.05)
    raise AssertionError("the server did not start")


async def test_two_server_processes_serialise_operations_on_one_database(
    simulator: SimulatedCluster, shared_postgres: DatabaseUnderTest
) -> None:
    servers = [await _serve(shared_postgres.url) for _ in range(2)]
    (_, first), (_, second) = servers
    try:
        await setup_app(first, simulator, replicas=2)
        simulator.add_deployment(NS, "web", "web", 2, "web:0")
        simulator.set_faults(latency_seconds=0.002)
        orders: Counter[str] = Counter()
        for round_ in range(1, ROUNDS + 1):
            if replicas(simulator, NS, "web") == 0:
                assert (await unhibernate(second))["outcome"] == "APPLIED"
            before, image = _image(simulator), f"web:{round_}"
            jitter = random.Random(round_)
            hibernated, deployed = await asyncio.gather(
                _after(jitter.uniform(0, 0.12), hibernate(first)),
                _after(jitter.uniform(0, 0.12), deploy(second, image, onHibernated="REFUSE")),
            )
            order = classify(hibernated, deployed)
            orders[order] += 1
            await check_round(first, simulator, shared_postgres, order, before, image)
        print(f"\n{ROUNDS} rounds across two processes: {dict(orders)}")
    finally:
        for process, client in servers:
            await client.http.aclose()
            process.terminate()
            await process.wait()
