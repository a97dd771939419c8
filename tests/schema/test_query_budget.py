"""No N+1: the SQL statements a page costs do not grow with the page size."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from app.db.models import App, AppEnvironment, Cluster, Environment
from app.domain.status import AppStatus
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.graphql import GraphQLClient

PAGE = """
query($first: Int!) {
  apps(first: $first, filter: { statuses: [HIBERNATING, HEALTHY] }) {
    totalCount
    edges { cursor node { id name team
      environments { id releaseName status statusReason statusSince environment { name namespace } } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
ROWS_PAGE = """
query($first: Int!) {
  appEnvironments(first: $first) {
    totalCount
    edges { node { status statusReason app { name team } environment { name } } }
  }
}"""
# apps page + one batched load of the attachments (with their environments) + the count.
APPS_PAGE_STATEMENTS = 3
# rows page (app and environment joined in) + the count.
APP_ENVIRONMENTS_PAGE_STATEMENTS = 2


async def _seed(database: DatabaseUnderTest, apps: int) -> None:
    async with database.engine.begin() as connection:
        cluster = (
            await connection.execute(insert(Cluster).returning(Cluster.id), [{"name": "c1", "server": "http://x"}])
        ).scalar_one()
        env_ids = (
            (
                await connection.execute(
                    insert(Environment).returning(Environment.id),
                    [{"name": n, "cluster_id": cluster, "namespace": n} for n in ("dev", "staging", "prod")],
                )
            )
            .scalars()
            .all()
        )
        app_ids = (
            (
                await connection.execute(
                    insert(App).returning(App.id), [{"name": f"app-{i:03d}", "team": "core"} for i in range(apps)]
                )
            )
            .scalars()
            .all()
        )
        await connection.execute(
            insert(AppEnvironment),
            [
                {
                    "app_id": a,
                    "environment_id": e,
                    "release_name": "r",
                    "status": AppStatus.HIBERNATING if (a + e) % 3 == 0 else AppStatus.HEALTHY,
                    "status_since": datetime.now(UTC),
                }
                for a in app_ids
                for e in env_ids
            ],
        )


@pytest.mark.parametrize("first", [5, 100])
async def test_apps_page_costs_a_constant_number_of_statements(
    graphql: GraphQLClient, database: DatabaseUnderTest, first: int
) -> None:
    await _seed(database, apps=120)

    with database.counter.counting() as statements:
        data = await graphql.query(PAGE, {"first": first})

    assert len(data["apps"]["edges"]) == first
    assert all(len(e["node"]["environments"]) == 3 for e in data["apps"]["edges"])
    assert len(statements) == APPS_PAGE_STATEMENTS, statements


@pytest.mark.parametrize("first", [5, 100])
async def test_app_environments_page_costs_a_constant_number_of_statements(
    graphql: GraphQLClient, database: DatabaseUnderTest, first: int
) -> None:
    await _seed(database, apps=40)

    with database.counter.counting() as statements:
        data = await graphql.query(ROWS_PAGE, {"first": first})

    assert len(data["appEnvironments"]["edges"]) == first
    assert len(statements) == APP_ENVIRONMENTS_PAGE_STATEMENTS, statements


async def test_total_count_is_only_computed_when_asked(graphql: GraphQLClient, database: DatabaseUnderTest) -> None:
    await _seed(database, apps=10)

    with database.counter.counting() as statements:
        await graphql.query("{ apps(first: 5) { edges { node { name } } } }")

    assert len(statements) == 1
