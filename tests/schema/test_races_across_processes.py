"""The operation lease across server processes: two `hibernia serve` on one PostgreSQL database."""

from __future__ import annotations

import asyncio
import os
import random
from collections import Counter
from pathlib import Path

from app.simulator import SimulatedCluster
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.servers import start_server
from tests.schema.operation_helpers import deploy, hibernate, replicas, setup_app, unhibernate
from tests.schema.test_races import NS, _after, _image, check_round, classify

ROUNDS = int(os.environ.get("HIBERNIA_PROCESS_RACE_ROUNDS", "25"))


async def test_two_server_processes_serialise_operations_on_one_database(
    simulator: SimulatedCluster, shared_postgres: DatabaseUnderTest, tmp_path: Path
) -> None:
    servers = [await start_server(shared_postgres.url, tmp_path) for _ in range(2)]
    first, second = (server.client for server in servers)
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
        for server in servers:
            await server.stop()
