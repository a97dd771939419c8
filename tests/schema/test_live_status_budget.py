"""Live status costs one LIST per (namespace, kind) per request, whatever the page size."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import insert

from app.cluster.simulator import SimulatedCluster
from app.db.models import App, AppEnvironment, Cluster, Environment, OperationLease
from app.domain.workloads import WorkloadKind
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.graphql import GraphQLClient
from tests.schema.live_helpers import SIMULATOR_TOKEN

NAMESPACES = 30
APPS = 100
ENVIRONMENTS_PER_APP = 3
KINDS = len(WorkloadKind)

PAGE = """
{ apps(first: 100) { edges { node { name environments {
    environment { namespace } status liveStatus { status workloads { name readyReplicas } } } } } } }"""

# Statements in a steady state (nothing changed since the last look): the apps page, the batched
# attachments, the observation's reads (targets, hibernation records, last successful deploys) and
# one UPDATE of `status_observed_at`.
STEADY_STATE_STATEMENTS = 6


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


async def test_a_live_page_lists_once_per_namespace_and_kind(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await _seed(database, simulator)

    data = await graphql.query(PAGE)

    rows = [env for edge in data["apps"]["edges"] for env in edge["node"]["environments"]]
    assert len(rows) == APPS * ENVIRONMENTS_PER_APP
    assert {r["liveStatus"]["status"] for r in rows} == {"HEALTHY", "HIBERNATING"}
    lists = Counter((r.namespace, r.kind) for r in simulator.requests if r.verb == "list")
    assert len(lists) == NAMESPACES * KINDS
    assert max(lists.values()) == 1, "at most one LIST per (namespace, kind)"
    assert simulator.count() == NAMESPACES * KINDS, "no GET per workload"
    # The first look recorded every status.
    assert {r["status"] for r in rows} == {"NOT_DEPLOYED"}
    assert {
        r["status"] for edge in (await graphql.query(PAGE))["apps"]["edges"] for r in edge["node"]["environments"]
    } == {
        "HEALTHY",
        "HIBERNATING",
    }


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
