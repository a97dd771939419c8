"""A cluster whose connection changed (`updateCluster`, on this server or another) is reached through
a new client and watched by a new cache at their next use; the old ones are closed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app.cluster.caches import ClusterCaches
from app.cluster.registry import ClusterAccess, ClusterRegistry
from app.config import Settings
from app.domain.workloads import RELEASE_LABEL, WorkloadKind
from app.simulator import SimulatedCluster

NS = "team-dev"


@pytest.fixture
async def two_clusters() -> AsyncIterator[tuple[SimulatedCluster, SimulatedCluster]]:
    old, new = SimulatedCluster(), SimulatedCluster()
    await old.start()
    await new.start()
    old.add_deployment(NS, "web", "web", 1)
    new.add_deployment(NS, "web", "web", 4)
    try:
        yield old, new
    finally:
        await old.stop()
        await new.stop()


@pytest.fixture
async def registry() -> AsyncIterator[ClusterRegistry]:
    registry = ClusterRegistry(Settings(HIBERNIA_CLUSTER_TIMEOUT_SECONDS=3, HIBERNIA_GC_FREEZE=False))
    try:
        yield registry
    finally:
        await registry.close()


async def test_a_changed_connection_gets_a_new_client(
    registry: ClusterRegistry, two_clusters: tuple[SimulatedCluster, SimulatedCluster]
) -> None:
    old, new = two_clusters
    before = ClusterAccess(id=1, name="shop", server=old.url)
    first = await registry.gateway(before)
    assert await registry.gateway(before) is first, "one client per cluster while it is unchanged"

    after = ClusterAccess(id=1, name="shop", server=new.url)
    second = await registry.gateway(after)

    assert second is not first
    [web] = await second.list_workloads(NS, WorkloadKind.DEPLOYMENT, RELEASE_LABEL)
    assert web.desired_replicas == 4, "read from the cluster the row names now"
    assert new.count("list") == 1


async def test_a_changed_connection_gets_a_new_cache(
    registry: ClusterRegistry, two_clusters: tuple[SimulatedCluster, SimulatedCluster]
) -> None:
    old, new = two_clusters
    caches = ClusterCaches(registry)
    try:
        cache = await caches.ensure(ClusterAccess(id=1, name="shop", server=old.url), {NS})
        assert cache is not None and await cache.wait_synced(5)
        assert await caches.ensure(ClusterAccess(id=1, name="shop", server=old.url), {NS}) is cache

        again = await caches.ensure(ClusterAccess(id=1, name="shop", server=new.url), {NS})

        assert again is not None and again is not cache
        assert await again.wait_synced(5)
        [web] = again.release_workloads(NS, "web") or []
        assert web.desired_replicas == 4
        assert list(caches.health()) == ["shop"]
    finally:
        await caches.close()
