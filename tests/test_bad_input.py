"""Every bad input gets a typed error and writes nothing, whichever way it arrives."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.db.models import App, Transition
from app.simulator import SimulatedCluster
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.graphql import GraphQLClient
from tests.schema.live_helpers import register_simulator
from tests.schema.operation_helpers import codes, deploy, hibernate, setup_app

CREATE_APP = "mutation($i: CreateAppInput!) { createApp(input: $i) { app { name } errors { code } } }"
SEARCH = "query($s: String) { apps(filter: {search: $s}) { totalCount } }"


async def _count(database: DatabaseUnderTest, model: type[App] | type[Transition]) -> int:
    async with database.engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(model))).scalar_one())


def _code(response_json: dict[str, object]) -> str:
    errors = response_json["errors"]
    assert isinstance(errors, list)
    return str(errors[0]["extensions"]["code"])


async def test_nul_is_refused_however_it_is_written(graphql: GraphQLClient, database: DatabaseUnderTest) -> None:
    routes = [
        graphql.http.post("/graphql", json={"query": CREATE_APP, "variables": {"i": {"name": "a", "team": "t\x00"}}}),
        graphql.http.post(
            "/graphql",
            json={"query": 'mutation { createApp(input: {name: "a", team: "t\\u{0}"}) { errors { code } } }'},
        ),
        graphql.http.post(
            "/graphql",
            json={"query": 'mutation { createApp(input: {name: "a", team: "t\\u0000"}) { errors { code } } }'},
        ),
        graphql.http.get("/graphql", params={"query": SEARCH, "variables": json.dumps({"s": "x\x00"})}),
        graphql.http.get("/graphql", params={"query": '{ apps(filter: {search: "\\u{0}"}) { totalCount } }'}),
    ]
    for route in routes:
        response = await route
        assert response.status_code == 400, response.text
        assert _code(response.json()) == "INVALID_INPUT"
        assert "data" not in response.json()
    assert await _count(database, App) == 0


async def test_the_six_characters_backslash_u0000_are_harmless_text(graphql: GraphQLClient) -> None:
    data = await graphql.query(SEARCH, {"s": "\\u0000"})
    assert data == {"apps": {"totalCount": 0}}


@pytest.mark.parametrize("value", ["\ud800", "a\udfffb", "bell\x07", "esc\x1b"])
async def test_lone_surrogates_and_control_characters_are_refused(graphql: GraphQLClient, value: str) -> None:
    body = json.dumps({"query": SEARCH, "variables": {"s": value}})  # ensure_ascii writes \ud800 as JSON allows
    response = await graphql.http.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400 and _code(response.json()) == "INVALID_INPUT"


@pytest.mark.parametrize("depth", [65, 990, 5000])
async def test_json_nested_too_deep_is_a_typed_400(graphql: GraphQLClient, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    body = '{"query": "{ apps { totalCount } }", "variables": {"x": ' + nested + "}}"
    response = await graphql.http.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert _code(response.json()) == "INVALID_INPUT" and "deeper than 64" in response.json()["errors"][0]["message"]


async def test_json_nested_within_the_limit_is_served(graphql: GraphQLClient) -> None:
    nested = "[" * 60 + "]" * 60
    body = '{"query": "{ apps { totalCount } }", "variables": {"x": ' + nested + "}}"
    response = await graphql.http.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.json() == {"data": {"apps": {"totalCount": 0}}}


@pytest.mark.parametrize(
    "server",
    [
        "https://" + "a" * 2048 + ".example",
        "https://" + ".".join(["a" * 60] * 40),
        "ftp://10.0.0.1",
        "https://user:secret@10.0.0.1",
        "https://bad_host:6443",
        "https://10.0.0.1:99999",
    ],
)
async def test_a_bad_server_url_is_invalid_input(graphql: GraphQLClient, server: str) -> None:
    data = await graphql.query(
        "mutation($i: CreateClusterInput!) { createCluster(input: $i) { errors { code field message } } }",
        {"i": {"name": "c1", "server": server}},
    )
    [error] = data["createCluster"]["errors"]
    assert (error["code"], error["field"]) == ("INVALID_INPUT", "server")
    assert len(error["message"]) < 300


@pytest.mark.parametrize(
    "image",
    [
        "registry.example.com/" + "a" * 400 + ":1",
        "Web:1",
        "team/web:" + "t" * 129,
        "web@sha256:abc",
        "web:1 2",
        " ",
    ],
)
async def test_an_image_that_is_not_a_reference_never_reaches_the_cluster(
    graphql: GraphQLClient, simulator: SimulatedCluster, image: str
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment("team-dev", "web", "web", 1, "team/web:1")
    simulator.clear_requests()

    result = await deploy(graphql, image)

    assert codes(result) == ["INVALID_INPUT"] and result["deployment"] is None
    assert simulator.count("patch") == 0 and simulator.count() == 0


@pytest.mark.parametrize(
    "image", ["nginx", "team/web:1.4.2", "localhost:5000/a/b@sha256:" + "a" * 64, "[::1]:5000/x:1"]
)
async def test_image_references_of_the_oci_grammar_are_deployed(
    graphql: GraphQLClient, simulator: SimulatedCluster, image: str
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment("team-dev", "web", "web", 1, "team/web:1")
    assert (await deploy(graphql, image))["outcome"] == "APPLIED"


async def test_unknown_workload_names_write_nothing_and_are_named_briefly(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment("team-dev", "web", "web", 2)
    before = await _count(database, Transition)

    unknown = await hibernate(graphql, workloads=[f"ghost-{i}" for i in range(100)])
    too_many = await hibernate(graphql, workloads=[f"ghost-{i}" for i in range(40_000)])

    for result in (unknown, too_many):
        assert codes(result) == ["INVALID_INPUT"] and result["outcome"] == "FAILED"
        assert sum(len(e["message"]) for e in result["errors"]) < 2000
    assert "ghost-0" in unknown["errors"][0]["message"] and "95 more" in unknown["errors"][0]["message"]
    assert await _count(database, Transition) == before


async def test_register_then_refuse_a_cluster_of_the_same_name_in_a_typed_way(
    graphql: GraphQLClient, simulator: SimulatedCluster
) -> None:
    await register_simulator(graphql, simulator, name="c1")
    data = await graphql.query(
        "mutation($i: CreateClusterInput!) { createCluster(input: $i) { errors { code field } } }",
        {"i": {"name": "c1", "server": simulator.url}},
    )
    assert data["createCluster"]["errors"] == [{"code": "INVALID_INPUT", "field": "name"}]
