"""Section 1: the live status page — Hibernia against the naive resolver and the in-memory floor.

All three variants run in this process on one event loop, against the same database, the same
simulated cluster and the same query, through the same HTTP/ASGI path; their samples are taken in
turn (Hibernia, naive, floor, Hibernia, ...) so that noise hits them alike.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select

from app.db.models import AppEnvironment
from app.db.repositories.status import StatusRepository
from app.services.live_status import access_of
from app.services.workload_lists import WORKLOAD_KINDS
from bench import targets
from bench.cluster import BenchCluster
from bench.counting import KubernetesRequests, cost_of
from bench.databases import BenchDatabase
from bench.datasets import seed_live_page
from bench.floor import Recording, floor_view, recording_view
from bench.graphql_client import BenchFailure, GraphQLClient
from bench.hosting import InProcessHibernia, hibernia_in_process
from bench.naive import naive_view, namespaced_view
from bench.profiling import Profiles
from bench.report import Row, SectionResult
from bench.sizes import Sizes
from bench.timing import Latency, ms, ratio, timed

PAGE = """
query LiveStatusPage($first: Int!) {
  apps(first: $first) {
    edges { node { name team environments {
      environment { name namespace }
      status
      liveStatus { status reason workloads { kind name desiredReplicas readyReplicas hibernated originalReplicas } }
    } } }
  }
}"""

SECTION = "1 live page"


async def _cost(
    client: GraphQLClient, database: BenchDatabase, cluster: BenchCluster, first: int
) -> tuple[int, KubernetesRequests]:
    async with cost_of(database.statements, cluster) as cost:
        await client.query(PAGE, {"first": first})
    return len(cost.statements), cost.kubernetes


def _environments(answer: dict[str, Any]) -> list[Any]:
    return [env for edge in answer["apps"]["edges"] for env in edge["node"]["environments"]]


async def _parts(hibernia: InProcessHibernia) -> dict[str, Callable[[], Awaitable[Any]]]:
    """The live page's own costs, apart: the live status service alone (its SQL, its LISTs, the
    derivation, the recording) and its Kubernetes LISTs alone (the lister, the gateway, the simulator)."""
    runtime = hibernia.runtime
    async with runtime.session_factory() as session:
        ids = list(await session.scalars(select(AppEnvironment.id).order_by(AppEnvironment.id)))
        targets = await StatusRepository(session).observation_targets(ids)
    releases: dict[str, set[str]] = {}
    for target in targets:
        releases.setdefault(target.namespace, set()).add(target.release_name)
    cluster = targets[0].cluster
    gateway = await runtime.registry.gateway(access_of(cluster))
    service = runtime.services.live_status

    async def lists() -> None:
        await service.lister.list(gateway, cluster.id, releases)

    async def observe() -> None:
        await service.observe(ids)

    return {"live status service": observe, "Kubernetes LISTs": lists}


def _parts_row(latency: dict[str, Latency], requests: int, error: str | None) -> Row:
    measure = "parts of Hibernia's page, timed on their own (p50)"
    if error is not None:
        return Row(SECTION, measure, f"n/a: {error}"[:200])
    service, lists = latency["live status service"], latency["Kubernetes LISTs"]
    return Row(
        SECTION,
        measure,
        f"live status service {ms(service.p50)}; its {requests} LISTs {ms(lists.p50)}",
        "LISTs: concurrent, through the gateway, answered by the simulator",
    )


async def prepare(database: BenchDatabase, cluster: BenchCluster, sizes: Sizes) -> None:
    """The live page's data with its statuses recorded, for section 4 when section 1 does not run."""
    await seed_live_page(database, cluster, sizes.live_apps, sizes.live_environments_per_app, sizes.live_namespaces)
    async with hibernia_in_process(database) as hibernia:
        await hibernia.client.query(PAGE, {"first": sizes.live_apps})


async def measure(
    database: BenchDatabase, cluster: BenchCluster, sizes: Sizes, *, smoke: bool, profiles: Profiles
) -> SectionResult:
    if sizes.live_apps > 100:
        raise BenchFailure("the live page is one page of apps (first ≤ 100)")
    data = await seed_live_page(
        database, cluster, sizes.live_apps, sizes.live_environments_per_app, sizes.live_namespaces
    )
    kinds = len(WORKLOAD_KINDS)
    full = {"first": sizes.live_apps}
    async with hibernia_in_process(database) as hibernia:
        recording = Recording()
        recorder = await hibernia.variant("recording", lambda runtime: recording_view(runtime, recording))
        naive = await hibernia.variant("naive", naive_view)
        namespaced = await hibernia.variant("namespaced", namespaced_view)

        # Warm-up. The first look records every status (transitions); later ones are the steady state.
        for _ in range(sizes.live_warmup):
            answer = await hibernia.client.query(PAGE, full)
        reference = await recorder.query(PAGE, full)
        floor = await hibernia.variant("floor", lambda runtime: floor_view(runtime, recording))
        variants = {"hibernia": hibernia.client, "namespaced": namespaced, "naive": naive, "floor": floor}
        for name, client in variants.items():
            for _ in range(sizes.live_warmup if name != "hibernia" else 1):
                answer = await client.query(PAGE, full)
            if answer != reference:
                raise BenchFailure(f"the {name} variant answered the live page differently from Hibernia")
        rows = _environments(reference)
        if len(rows) != data.app_environments:
            raise BenchFailure(f"the live page shows {len(rows)} app environments, expected {data.app_environments}")
        statuses = sorted({row["liveStatus"]["status"] for row in rows})

        costs = {name: await _cost(client, database, cluster, sizes.live_apps) for name, client in variants.items()}
        small_page_statements, _ = await _cost(hibernia.client, database, cluster, 5)

        # Best effort: the parts reach into services; a refactor there must not stop the bench.
        try:
            parts = await _parts(hibernia)
            for part in parts.values():
                await part()
            parts_error = None
        except Exception as error:
            parts, parts_error = {}, f"{type(error).__name__}: {error}"
        samples: dict[str, list[float]] = {name: [] for name in [*variants, *parts]}
        for _ in range(sizes.live_iterations):
            for name, client in variants.items():
                seconds, _answer = await timed(lambda client=client: client.query(PAGE, full))  # type: ignore[misc]
                samples[name].append(seconds)
            for name, part in parts.items():
                seconds, _ = await timed(part)
                samples[name].append(seconds)

        # Profiled apart from the timed samples; the floor's profile is the GraphQL layer alone.
        for name, client in (("live-page", hibernia.client), ("live-page-floor", floor)):
            async with profiles.profile(name):
                for _ in range(max(5, sizes.live_iterations // 2)):
                    await client.query(PAGE, full)

    latency = {name: Latency.of(values) for name, values in samples.items()}
    statements = {name: cost[0] for name, cost in costs.items()}
    requests = {name: cost[1] for name, cost in costs.items()}
    budget = data.namespaces * kinds
    hibernia_over_floor = ratio(latency["hibernia"].p50, latency["floor"].p50)
    naive_over_hibernia = ratio(latency["naive"].p50, latency["hibernia"].p50)
    namespaced_over_floor = ratio(latency["namespaced"].p50, latency["floor"].p50)
    h, n, f, ns = latency["hibernia"], latency["naive"], latency["floor"], latency["namespaced"]

    result = SectionResult("live_page", "Live status page")
    result.rows = [
        Row(
            SECTION,
            f"page: {data.apps} apps x {sizes.live_environments_per_app} envs over {data.namespaces} namespaces",
            f"{data.app_environments} app environments, {data.workloads} workloads",
            "statuses: " + ", ".join(statuses),
        ),
        Row(
            SECTION,
            "Kubernetes requests per GraphQL request",
            f"Hibernia {requests['hibernia'].total} (one LIST per kind in all namespaces)",
            f"with namespaced Roles {requests['namespaced'].total}; naive {requests['naive'].total}; "
            f"floor {requests['floor'].total}",
            verdict=targets.at_most(
                targets.LIVE_KUBERNETES_REQUESTS,
                f"≤ {budget} (namespaces x kinds)",
                requests["hibernia"].total,
                budget,
                deterministic=True,
                smoke=smoke,
            ),
        ),
        Row(
            SECTION,
            f"SQL statements per GraphQL request (first: {sizes.live_apps} / first: 5)",
            f"Hibernia {statements['hibernia']} / {small_page_statements}",
            f"naive {statements['naive']}; floor {statements['floor']}",
            verdict=targets.at_most(
                targets.LIVE_STATEMENTS_CONSTANT,
                "constant in page size",
                abs(statements["hibernia"] - small_page_statements),
                0,
                deterministic=True,
                smoke=smoke,
            ),
        ),
        Row(
            SECTION,
            "latency p50 / p95",
            f"Hibernia {ms(h.p50)} / {ms(h.p95)}",
            f"floor {ms(f.p50)} / {ms(f.p95)}",
            f"{hibernia_over_floor:.2f}x Hibernia/floor (p50)",
            verdict=targets.at_most(
                targets.LIVE_OVER_FLOOR,
                "Hibernia/floor ≤ 2.0",
                hibernia_over_floor,
                2.0,
                deterministic=False,
                smoke=smoke,
            ),
        ),
        Row(
            SECTION,
            "naive latency p50 / p95",
            f"naive {ms(n.p50)} / {ms(n.p95)}",
            f"Hibernia {ms(h.p50)} / {ms(h.p95)}",
            f"{naive_over_hibernia:.1f}x naive/Hibernia (p50)",
        ),
        Row(
            SECTION,
            "with namespaced Roles only (one LIST per namespace and kind): latency p50 / p95",
            f"Hibernia {ms(ns.p50)} / {ms(ns.p95)}",
            f"floor {ms(f.p50)} / {ms(f.p95)}",
            f"{namespaced_over_floor:.2f}x namespaced/floor (p50)",
        ),
        _parts_row(latency, requests["hibernia"].total, parts_error),
    ]
    result.data = {
        "dataset": {
            "apps": data.apps,
            "app_environments": data.app_environments,
            "namespaces": data.namespaces,
            "workloads": data.workloads,
            "statuses": statuses,
        },
        "kubernetes_requests": {name: r.total for name, r in requests.items()},
        "kubernetes_requests_detail": {name: r.by_verb_and_kind for name, r in requests.items()},
        "hibernia_list_groups": requests["hibernia"].list_groups,
        "hibernia_max_lists_per_group": requests["hibernia"].max_lists_per_group,
        "sql_statements": statements,
        "sql_statements_first_5": small_page_statements,
        "latency": {name: value.to_json() for name, value in latency.items()},
        "latency_note": "'live status service' and 'Kubernetes LISTs' are parts of Hibernia's page timed alone",
        "parts_error": parts_error,
        "hibernia_over_floor_p50": hibernia_over_floor,
        "naive_over_hibernia_p50": naive_over_hibernia,
        "namespaced_over_floor_p50": namespaced_over_floor,
    }
    return result
