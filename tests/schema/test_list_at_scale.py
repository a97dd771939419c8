"""The list bug, fixed for good: status filters run in SQL before pagination, on 10,000+ rows."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, text

from app.config import Settings
from app.db.models import App, AppEnvironment, Cluster, Environment
from app.domain.status import AppStatus
from app.main import create_app
from tests.conftest import BACKENDS, _skip_without_postgres
from tests.fixtures.databases import DatabaseUnderTest, analyze, fresh_database
from tests.fixtures.graphql import GraphQLClient

APPS = 2_600
ENVIRONMENTS = ["dev", "qa", "staging", "prod"]  # 10,400 app environments
TEAMS = [f"team-{i}" for i in range(12)]


@dataclass(frozen=True)
class Row:
    app: str
    team: str
    environment: str
    status: str


@dataclass
class Dataset:
    graphql: GraphQLClient
    database: DatabaseUnderTest
    rows: list[Row]


def _status_for(rng: random.Random) -> AppStatus:
    roll = rng.random()
    if roll < 0.03:
        return AppStatus.HIBERNATING
    if roll < 0.04:
        return AppStatus.PARTIALLY_HIBERNATED
    if roll < 0.20:
        return AppStatus.NOT_DEPLOYED
    if roll < 0.22:
        return AppStatus.DEGRADED
    return AppStatus.HEALTHY


async def _seed(database: DatabaseUnderTest) -> list[Row]:
    rng = random.Random(20261126)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    rows: list[Row] = []
    async with database.engine.begin() as connection:
        await connection.execute(insert(Cluster), [{"id": 1, "name": "c1", "server": "http://127.0.0.1:1"}])
        await connection.execute(
            insert(Environment),
            [{"id": i + 1, "name": n, "cluster_id": 1, "namespace": f"ns-{n}"} for i, n in enumerate(ENVIRONMENTS)],
        )
        names = [f"app-{i:05d}" for i in range(APPS)]
        rng.shuffle(names)  # ids do not follow name order, so ordering by name is really tested
        apps = [{"id": i + 1, "name": name, "team": rng.choice(TEAMS)} for i, name in enumerate(names)]
        await connection.execute(insert(App), apps)
        attachments = []
        for app in apps:
            for env_id, env in enumerate(ENVIRONMENTS, start=1):
                status = _status_for(rng)
                attachments.append(
                    {
                        "app_id": app["id"],
                        "environment_id": env_id,
                        "release_name": app["name"],
                        "status": status,
                        "status_reason": "seeded",
                        "status_since": now + timedelta(seconds=rng.randrange(10**6)),
                    }
                )
                rows.append(Row(app["name"], app["team"], env, status.value))
        await connection.execute(insert(AppEnvironment), attachments)
        if database.backend == "postgres":
            # Explicit ids above bypassed the sequences; move them past the seeded rows.
            for table in ("clusters", "environments", "apps"):
                await connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                )
    if database.backend == "postgres":
        await analyze(database)
    return rows


@pytest.fixture(scope="module", params=BACKENDS)
async def dataset(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Dataset]:
    _skip_without_postgres(request.param)
    async with fresh_database(request.param, Path(tmp_path_factory.mktemp("scale"))) as database:
        rows = await _seed(database)
        app = create_app(Settings(HIBERNIA_DATABASE_URL=database.url), engine=database.engine)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            yield Dataset(GraphQLClient(http), database, rows)


APP_ENVIRONMENTS = """
query($first: Int!, $after: String, $filter: AppFilter) {
  appEnvironments(first: $first, after: $after, filter: $filter) {
    totalCount
    edges { cursor node { status app { name team } environment { name } } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}"""
APPS_QUERY = """
query($first: Int!, $after: String, $filter: AppFilter) {
  apps(first: $first, after: $after, filter: $filter) {
    totalCount
    edges { node { name team } }
    pageInfo { hasNextPage endCursor }
  }
}"""


def _matches(row: Row, filter_: dict[str, Any]) -> bool:
    search = (filter_.get("search") or "").lower()
    return (
        (not search or search in row.app.lower() or search in row.team.lower())
        and ("teams" not in filter_ or row.team in filter_["teams"])
        and ("environments" not in filter_ or row.environment in filter_["environments"])
        and ("statuses" not in filter_ or row.status in filter_["statuses"])
    )


async def _walk(dataset: Dataset, query: str, field: str, filter_: dict[str, Any], first: int) -> list[dict[str, Any]]:
    """Walks every page, checking page sizes and totals on the way; returns all nodes in order."""
    nodes: list[dict[str, Any]] = []
    after: str | None = None
    totals = set()
    while True:
        page = (await dataset.graphql.query(query, {"first": first, "after": after, "filter": filter_}))[field]
        totals.add(page["totalCount"])
        nodes.extend(edge["node"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            assert len(page["edges"]) <= first
            break
        assert len(page["edges"]) == first, "every page but the last is full"
        after = page["pageInfo"]["endCursor"]
    assert totals == {len(nodes)}, "totalCount equals the number of rows walked"
    return nodes


FILTERS: list[dict[str, Any]] = [
    {"statuses": ["HIBERNATING"]},
    {"statuses": ["PARTIALLY_HIBERNATED", "HIBERNATING"]},
    {"statuses": ["NOT_DEPLOYED"]},
    {"statuses": ["HIBERNATING"], "environments": ["prod", "qa"]},
    {"statuses": ["HIBERNATING", "DEGRADED"], "teams": ["team-3", "team-7"]},
    {"statuses": ["HIBERNATING"], "environments": ["dev"], "teams": ["team-1"], "search": "app-0"},
    {"search": "APP-01", "environments": ["staging"]},
    {"teams": ["team-5"]},
]


@pytest.mark.parametrize("filter_", FILTERS, ids=[str(i) for i in range(len(FILTERS))])
async def test_app_environment_pages_are_full_exact_and_complete(dataset: Dataset, filter_: dict[str, Any]) -> None:
    expected = sorted((r.app, r.environment) for r in dataset.rows if _matches(r, filter_))
    assert expected, "the filter must select something for the test to mean anything"

    nodes = await _walk(dataset, APP_ENVIRONMENTS, "appEnvironments", filter_, first=37)

    walked = [(n["app"]["name"], n["environment"]["name"]) for n in nodes]
    assert walked == expected  # each matching row exactly once, in order
    if "statuses" in filter_:
        assert {n["status"] for n in nodes} <= set(filter_["statuses"])


@pytest.mark.parametrize("filter_", FILTERS, ids=[str(i) for i in range(len(FILTERS))])
async def test_app_pages_are_full_exact_and_complete(dataset: Dataset, filter_: dict[str, Any]) -> None:
    app_filter = {k: v for k, v in filter_.items() if k in ("search", "teams")}
    by_app: dict[str, bool] = {}
    for row in dataset.rows:
        if _matches(row, app_filter):
            by_app[row.app] = by_app.get(row.app, False) or _matches(row, filter_)
    expected = sorted(name for name, hit in by_app.items() if hit)

    nodes = await _walk(dataset, APPS_QUERY, "apps", filter_, first=50)

    assert [n["name"] for n in nodes] == expected


async def test_hibernated_rows_are_scattered_across_pages(dataset: Dataset) -> None:
    # The old bug only shows when matching rows are spread out: check the data really is.
    ordered = sorted(dataset.rows, key=lambda r: (r.app, r.environment))
    pages_with_hibernated = {i // 100 for i, r in enumerate(ordered) if r.status == "HIBERNATING"}
    assert len(ordered) >= 10_000
    assert len(pages_with_hibernated) > 0.8 * (len(ordered) // 100)


async def test_unfiltered_walk_covers_every_row_once(dataset: Dataset) -> None:
    nodes = await _walk(dataset, APP_ENVIRONMENTS, "appEnvironments", {}, first=100)
    assert len(nodes) == len(dataset.rows)
    assert len({(n["app"]["name"], n["environment"]["name"]) for n in nodes}) == len(dataset.rows)


async def test_ordering_is_stable_while_rows_are_added_between_pages(dataset: Dataset) -> None:
    filter_ = {"statuses": ["HIBERNATING"]}
    expected = sorted(r.app for r in dataset.rows if r.status == "HIBERNATING" and r.environment == "dev")
    seen: list[str] = []
    after: str | None = None
    query = APP_ENVIRONMENTS
    added = 0
    try:
        while True:
            variables = {"first": 10, "after": after, "filter": {**filter_, "environments": ["dev"]}}
            page = (await dataset.graphql.query(query, variables))["appEnvironments"]
            seen.extend(e["node"]["app"]["name"] for e in page["edges"])
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
            # A hibernated app that sorts before the cursor appears between two page requests.
            async with dataset.database.engine.begin() as connection:
                name = f"app-{added:05d}-new"
                result = await connection.execute(insert(App).returning(App.id), [{"name": name, "team": "team-0"}])
                await connection.execute(
                    insert(AppEnvironment),
                    [
                        {
                            "app_id": result.scalar_one(),
                            "environment_id": 1,
                            "release_name": name,
                            "status": AppStatus.HIBERNATING,
                            "status_reason": "added",
                            "status_since": datetime.now(UTC),
                        }
                    ],
                )
            added += 1
    finally:
        async with dataset.database.engine.begin() as connection:
            await connection.execute(App.__table__.delete().where(App.name.like("%-new")))

    assert added > 3
    assert len(seen) == len(set(seen)), "no row is returned twice"
    assert [name for name in seen if not name.endswith("-new")] == expected, "no row is skipped"
