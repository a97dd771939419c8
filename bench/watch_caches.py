"""Section 6: the informer caches — the live page under many clients, the API server at rest, and the
time from a change in the cluster to a subscriber.

The servers are `uvicorn` processes with Hibernia's defaults (caches on, the client-side rate limit at
20/s, burst 40), except the refresher, which runs every `watch_refresh_seconds` so that rounds fall
inside the windows measured. Each variant is served twice: with the informer caches, and without
(`HIBERNIA_WATCH_CLUSTERS=false`, every live read LISTs the cluster, as before the caches).

- Live page: 1 client sending the page every 0.2 s, then `watch_clients` clients each sending it every
  `watch_client_interval` s (a page that polls; a client never has two requests outstanding), on 2
  workers. A closed loop at full speed would measure how requests queue for 2 cores, not the caches.
- At rest: what the API server was asked over `watch_rest_seconds` with no client at all.
- Event to subscriber: a `kubectl scale`-like merge patch (replicas and the hibernation annotation)
  sent to the simulator, until the `statusChanges` message for it arrives over WebSocket. On
  PostgreSQL two servers each hold a subscriber, so one hears it in the process that observed the
  change and the other through LISTEN/NOTIFY; on SQLite one server (it is one process there).
- Memory: the cache of every workload, in this process under tracemalloc.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
import tracemalloc
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import websockets
from sqlalchemy import select

from app.cluster.caches import ClusterCaches
from app.cluster.registry import ClusterRegistry
from app.config import Settings
from app.db.models import Cluster, Election, Environment, Server
from app.domain.workloads import HIBERNATION_ANNOTATION
from app.services.live_status import access_of
from app.services.observer import role_of
from bench import targets
from bench.cluster import BenchCluster
from bench.databases import BenchDatabase
from bench.datasets import live_page_plain_releases, seed_live_page
from bench.graphql_client import BenchFailure
from bench.hosting import bench_settings
from bench.live_page import PAGE
from bench.processes import Served, uvicorn_server
from bench.report import Row, SectionResult
from bench.sizes import Sizes
from bench.throughput import run_load
from bench.timing import Latency, ms, ratio

SECTION = "6 watch caches"
LONE_CLIENT_INTERVAL = 0.2
FIRST_PAGE = {"first": 100}
SUBSCRIPTION = """
subscription {
  statusChanges { toStatus appEnvironment { releaseName environment { namespace } } }
}"""


def _settings(database_url: str, *, cached: bool, refresh_seconds: float) -> dict[str, str]:
    quiet = bench_settings(database_url)
    return {
        "HIBERNIA_DATABASE_URL": quiet["HIBERNIA_DATABASE_URL"],
        "HIBERNIA_WATCH_CLUSTERS": "true" if cached else "false",
        "HIBERNIA_STATUS_REFRESH_SECONDS": str(refresh_seconds),
    }


def _by_verb(requests: list[dict[str, Any]]) -> Counter[str]:
    return Counter(str(request.get("verb")) for request in requests)


async def _wait_synced(url: str, workloads: int, workers: int) -> None:
    """Until /readyz, asked on new connections (so each worker answers some), shows a synced cache
    of every workload many times in a row."""
    in_a_row, deadline = 0, time.monotonic() + 60
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=5, limits=limits) as http:
        while in_a_row < 8 * workers:
            if time.monotonic() > deadline:
                raise BenchFailure(f"the caches did not sync within 60 s: {(await http.get(f'{url}/readyz')).text}")
            caches = (await http.get(f"{url}/readyz")).json().get("caches", {})
            synced = [cache for cache in caches.values() if cache["synced"] and cache["workloads"] >= workloads]
            in_a_row = in_a_row + 1 if synced else 0
            await asyncio.sleep(0.05)


async def _load_and_rest(
    database: BenchDatabase, cluster: BenchCluster, sizes: Sizes, work_dir: Path, *, cached: bool, workloads: int
) -> dict[str, Any]:
    name = "cached" if cached else "listing"
    env = _settings(database.url, cached=cached, refresh_seconds=sizes.watch_refresh_seconds)
    async with uvicorn_server(env, work_dir / f"watch-{name}.log", workers=2) as served:
        graphql = f"{served.url}/graphql"
        if cached:
            await _wait_synced(served.url, workloads, workers=2)
        async with httpx.AsyncClient(timeout=60) as http:
            answer = (await http.post(graphql, json={"query": PAGE, "variables": FIRST_PAGE})).json()
        if answer.get("errors"):
            raise BenchFailure(f"the live page failed: {str(answer)[:500]}")
        await cluster.clear_requests()
        lone = await run_load(
            graphql, PAGE, sizes, concurrency=1, interval=LONE_CLIENT_INTERVAL, seconds=sizes.watch_load_seconds,
            variables=FIRST_PAGE,
        )  # fmt: skip
        many = await run_load(
            graphql, PAGE, sizes, concurrency=sizes.watch_clients, interval=sizes.watch_client_interval,
            seconds=sizes.watch_load_seconds, variables=FIRST_PAGE,
        )  # fmt: skip
        under_load = _by_verb(await cluster.requests())
        await cluster.clear_requests()
        await asyncio.sleep(sizes.watch_rest_seconds)
        at_rest = _by_verb(await cluster.requests())
    return {"lone": lone, "many": many, "under_load": dict(under_load), "at_rest": dict(at_rest)}


# ---- event to subscriber -------------------------------------------------------------------------


class _Listener:
    """One graphql-transport-ws connection subscribed to every status change."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    async def heard(self, namespace: str, release: str, status: str, timeout: float = 15) -> float:  # noqa: ASYNC109
        """perf_counter() when the change of `release` in `namespace` to `status` arrived."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                raw = await asyncio.wait_for(self.connection.recv(), max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                raise BenchFailure(
                    f"no statusChanges message for {release} in {namespace} within {timeout:g} s"
                ) from None
            at = time.perf_counter()
            message = json.loads(raw)
            if message["type"] == "ping":
                await self.connection.send(json.dumps({"type": "pong"}))
                continue
            if message["type"] != "next" or message["payload"].get("errors"):
                raise BenchFailure(f"the subscription answered {str(message)[:300]}")
            change = message["payload"]["data"]["statusChanges"]
            where = change["appEnvironment"]
            if (where["environment"]["namespace"], where["releaseName"], change["toStatus"]) == (
                namespace,
                release,
                status,
            ):
                return at


@asynccontextmanager
async def _listener(url: str) -> AsyncIterator[_Listener]:
    ws = url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(ws, subprotocols=["graphql-transport-ws"]) as connection:  # type: ignore[list-item]
        await connection.send(json.dumps({"type": "connection_init", "payload": {}}))
        if json.loads(await asyncio.wait_for(connection.recv(), 10))["type"] != "connection_ack":
            raise BenchFailure("the server did not acknowledge the WebSocket connection")
        payload = {"query": SUBSCRIPTION}
        await connection.send(json.dumps({"id": "bench", "type": "subscribe", "payload": payload}))
        yield _Listener(connection)


async def _scale_by_hand(
    http: httpx.AsyncClient, namespace: str, name: str, replicas: int, annotation: str | None
) -> None:
    """What `kubectl scale` and `kubectl annotate` do, in one merge patch."""
    patch = {"metadata": {"annotations": {HIBERNATION_ANNOTATION: annotation}}, "spec": {"replicas": replicas}}
    response = await http.patch(
        f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
        content=json.dumps(patch),
        headers={"content-type": "application/merge-patch+json"},
    )
    if response.status_code != 200:
        raise BenchFailure(f"the simulator refused the patch: {response.status_code} {response.text[:300]}")


async def _observer_pid(database: BenchDatabase, cluster_id: int) -> int | None:
    """The process id of the server elected to observe the cluster."""
    statement = (
        select(Server.pid).join(Election, Election.server_id == Server.id).where(Election.name == role_of(cluster_id))
    )
    async with database.engine.connect() as connection:
        return (await connection.execute(statement)).scalar()


async def _event_latency(
    database: BenchDatabase, cluster: BenchCluster, sizes: Sizes, work_dir: Path
) -> dict[str, list[float]]:
    """Seconds from the patch's answer to each subscriber's message, keyed 'observer' / 'other'."""
    replicas = 2 if database.backend == "postgres" else 1
    env = _settings(database.url, cached=True, refresh_seconds=0)
    async with AsyncExitStack() as stack:
        servers: list[Served] = []
        for index in range(replicas):
            log = work_dir / f"watch-events-{index}.log"
            servers.append(await stack.enter_async_context(uvicorn_server(env, log)))
        for served in servers:
            await _wait_synced(served.url, 1, workers=1)
        listeners = [await stack.enter_async_context(_listener(served.url)) for served in servers]
        async with database.engine.connect() as connection:
            cluster_id = (await connection.execute(select(Cluster.id))).scalar_one()
        plain = live_page_plain_releases(sizes.watch_apps, sizes.live_environments_per_app, sizes.live_namespaces)
        step = max(1, len(plain) // sizes.watch_events)
        samples: dict[str, list[float]] = {"observer": [], "other": []}
        async with httpx.AsyncClient(base_url=cluster.url, timeout=30) as http:
            for namespace, release in plain[::step][: sizes.watch_events]:
                for replicas, annotation, status in ((0, "2", "HIBERNATING"), (2, None, "HEALTHY")):
                    hearing = [asyncio.create_task(lst.heard(namespace, release, status)) for lst in listeners]
                    sent = time.perf_counter()
                    await _scale_by_hand(http, namespace, release, replicas, annotation)
                    heard = await asyncio.gather(*hearing)
                    observer = await _observer_pid(database, cluster_id)
                    for served, at in zip(servers, heard, strict=True):
                        samples["observer" if served.pid == observer else "other"].append(at - sent)
    return samples


# ---- memory --------------------------------------------------------------------------------------


async def _cache_memory(database: BenchDatabase) -> dict[str, float]:
    """Bytes the cache of every workload holds once synced, measured with tracemalloc in this process."""
    async with database.engine.connect() as connection:
        cluster = (await connection.execute(select(Cluster))).one()
        namespaces = list((await connection.scalars(select(Environment.namespace))).all())
    registry = ClusterRegistry(Settings(**bench_settings(database.url)))  # type: ignore[arg-type]
    access = access_of(cluster)  # type: ignore[arg-type]
    await registry.gateway(access)  # the client and its connection pool are not the cache
    caches = ClusterCaches(registry)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        started = time.perf_counter()
        cache = await caches.ensure(access, namespaces)
        if cache is None or not await cache.wait_synced(60):
            raise BenchFailure("the cache did not sync within 60 s")
        synced_in = time.perf_counter() - started
        gc.collect()
        held, peak = tracemalloc.get_traced_memory()
        objects = cache.health().objects
    finally:
        tracemalloc.stop()
        await caches.close()
        await registry.close()
    return {"objects": objects, "bytes": held - before, "peak_bytes": peak - before, "sync_seconds": synced_in}


# ---- the section ---------------------------------------------------------------------------------


async def measure(
    database: BenchDatabase, cluster: BenchCluster, sizes: Sizes, work_dir: Path, *, smoke: bool
) -> SectionResult:
    data = await seed_live_page(
        database, cluster, sizes.watch_apps, sizes.live_environments_per_app, sizes.live_namespaces
    )
    memory = await _cache_memory(database)
    runs = {
        cached: await _load_and_rest(database, cluster, sizes, work_dir, cached=cached, workloads=data.workloads)
        for cached in (True, False)
    }
    events = await _event_latency(database, cluster, sizes, work_dir)
    return _result(data.apps, data.app_environments, memory, runs, events, sizes, smoke)


def _per_minute(count: int, seconds: float) -> str:
    return f"{count * 60 / seconds:.0f}/min"


def _verbs(counts: dict[str, int]) -> str:
    return ", ".join(f"{verb} {n}" for verb, n in sorted(counts.items())) or "none"


def _result(
    apps: int,
    app_environments: int,
    memory: dict[str, float],
    runs: dict[bool, dict[str, Any]],
    events: dict[str, list[float]],
    sizes: Sizes,
    smoke: bool,
) -> SectionResult:
    cached, listing = runs[True], runs[False]
    p50_ratio = ratio(cached["many"]["p50_ms"], cached["lone"]["p50_ms"])
    reads_under_load = sum(n for verb, n in cached["under_load"].items() if verb in ("list", "get"))
    reads_at_rest = sum(n for verb, n in cached["at_rest"].items() if verb != "watch")
    rest = sizes.watch_rest_seconds
    clients = f"{sizes.watch_clients} clients, each every {sizes.watch_client_interval:g} s"
    per_thousand = memory["bytes"] / memory["objects"] * 1000 if memory["objects"] else 0.0
    latency = {where: Latency.of(values) for where, values in events.items() if values}
    section = SectionResult("watch_caches", "Watch caches")
    section.rows = [
        Row(
            SECTION,
            "data",
            f"{apps:,} apps, {app_environments:,} app environments, {int(memory['objects']):,} workloads",
            "live page: the first 100 apps with liveStatus; 2 uvicorn workers",
        ),
        Row(
            SECTION,
            f"live page p50 / p95, {clients}, with the caches",
            f"{cached['many']['p50_ms']:.1f} ms / {cached['many']['p95_ms']:.1f} ms",
            f"1 client every {LONE_CLIENT_INTERVAL:g} s: {cached['lone']['p50_ms']:.1f} ms / "
            f"{cached['lone']['p95_ms']:.1f} ms",
            f"{p50_ratio:.2f}x 1 client (p50)",
            verdict=targets.at_most(
                targets.WATCH_CONCURRENT_OVER_ONE, "≤ 2.0", p50_ratio, 2.0, deterministic=False, smoke=smoke
            ),
        ),
        Row(
            SECTION,
            "the same without the caches (every read LISTs; rate limit 20/s, burst 40)",
            f"{listing['many']['p50_ms']:.1f} ms / {listing['many']['p95_ms']:.1f} ms",
            f"1 client: {listing['lone']['p50_ms']:.1f} ms / {listing['lone']['p95_ms']:.1f} ms",
            f"{ratio(listing['many']['p50_ms'], cached['many']['p50_ms']):.1f}x with the caches (p50)",
        ),
        Row(
            SECTION,
            "API-server requests during both loads",
            f"with the caches: {_verbs(cached['under_load'])}",
            f"without: {_verbs(listing['under_load'])}",
            verdict=targets.at_most(
                targets.WATCH_READS_UNDER_LOAD, "0 list/get", reads_under_load, 0, deterministic=True, smoke=smoke
            ),
        ),
        Row(
            SECTION,
            f"API-server requests at rest ({rest:g} s, refresher every {sizes.watch_refresh_seconds:g} s, 2 workers)",
            f"with the caches: {_verbs(cached['at_rest'])} ({_per_minute(sum(cached['at_rest'].values()), rest)})",
            f"without: {_verbs(listing['at_rest'])} ({_per_minute(sum(listing['at_rest'].values()), rest)})",
            verdict=targets.at_most(
                targets.WATCH_AT_REST, "only watch reconnects", reads_at_rest, 0, deterministic=True, smoke=smoke
            ),
        ),
        Row(
            SECTION,
            "memory of the cache (tracemalloc, this process)",
            f"{per_thousand / 1e6:.2f} MB per 1,000 workloads",
            f"{memory['bytes'] / 1e6:.1f} MB for {int(memory['objects']):,}; peak while listing "
            f"{memory['peak_bytes'] / 1e6:.1f} MB",
            f"synced in {ms(memory['sync_seconds'])}",
        ),
    ]
    for where, label in (("observer", "in the server that observed it"), ("other", "on the other server")):
        if where in latency:
            value = latency[where]
            section.rows.append(
                Row(
                    SECTION,
                    f"change in the cluster to a subscriber {label}, p50 / p95",
                    f"{ms(value.p50)} / {ms(value.p95)} (n={value.n})",
                    "from sending the merge patch (replicas + annotation) to the statusChanges message",
                )
            )
    section.data = {
        "apps": apps,
        "app_environments": app_environments,
        "memory": memory,
        "bytes_per_1000_workloads": per_thousand,
        "runs": {"cached" if key else "listing": value for key, value in runs.items()},
        "event_to_subscriber": {where: value.to_json() for where, value in latency.items()},
    }
    return section
