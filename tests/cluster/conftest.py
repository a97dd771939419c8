"""Fixtures: gateways (the real kubernetes-asyncio client) pointed at the session simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from app.cluster.kubernetes_gateway import KubernetesGateway
from app.cluster.simulator import SimulatedCluster
from tests.schema.live_helpers import SIMULATOR_TOKEN

TOKEN = SIMULATOR_TOKEN  # the root conftest serves the simulator with this token


@pytest.fixture
async def make_gateway(simulator: SimulatedCluster) -> AsyncIterator[Callable[..., KubernetesGateway]]:
    """A factory of gateways to the simulator (options as for `KubernetesGateway`), closed after the test."""
    made: list[KubernetesGateway] = []

    def make(**options: Any) -> KubernetesGateway:
        options.setdefault("timeout", 3.0)
        options.setdefault("backoff_seconds", 0.01)
        token = options.pop("token", TOKEN)
        gateway = KubernetesGateway.from_server(simulator.url, token=token, **options)
        made.append(gateway)
        return gateway

    try:
        yield make
    finally:
        for gateway in made:
            await gateway.close()


@pytest.fixture
def gateway(make_gateway: Callable[..., KubernetesGateway]) -> KubernetesGateway:
    return make_gateway()


@pytest.fixture
async def http(simulator: SimulatedCluster) -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP to the simulator, authenticated, for asserting exact API answers."""
    async with httpx.AsyncClient(base_url=simulator.url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client
