"""Random input at the API's edges: no 500, no leaked traceback, nothing changed by rejected input."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.db.models import App, AppEnvironment, Cluster, Deployment, Environment, HibernationRecord
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.graphql import GraphQLClient

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)

names = st.one_of(
    st.text(max_size=80),
    st.from_regex(r"[a-z0-9-]{0,70}", fullmatch=True),
    st.sampled_from(["", "-", "a-", "UPPER", "web", "x" * 64, "ünïcode", "a b", "../etc", "web\x00"]),
)
images = st.one_of(st.text(max_size=120), st.sampled_from(["", " ", "web:1", "Web:1", "a" * 2000, "x@sha256:zz"]))
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30))


async def _counts(database: DatabaseUnderTest) -> dict[str, int]:
    async with database.engine.connect() as connection:
        return {
            model.__tablename__: (await connection.execute(select(func.count()).select_from(model))).scalar_one()
            for model in (Cluster, Environment, App, AppEnvironment, Deployment, HibernationRecord)
        }


async def _post(graphql: GraphQLClient, body: Any) -> dict[str, Any]:
    raw = json.dumps(body) if not isinstance(body, bytes) else body
    response = await graphql.http.post("/graphql", content=raw, headers={"content-type": "application/json"})
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text and 'File "' not in response.text
    for error in (response.json().get("errors") or []) if response.status_code == 200 else []:
        assert (error.get("extensions") or {}).get("code") != "INTERNAL", error
    result: dict[str, Any] = response.json()
    return result


@FUZZ
@given(name=names, team=names, environments=st.lists(names, max_size=3), image=images)
async def test_random_mutation_input_is_rejected_cleanly(
    graphql: GraphQLClient, database: DatabaseUnderTest, name: str, team: str, environments: list[str], image: str
) -> None:
    before = await _counts(database)
    mutations = [
        ("mutation($i: CreateAppInput!) { createApp(input: $i) { app { name } errors { code } } }",
         {"name": name, "team": team, "environments": environments}),
        ("mutation($i: CreateClusterInput!) { createCluster(input: $i) { cluster { name } errors { code } } }",
         {"name": name, "server": team}),
        ("mutation($i: DeployInput!) { deploy(input: $i) { outcome errors { code } } }",
         {"app": name, "environment": team, "image": image}),
        ("mutation($i: HibernateInput!) { hibernate(input: $i) { outcome errors { code } } }",
         {"app": name, "environment": team, "workloads": environments}),
        ("mutation($i: AppGroupInput!) { hibernateMany(input: $i) { results { app } errors { code } } }",
         {"environment": name, "apps": environments}),
    ]  # fmt: skip
    for document, variables in mutations:
        body = await _post(graphql, {"query": document, "variables": {"i": variables}})
        payload = next(iter((body.get("data") or {}).values()), None)
        created = payload and any(v for k, v in payload.items() if k in ("app", "cluster") and v)
        if not created:
            assert await _counts(database) == before, f"rejected input changed the database: {variables}"
        else:
            before = await _counts(database)


@FUZZ
@given(
    first=st.one_of(st.integers(min_value=-(2**31), max_value=2**31 - 1), json_scalars),
    after=st.one_of(st.none(), st.text(max_size=60), st.binary(max_size=40).map(lambda b: b.hex())),
    search=st.one_of(st.none(), st.text(max_size=300)),
    statuses=st.one_of(st.none(), st.lists(st.sampled_from(["HIBERNATING", "NOPE", "", "healthy"]), max_size=4)),
    teams=st.one_of(st.none(), st.lists(st.text(max_size=20), max_size=3)),
)
async def test_random_list_arguments_never_fail_the_server(
    graphql: GraphQLClient, first: Any, after: str | None, search: str | None, statuses: Any, teams: Any
) -> None:
    filter_: dict[str, Any] = {"search": search, "teams": teams, "statuses": statuses}
    for field in ("apps", "appEnvironments"):
        await _post(
            graphql,
            {
                "query": f"query($f: Int!, $a: String, $x: AppFilter) {{ {field}(first: $f, after: $a, filter: $x) "
                "{ totalCount edges { cursor } } }",
                "variables": {"f": first, "a": after, "x": filter_},
            },
        )


@FUZZ
@given(document=st.one_of(st.text(max_size=300), st.sampled_from(["{", "}", "{ apps(first: ) }", "query { a" * 50])))
async def test_malformed_documents_are_client_errors(graphql: GraphQLClient, document: str) -> None:
    response = await graphql.http.post("/graphql", json={"query": document})
    assert response.status_code < 500
    assert "Traceback" not in response.text


@FUZZ
@given(
    body=st.one_of(
        json_scalars, st.lists(json_scalars, max_size=3), st.dictionaries(st.text(max_size=10), json_scalars)
    )
)
async def test_malformed_request_bodies_are_client_errors(graphql: GraphQLClient, body: Any) -> None:
    response = await graphql.http.post("/graphql", json=body)
    assert response.status_code < 500
    assert "Traceback" not in response.text
