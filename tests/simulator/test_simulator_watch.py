"""Watches over real HTTP: the API server's event stream, history window, bookmarks, selectors,
bounded buffers, and the faults that end streams; then the LIST+WATCH path of kubernetes-asyncio
that Hibernia's informer caches take."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from kubernetes_asyncio.client import ApiClient, ApiException, AppsV1Api, Configuration
from kubernetes_asyncio.watch import Watch

from app.domain.workloads import RELEASE_LABEL
from app.simulator import SimulatedCluster
from tests.fixtures.cluster_clients import TOKEN

NS = "dev"
DEPLOYMENTS = f"/apis/apps/v1/namespaces/{NS}/deployments"
MERGE = {"Content-Type": "application/merge-patch+json"}


class Events:
    """The events of one open watch, read line by line with a bound on each wait."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def next(self, within: float = 5) -> dict[str, Any]:
        line = await asyncio.wait_for(anext(self._lines), within)
        event: dict[str, Any] = json.loads(line)
        return event

    async def take(self, count: int) -> list[tuple[str, str]]:
        """(type, name) of the next `count` events."""
        taken = []
        for _ in range(count):
            event = await self.next()
            taken.append((event["type"], event["object"]["metadata"].get("name", "")))
        return taken

    async def ended(self, within: float = 5) -> bool:
        """Whether the stream ends (cleanly or by a closed connection) within `within` seconds."""
        try:
            await asyncio.wait_for(anext(self._lines), within)
        except (StopAsyncIteration, httpx.TransportError):
            return True
        return False


@asynccontextmanager
async def watching(http: httpx.AsyncClient, path: str = DEPLOYMENTS, **params: Any) -> AsyncIterator[Events]:
    async with http.stream("GET", path, params={"watch": "1", **params}) as response:
        assert response.status_code == 200
        yield Events(response)


async def test_a_watch_starts_with_the_current_objects_then_streams_changes(
    simulator: SimulatedCluster, http: httpx.AsyncClient
) -> None:
    simulator.add_deployment(NS, "api", "api", 1)
    simulator.add_deployment(NS, "web", "web", 1)
    simulator.add_deployment("prod", "web", "web", 1)
    async with watching(http) as events:
        assert await events.take(2) == [("ADDED", "api"), ("ADDED", "web")]
        await http.patch(f"{DEPLOYMENTS}/web", json={"metadata": {"labels": {"x": "1"}}}, headers=MERGE)
        modified = await events.next()
        assert (modified["type"], modified["object"]["metadata"]["labels"]["x"]) == ("MODIFIED", "1")
        assert modified["object"]["kind"] == "Deployment", "watch objects carry kind and apiVersion"
        await http.delete(f"{DEPLOYMENTS}/api")
        deleted = await events.next()
        assert (deleted["type"], deleted["object"]["metadata"]["name"]) == ("DELETED", "api")
        assert int(deleted["object"]["metadata"]["resourceVersion"]) == simulator.store.revision
    assert [r.verb for r in simulator.requests] == ["watch", "patch", "delete"]
    assert simulator.count("watch", "Deployment", NS) == 1


async def test_a_watch_from_a_resource_version_replays_what_came_after_it(
    simulator: SimulatedCluster, http: httpx.AsyncClient
) -> None:
    simulator.add_deployment(NS, "web", "web", 1)
    listing = (await http.get(DEPLOYMENTS)).json()
    since = listing["metadata"]["resourceVersion"]
    simulator.add_deployment(NS, "api", "api", 1)
    simulator.patch("Deployment", NS, "web", {"spec": {"replicas": 2}})
    async with watching(http, resourceVersion=since, timeoutSeconds=1) as events:
        replayed = [await events.next() for _ in range(4)]
        assert await events.ended()
    # The controller writes the status after each spec change, as its own change.
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in replayed] == [
        ("ADDED", "api"),
        ("MODIFIED", "api"),
        ("MODIFIED", "web"),
        ("MODIFIED", "web"),
    ]
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in replayed]
    assert versions == sorted(versions) and versions[0] > int(since)
    assert versions[-1] == simulator.store.revision


async def test_a_resource_version_older_than_the_window_is_expired(
    simulator: SimulatedCluster, http: httpx.AsyncClient
) -> None:
    simulator.add_deployment(NS, "web", "web", 1)
    old = simulator.store.resource_version
    (await http.patch("/_simulator/watches", json={"history_size": 2})).raise_for_status()
    for replicas in (2, 3, 4):
        simulator.patch("Deployment", NS, "web", {"spec": {"replicas": replicas}})
    async with watching(http, resourceVersion=old) as events:
        error = await events.next()
        assert await events.ended()
    assert error["type"] == "ERROR"
    status = error["object"]
    assert (status["kind"], status["code"], status["reason"]) == ("Status", 410, "Expired")
    assert status["message"].startswith(f"too old resource version: {old} (")

    # Within the window it works; after the history is forgotten it does not.
    recent = simulator.store.resource_version
    async with watching(http, resourceVersion=recent, timeoutSeconds=1) as events:
        assert await events.ended(), "nothing after it: the stream times out"
    simulator.patch("Deployment", NS, "web", {"spec": {"replicas": 5}})
    forgotten = (await http.post("/_simulator/watches/forget")).json()
    assert forgotten["oldest"]["deployments.apps"] == simulator.store.resource_version
    async with watching(http, resourceVersion=recent) as events:
        assert (await events.next())["object"]["code"] == 410


async def test_selectors_turn_changes_into_added_and_deleted(
    simulator: SimulatedCluster, http: httpx.AsyncClient
) -> None:
    simulator.add_deployment(NS, "web", "web", 1)
    simulator.add_deployment(NS, "api", "api", 1)
    async with watching(http, labelSelector="tier=front") as events:
        simulator.patch("Deployment", NS, "web", {"metadata": {"labels": {"tier": "front"}}})
        assert await events.take(1) == [("ADDED", "web")]
        simulator.patch("Deployment", NS, "api", {"metadata": {"labels": {"tier": "back"}}})
        simulator.patch("Deployment", NS, "web", {"metadata": {"labels": {"tier": "back"}}})
        gone = await events.next()
        assert (gone["type"], gone["object"]["metadata"]["labels"]["tier"]) == ("DELETED", "front")
    async with watching(http, fieldSelector="metadata.name=api", timeoutSeconds=1) as events:
        assert await events.take(1) == [("ADDED", "api")]
        assert await events.ended()
    async with watching(http, "/apis/apps/v1/deployments", labelSelector=f"{RELEASE_LABEL}=web") as events:
        simulator.add_deployment("prod", "web", "web", 1)
        assert await events.take(2) == [("ADDED", "web"), ("ADDED", "web")]


async def test_bookmarks_and_the_end_of_the_initial_events(
    simulator: SimulatedCluster, http: httpx.AsyncClient
) -> None:
    simulator.add_deployment(NS, "web", "web", 1)
    simulator.watches.bookmark_seconds = 0.05
    async with watching(http, allowWatchBookmarks="true", sendInitialEvents="true") as events:
        assert (await events.next())["type"] == "ADDED"
        end = await events.next()
        assert end["type"] == "BOOKMARK"
        assert end["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
        simulator.patch("Deployment", NS, "web", {"spec": {"replicas": 2}})
        assert (await events.next())["type"] == "MODIFIED"
        bookmark = await events.next()
        while bookmark["type"] == "MODIFIED":  # the controller's status write
            bookmark = await events.next()
        assert bookmark["type"] == "BOOKMARK"
        assert bookmark["object"] == {
            "kind": "Deployment",
            "apiVersion": "apps/v1",
            "metadata": {"resourceVersion": simulator.store.resource_version},
        }
    async with watching(http, timeoutSeconds=1) as events:
        assert await events.take(1) == [("ADDED", "web")]
        assert await events.ended(), "no bookmarks unless asked for"


@pytest.mark.parametrize("fault", ["drop", "outage", "offline"])
async def test_faults_end_open_watches(simulator: SimulatedCluster, http: httpx.AsyncClient, fault: str) -> None:
    simulator.add_deployment(NS, "web", "web", 1)
    async with watching(http) as events:
        await events.take(1)
        assert simulator.watches.open == 1
        if fault == "drop":
            assert (await http.post("/_simulator/watches/drop")).json() == {"dropped": 1}
        elif fault == "outage":
            simulator.faults.outage = True
        else:
            await simulator.go_offline()
        assert await events.ended()
    for _ in range(100):
        if simulator.watches.open == 0:
            break
        await asyncio.sleep(0.01)
    assert simulator.watches.open == 0


async def test_a_watcher_that_falls_behind_is_ended_and_memory_stays_bounded(
    simulator: SimulatedCluster, http: httpx.AsyncClient
) -> None:
    simulator.add_deployment(NS, "web", "web", 1)
    simulator.watches.max_pending = 5
    async with watching(http) as events:
        await events.take(1)
        # Twenty changes in one go, before the stream can send any: more than the watcher may hold.
        for replicas in range(2, 22):
            simulator.patch("Deployment", NS, "web", {"spec": {"replicas": replicas}})
        assert simulator.watches.open == 0
        assert await events.ended()


async def test_watch_parameters_are_checked(simulator: SimulatedCluster, http: httpx.AsyncClient) -> None:
    bad = await http.get(DEPLOYMENTS, params={"watch": "1", "resourceVersion": "abc"})
    assert (bad.status_code, bad.json()["reason"]) == (400, "BadRequest")
    async with watching(http, resourceVersion=str(simulator.store.revision + 100)) as events:
        too_new = await events.next()
    assert (too_new["type"], too_new["object"]["code"]) == ("ERROR", 504)
    assert simulator.count("watch") == 2 and simulator.count("watch", status=400) == 1


@pytest.fixture
async def apps(simulator: SimulatedCluster) -> AsyncIterator[AppsV1Api]:
    configuration = Configuration(
        host=simulator.url, api_key={"BearerToken": TOKEN}, api_key_prefix={"BearerToken": "Bearer"}
    )
    async with ApiClient(configuration) as client:
        yield AppsV1Api(client)


async def test_kubernetes_asyncio_lists_then_watches_from_the_lists_resource_version(
    simulator: SimulatedCluster, apps: AppsV1Api
) -> None:
    simulator.add_deployment(NS, "web", "web", 1)
    listing = await apps.list_namespaced_deployment(NS)
    assert [d.metadata.name for d in listing.items] == ["web"]
    simulator.patch("Deployment", NS, "web", {"spec": {"replicas": 3}})
    simulator.add_deployment(NS, "api", "api", 1)
    seen = []
    async with Watch() as watch:
        stream = watch.stream(
            apps.list_namespaced_deployment,
            NS,
            resource_version=listing.metadata.resource_version,
            allow_watch_bookmarks=True,
            timeout_seconds=1,
        )
        async for event in stream:
            seen.append((event["type"], event["object"].metadata.name, event["object"].spec.replicas))
    assert seen[0] == ("MODIFIED", "web", 3)
    assert ("ADDED", "api", 1) in seen
    assert watch.resource_version == simulator.store.resource_version, "the watch knows where it got to"

    # A resourceVersion from before the window: the client raises 410 and relists.
    simulator.forget_watch_history()
    with pytest.raises(ApiException) as expired:
        async with Watch() as watch:
            async for _ in watch.stream(
                apps.list_namespaced_deployment,
                NS,
                resource_version=listing.metadata.resource_version,
                timeout_seconds=1,
            ):
                pass
    assert expired.value.status == 410


async def test_watch_settings_are_checked_and_reset(simulator: SimulatedCluster, http: httpx.AsyncClient) -> None:
    for bad in ({"bookmark_seconds": 0}, {"max_pending": "10"}, {"history_size": 0}, {"window": 5}):
        answer = await http.patch("/_simulator/watches", json=bad)
        assert answer.status_code == 400 and next(iter(bad)) in answer.json()["error"], bad
    changed = (await http.patch("/_simulator/watches", json={"bookmark_seconds": 5, "max_pending": 50})).json()
    assert (changed["bookmark_seconds"], changed["max_pending"], changed["history_size"]) == (5, 50, 1000)

    simulator.add_deployment(NS, "web", "web", 1)
    old = simulator.store.resource_version
    async with watching(http) as events:
        await events.take(1)
        # Deleting every object behind the watches' back: they end, and clients must relist.
        await http.post("/_simulator/reset", params={"objects": "true"})
        assert await events.ended()
    settings = (await http.get("/_simulator/watches")).json()
    assert (settings["open"], settings["bookmark_seconds"], settings["max_pending"]) == (0, 60, 1000)
    simulator.add_deployment(NS, "web", "web", 1)
    async with watching(http, resourceVersion=old) as events:
        assert (await events.next())["object"]["code"] == 410
