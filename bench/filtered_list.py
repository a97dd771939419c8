"""Section 2: the HIBERNATING filter over 100,000 app environments, walked page by page, against
the same page's SQL executed directly through the driver (asyncpg; aiosqlite with --sqlite).

The raw SQL is not rewritten by hand: it is the statements (and parameters) Hibernia's listing
repository sent for that page (one SELECT today), captured with the engine's `before_cursor_execute` listener. So
GraphQL/raw is what everything above the driver costs: session, ORM, resolvers, cursors, JSON.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import aiosqlite
import asyncpg  # type: ignore[import-untyped]

from bench import targets
from bench.counting import Statement
from bench.databases import BenchDatabase, asyncpg_dsn
from bench.datasets import seed_filtered_list
from bench.graphql_client import BenchFailure
from bench.hosting import hibernia_in_process
from bench.profiling import Profiles
from bench.report import Row, SectionResult
from bench.sizes import Sizes
from bench.timing import Latency, ms, ratio, timed

QUERY = """
query HibernatingPage($first: Int!, $after: String) {
  appEnvironments(first: $first, after: $after, filter: { statuses: [HIBERNATING] }) {
    edges { cursor node { id releaseName status statusReason statusSince app { name team } environment { name } } }
    pageInfo { hasNextPage endCursor }
  }
}"""

SECTION = "2 filtered list"


@dataclass(frozen=True, slots=True)
class _Page:
    after: str | None
    rows: int
    has_next: bool
    statements: list[Statement]  # what Hibernia sent for this page, in order (usually one SELECT)


class _RawSql(Protocol):
    async def fetch(self, statement: Statement) -> int: ...

    async def explain(self, statement: Statement) -> list[str]: ...


class _Asyncpg:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def fetch(self, statement: Statement) -> int:
        return len(await self.connection.fetch(statement.sql, *statement.parameters))

    async def explain(self, statement: Statement) -> list[str]:
        rows = await self.connection.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {statement.sql}", *statement.parameters)
        return [str(row[0]) for row in rows]


class _Aiosqlite:
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self.connection = connection

    async def fetch(self, statement: Statement) -> int:
        async with self.connection.execute(statement.sql, statement.parameters) as cursor:
            return len(list(await cursor.fetchall()))

    async def explain(self, statement: Statement) -> list[str]:
        async with self.connection.execute(f"EXPLAIN QUERY PLAN {statement.sql}", statement.parameters) as cursor:
            return [" ".join(str(value) for value in row) for row in await cursor.fetchall()]


@asynccontextmanager
async def _raw_sql(database: BenchDatabase) -> AsyncIterator[_RawSql]:
    if database.backend == "postgres":
        connection = await asyncpg.connect(asyncpg_dsn(database.url))
        try:
            yield _Asyncpg(connection)
        finally:
            await connection.close()
    else:
        async with aiosqlite.connect(database.sqlite_path) as sqlite:
            yield _Aiosqlite(sqlite)


def _page_statements(statements: list[Statement]) -> list[Statement]:
    selects = [s for s in statements if s.sql.lstrip().upper().startswith("SELECT")]
    if not selects:
        raise BenchFailure("a GraphQL page sent no SELECT")
    return selects


async def _fetch_page(raw: _RawSql, page: _Page) -> int:
    return sum([await raw.fetch(statement) for statement in page.statements])


async def measure(database: BenchDatabase, sizes: Sizes, *, smoke: bool, profiles: Profiles) -> SectionResult:
    data = await seed_filtered_list(
        database, sizes.filtered_apps, sizes.filtered_environments, sizes.filtered_hibernated_share
    )
    first = sizes.filtered_page_size
    pages: list[_Page] = []
    statements_per_page: list[int] = []
    async with hibernia_in_process(database) as hibernia:
        client = hibernia.client
        # The first walk checks the answer and captures each page's cursor and SQL.
        after: str | None = None
        while True:
            with database.statements.recording() as statements:
                page: dict[str, Any] = (await client.query(QUERY, {"first": first, "after": after}))["appEnvironments"]
            edges = page["edges"]
            if any(edge["node"]["status"] != "HIBERNATING" for edge in edges):
                raise BenchFailure("the HIBERNATING filter returned another status")
            statements_per_page.append(len(statements))
            has_next = bool(page["pageInfo"]["hasNextPage"])
            pages.append(_Page(after, len(edges), has_next, _page_statements(statements)))
            if not has_next:
                break
            if len(edges) != first:
                raise BenchFailure(f"a page before the last has {len(edges)} rows, not {first}")
            after = page["pageInfo"]["endCursor"]
        walked = sum(p.rows for p in pages)
        if walked != data.hibernating:
            raise BenchFailure(f"the walk returned {walked} rows; {data.hibernating} are HIBERNATING")

        graphql_samples: list[float] = []
        raw_samples: list[float] = []
        async with _raw_sql(database) as raw:
            for page_ in pages:  # warm the driver's statement cache as the walk above warmed Hibernia's
                fetched = await _fetch_page(raw, page_)
                # One page statement fetches one row more than the page when another page follows.
                if len(page_.statements) == 1 and fetched != page_.rows + page_.has_next:
                    raise BenchFailure("the raw page statement returned another number of rows than GraphQL")
            for _ in range(sizes.filtered_walks):
                for page_ in pages:
                    seconds, _answer = await timed(
                        lambda page_=page_: client.query(QUERY, {"first": first, "after": page_.after})  # type: ignore[misc]
                    )
                    graphql_samples.append(seconds)
                    seconds, _rows = await timed(lambda page_=page_: _fetch_page(raw, page_))  # type: ignore[misc]
                    raw_samples.append(seconds)
            # Where the raw time goes, for a page in the middle of the walk.
            plan = [line for st in pages[len(pages) // 2].statements for line in await raw.explain(st)]

        async with profiles.profile("filtered-list"):
            for page_ in pages:
                await client.query(QUERY, {"first": first, "after": page_.after})

    graphql, raw_latency = Latency.of(graphql_samples), Latency.of(raw_samples)
    over_raw = ratio(graphql.p50, raw_latency.p50)
    driver = "asyncpg" if database.backend == "postgres" else "aiosqlite"
    result = SectionResult("filtered_list", "Filtered list at scale")
    result.rows = [
        Row(
            SECTION,
            f"walk: `appEnvironments(first: {first}, filter: {{statuses: [HIBERNATING]}})`",
            f"{len(pages)} pages, {walked:,} rows of {data.app_environments:,}",
            f"SQL statements per page: {max(statements_per_page)}",
        ),
        Row(
            SECTION,
            "p50 / p95 per page",
            f"GraphQL {ms(graphql.p50)} / {ms(graphql.p95)}",
            f"raw SQL via {driver} {ms(raw_latency.p50)} / {ms(raw_latency.p95)}",
            f"{over_raw:.2f}x GraphQL/raw (p50)",
            verdict=targets.at_most(
                targets.FILTERED_OVER_RAW, "≤ 3x raw SQL", over_raw, 3.0, deterministic=False, smoke=smoke
            ),
        ),
    ]
    result.data = {
        "dataset": {"app_environments": data.app_environments, "hibernating": data.hibernating},
        "pages": len(pages),
        "rows_walked": walked,
        "sql_statements_per_page": max(statements_per_page),
        "page_sql": [statement.sql for statement in pages[0].statements],
        "middle_page_plan": plan,
        "graphql_latency": graphql.to_json(),
        "raw_sql_latency": raw_latency.to_json(),
        "raw_driver": driver,
        "graphql_over_raw_p50": over_raw,
    }
    return result
