"""Informer caches against the simulator over HTTP: LIST then WATCH, relists, reconnects, fallbacks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest

from app.cluster.informers import ClusterCache, Release
from app.cluster.kubernetes_gateway import KubernetesGateway
from app.simulator import SimulatedCluster
from app.simulator.resources import resource_for_kind

NS, OTHER = "team-dev", "team-prod"


class Heard:
    def __init__(self) -> None:
        self.changes: list[set[Release]] = []

    def __call__(self, _cluster: int, releases: set[Release]) -> None:
        self.changes.append(set(releases))

    def saw(self, release: Release) -> bool:
        return any(release in changed for changed in self.changes)


async def _until(condition: Callable[[], bool], seconds: float = 5.0) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, "not within the time allowed"
        await asyncio.sleep(0.01)
    return time.monotonic() - started


def _replicas(cache: ClusterCache, namespace: str, release: str) -> int | None:
    """The desired replicas of the release's one workload, when the cache has a current view of it."""
    workloads = cache.release_workloads(namespace, release)
    return workloads[0].desired_replicas if workloads else None


@pytest.fixture
async def cache(make_gateway: Callable[..., KubernetesGateway]) -> AsyncIterator[tuple[ClusterCache, Heard]]:
    heard = Heard()
    cache = ClusterCache(1, make_gateway(), heard)
    try:
        yield cache, heard
    finally:
        await cache.stop()


async def test_a_cache_syncs_and_then_answers_without_a_request(
    simulator: SimulatedCluster, cache: tuple[ClusterCache, Heard]
) -> None:
    informers, _ = cache
    simulator.add_deployment(NS, "web", "web", 2)
    simulator.add_statefulset(NS, "web-db", "web", 1)
    simulator.add_deployment(NS, "unlabelled", None, 1)

    informers.start([NS])
    assert await informers.wait_synced(5)
    simulator.clear_requests()

    workloads = informers.release_workloads(NS, "web")

    assert workloads is not None and sorted(w.name for w in workloads) == ["web", "web-db"]
    assert informers.release_workloads(NS, "nothing-here") == []
    assert simulator.count("list") == simulator.count("get") == 0
    health = informers.health()
    assert health.synced and health.objects == 2, "only workloads with the release label are cached"


async def test_changes_reach_the_cache_and_its_listeners_within_a_second(
    simulator: SimulatedCluster, cache: tuple[ClusterCache, Heard]
) -> None:
    informers, heard = cache
    simulator.add_deployment(NS, "web", "web", 2)
    informers.start([NS])
    await informers.wait_synced(5)

    simulator.patch("Deployment", NS, "web", {"spec": {"replicas": 0}})
    took = await _until(lambda: _replicas(informers, NS, "web") == 0)
    simulator.add_cronjob(OTHER, "report", "report")
    await _until(lambda: heard.saw((OTHER, "report")))
    simulator.store.delete(resource_for_kind("Deployment"), NS, "web")
    await _until(lambda: informers.release_workloads(NS, "web") == [])

    assert took < 1.0
    assert heard.saw((NS, "web"))


async def test_a_watch_from_an_expired_version_lists_again(
    simulator: SimulatedCluster, cache: tuple[ClusterCache, Heard]
) -> None:
    informers, _ = cache
    simulator.add_deployment(NS, "web", "web", 2)
    informers.start([NS])
    await informers.wait_synced(5)

    await simulator.go_offline()
    simulator.patch("Deployment", NS, "web", {"spec": {"replicas": 5}})
    simulator.forget_watch_history()  # the reflectors come back to versions the server no longer has
    await simulator.go_online()

    await _until(lambda: informers.health().relists >= 1, seconds=35)
    await _until(lambda: _replicas(informers, NS, "web") == 5)


async def test_an_unreachable_cluster_makes_the_cache_stale_and_it_catches_up_when_back(
    simulator: SimulatedCluster, cache: tuple[ClusterCache, Heard]
) -> None:
    informers, _ = cache
    simulator.add_deployment(NS, "web", "web", 2)
    informers.start([NS])
    await informers.wait_synced(5)

    await simulator.go_offline()
    simulator.patch("Deployment", NS, "web", {"spec": {"replicas": 3}})  # changed while unreachable
    await _until(lambda: informers.release_workloads(NS, "web") is None, seconds=10)
    assert informers.health().errors >= 1 and not informers.health().connected

    await simulator.go_online()
    await _until(lambda: _replicas(informers, NS, "web") == 3, seconds=35)


async def test_namespaced_roles_only_watch_namespace_by_namespace(
    simulator: SimulatedCluster, cache: tuple[ClusterCache, Heard]
) -> None:
    informers, _ = cache
    simulator.set_faults(namespaced_access=True)
    simulator.add_deployment(NS, "web", "web", 2)
    simulator.add_deployment(OTHER, "api", "api", 1)

    informers.start([NS, OTHER])
    await _until(lambda: informers.namespaced)
    assert await informers.wait_synced(5)

    assert [w.name for w in informers.release_workloads(NS, "web") or []] == ["web"]
    assert [w.name for w in informers.release_workloads(OTHER, "api") or []] == ["api"]
    assert simulator.count("watch", namespace=NS) >= 3 and simulator.count("watch", namespace=OTHER) >= 3


async def test_bookmarks_move_the_view_on_without_changes(
    simulator: SimulatedCluster, cache: tuple[ClusterCache, Heard]
) -> None:
    informers, _ = cache
    simulator.watches.bookmark_seconds = 0.2
    simulator.add_deployment(NS, "web", "web", 2)
    simulator.add_deployment(OTHER, "api", "api", 2)
    informers.start([NS, OTHER])
    await informers.wait_synced(5)
    before = informers.release_version(NS, "web")

    simulator.patch("Deployment", OTHER, "api", {"spec": {"replicas": 3}})  # another release changes
    await asyncio.sleep(0.6)

    assert informers.release_version(NS, "web") == before, "web did not change"
    age = informers.health().age_seconds
    assert age is not None and age < 0.5, "bookmarks keep the view's age low"
