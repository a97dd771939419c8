"""Documents generated from the whole schema (hypothesis-graphql): no 5xx, no INTERNAL, and nothing
written by a request that was refused.

Valid documents for every query and mutation field, with random arguments (NUL characters
included), and invalid documents; against a catalog whose cluster is the simulator, so operations
can reach a cluster when the random names happen to match.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import hypothesis_graphql
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes
from sqlalchemy import func, select

from app.db.models import (
    ApiToken,
    App,
    AppEnvironment,
    Cluster,
    Deployment,
    Environment,
    HibernationRecord,
    Transition,
)
from app.simulator import SimulatedCluster
from schema.schema import SDL_PATH
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.graphql import GraphQLClient
from tests.schema.operation_helpers import setup_app

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
SDL = SDL_PATH.read_text(encoding="utf-8")
# Times as the API takes them (pauseSchedule, keepAwake): ISO 8601, with or without an offset.
SCALARS = {
    "DateTime": st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1))
    .flatmap(lambda d: st.sampled_from([d.isoformat(), d.replace(tzinfo=UTC).isoformat()]))
    .map(nodes.String)
}
TABLES = (Cluster, Environment, App, AppEnvironment, Deployment, HibernationRecord, Transition, ApiToken)


async def _counts(database: DatabaseUnderTest) -> dict[str, int]:
    async with database.engine.connect() as connection:
        return {
            model.__tablename__: (await connection.execute(select(func.count()).select_from(model))).scalar_one()
            for model in TABLES
        }


def _codes(value: Any) -> list[str]:
    """Every error code in a response: top-level extensions and payload errors."""
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            code = item.get("code") or (item.get("extensions") or {}).get("code")
            if isinstance(code, str):
                found.append(code)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _refused(body: dict[str, Any]) -> bool:
    """Nothing of this request was done: a request error, or only payloads that carry errors and nothing else."""
    data = body.get("data")
    if not data:
        return True
    for payload in data.values():
        if not isinstance(payload, dict) or not payload.get("errors"):
            return False
        done = {k: v for k, v in payload.items() if k != "errors" and v not in (None, [], "FAILED")}
        if done:
            return False
    return True


async def _send(graphql: GraphQLClient, database: DatabaseUnderTest, document: str) -> None:
    before = await _counts(database)
    response = await graphql.http.post("/graphql", json={"query": document})
    assert response.status_code < 500, (document, response.text)
    body = response.json()
    assert "INTERNAL" not in _codes(body), (document, body)
    if _refused(body) and not document.lstrip().startswith(("query", "{")):
        assert await _counts(database) == before, f"a refused request wrote: {document}\n{body}"


async def _catalog(graphql: GraphQLClient, simulator: SimulatedCluster) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment("team-dev", "web", "web", 2)


@FUZZ
@given(data=st.data())
async def test_generated_queries_never_fail_the_server(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest, data: st.DataObject
) -> None:
    if not (await _counts(database))["clusters"]:
        await _catalog(graphql, simulator)
    document = data.draw(hypothesis_graphql.queries(SDL, custom_scalars=SCALARS))
    await _send(graphql, database, str(document))


@FUZZ
@given(data=st.data())
async def test_generated_mutations_never_fail_the_server_and_refusals_write_nothing(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest, data: st.DataObject
) -> None:
    if not (await _counts(database))["clusters"]:
        await _catalog(graphql, simulator)
    document = data.draw(hypothesis_graphql.mutations(SDL, custom_scalars=SCALARS))
    await _send(graphql, database, str(document))


@FUZZ
@given(data=st.data())
async def test_invalid_documents_are_refused_with_a_code(
    graphql: GraphQLClient, database: DatabaseUnderTest, data: st.DataObject
) -> None:
    document = data.draw(
        hypothesis_graphql.from_schema(SDL, mode=hypothesis_graphql.Mode.NEGATIVE, custom_scalars=SCALARS)
    )
    response = await graphql.http.post("/graphql", json={"query": str(document)})
    assert response.status_code < 500, response.text
    body = response.json()
    assert "INTERNAL" not in _codes(body), (document, body)
    assert all((e.get("extensions") or {}).get("code") for e in body.get("errors") or []), body
