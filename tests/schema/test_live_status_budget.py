"""Live status costs one LIST per kind per request (per namespace and kind with namespaced Roles),
whatever the page size."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from sqlalchemy import insert
from starlette.applications import Starlette

from app.db.models import App, AppEnvironment, Cluster, Environment, OperationLease
from app.domain.workloads import WorkloadKind
from app.services.workload_lists import DENIAL_MEMORY_SECONDS, ClusterLister
from app.simulator import SimulatedCluster
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.graphql import GraphQLClient
from tests.schema.live_helpers import SIMULATOR_TOKEN

NAMESPACES = 30
APPS = 100
ENVIRONMENTS_PER_APP = 3
KINDS = len(WorkloadKind)

PAGE = """
{ apps(first: 100) { edges { node { name environments { app: releaseName
    environment { namespace } status liveStatus { status workloads { name readyReplicas } } } } } } }"""

# Statements in a steady state (nothing changed since the last look): the apps page, the batched
# attachments (with environments and clusters, which the observation starts from), the hibernation
# records and one UPDATE of `status_observed_at`. Last deploys are only read for app environments
# still recorded NOT_DEPLOYED.
STEADY_STATE_STATEMENTS = 4


async def _seed(database: DatabaseUnderTest, simulator: SimulatedCluster) -> None:
    async with database.engine.begin() as connection:
        cluster = (
            await connection.execute(
                insert(Cluster).returning(Cluster.id),
                [{"name": "sim", "server": simulator.url, "token": SIMULATOR_TOKEN, "simulated": True}],
            )
        ).scalar_one()
        env_ids = (
            (
                await connection.execute(
                    insert(Environment).returning(Environment.id),
                    [
                        {"name": f"env-{i:02d}", "cluster_id": cluster, "namespace": f"ns-{i:02d}"}
                        for i in range(NAMESPACES)
                    ],
                )
            )
            .scalars()
            .all()
        )
        app_ids = (
            (
                await connection.execute(
                    insert(App).returning(App.id), [{"name": f"app-{i:03d}", "team": "core"} for i in range(APPS)]
                )
            )
            .scalars()
            .all()
        )
        rows = []
        for index, app_id in enumerate(app_ids):
            for offset in range(ENVIRONMENTS_PER_APP):
                env = (index + offset) % NAMESPACES
                rows.append({"app_id": app_id, "environment_id": env_ids[env], "release_name": f"app-{index:03d}"})
                if (index + offset) % 7 == 0:
                    simulator.add_deployment(f"ns-{env:02d}", f"app-{index:03d}", f"app-{index:03d}", hibernated_from=2)
                else:
                    simulator.add_deployment(f"ns-{env:02d}", f"app-{index:03d}", f"app-{index:03d}", 1)
        ids = (await connection.execute(insert(AppEnvironment).returning(AppEnvironment.id), rows)).scalars().all()
        await connection.execute(insert(OperationLease), [{"app_environment_id": i} for i in ids])


def _rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [env for edge in data["apps"]["edges"] for env in edge["node"]["environments"]]


def _expected(rows: list[dict[str, Any]]) -> None:
    assert len(rows) == APPS * ENVIRONMENTS_PER_APP
    for row in rows:
        app, namespace = int(row["app"][4:]), int(row["environment"]["namespace"][3:])
        offset = (namespace - app) % NAMESPACES
        hibernated = (app + offset) % 7 == 0
        assert row["liveStatus"]["status"] == ("HIBERNATING" if hibernated else "HEALTHY"), row


async def test_a_live_page_lists_each_kind_once_across_namespaces(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await _seed(database, simulator)
    # A release of the same name in a namespace the page does not show changes nothing.
    simulator.add_deployment("elsewhere", "app-000", "app-000", hibernated_from=3)

    data = await graphql.query(PAGE)

    _expected(_rows(data))
    lists = Counter((r.namespace, r.kind) for r in simulator.requests if r.verb == "list")
    assert lists == {(None, kind.value): 1 for kind in WorkloadKind}, "one LIST per kind, in all namespaces"
    assert simulator.count() == KINDS, "no GET per workload"
    # The first look recorded every status.
    assert {r["status"] for r in _rows(data)} == {"NOT_DEPLOYED"}
    assert {r["status"] for r in _rows(await graphql.query(PAGE))} == {"HEALTHY", "HIBERNATING"}


async def test_with_namespaced_roles_a_live_page_lists_once_per_namespace_and_kind(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await _seed(database, simulator)
    simulator.set_faults(namespaced_access=True)

    first = await graphql.query(PAGE)
    simulator.log.clear()
    second = await graphql.query(PAGE)

    _expected(_rows(first))
    _expected(_rows(second))
    # The first page learnt that lists across namespaces are refused (one 403 per kind) ...
    # ... so the next page goes straight to one LIST per (namespace, kind), and no GET per workload.
    lists = Counter((r.namespace, r.kind) for r in simulator.requests if r.verb == "list")
    assert len(lists) == NAMESPACES * KINDS and max(lists.values()) == 1
    assert None not in {namespace for namespace, _ in lists}
    assert simulator.count() == NAMESPACES * KINDS


async def test_a_refusal_to_list_across_namespaces_is_asked_again_later(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest, hibernia: Starlette
) -> None:
    await _seed(database, simulator)
    simulator.set_faults(namespaced_access=True)
    await graphql.query(PAGE)
    simulator.set_faults()  # the cluster admin granted a ClusterRole
    lister: ClusterLister = hibernia.state.runtime.services.live_status.lister
    now = time.monotonic()
    lister.clock = lambda: now + DENIAL_MEMORY_SECONDS + 1
    simulator.log.clear()

    _expected(_rows(await graphql.query(PAGE)))

    assert simulator.count() == KINDS


async def test_live_page_sql_statements_do_not_grow_with_the_page(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await _seed(database, simulator)
    await graphql.query(PAGE)  # first look records every status

    counts = {}
    for first in (5, 100):
        query = PAGE.replace("first: 100", f"first: {first}")
        with database.counter.counting() as statements:
            await graphql.query(query)
        counts[first] = len(statements)

    assert counts == {5: STEADY_STATE_STATEMENTS, 100: STEADY_STATE_STATEMENTS}
