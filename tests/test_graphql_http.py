"""GraphQL over HTTP: media types, methods, status codes and GraphQL-shaped error bodies."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from app.config import RunMode
from tests.conftest import ClientFactory
from tests.fixtures.graphql import GraphQLClient
from tests.test_access import _tokens_for

RESPONSE = "application/graphql-response+json"
APPS = "{ apps { totalCount } }"


def _error_body(response: httpx.Response) -> dict[str, Any]:
    """A GraphQL-shaped error answer: errors with a code, and no data entry."""
    assert response.headers["content-type"].split(";")[0] in ("application/json", RESPONSE), response.headers
    body: dict[str, Any] = response.json()
    assert "data" not in body, body
    assert body["errors"] and all(e["extensions"]["code"] for e in body["errors"]), body
    return body


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (RESPONSE, RESPONSE),
        ("application/json", "application/json"),
        ("*/*", "application/json"),
        (None, "application/json"),
        (f"application/json;q=0.5, {RESPONSE}", RESPONSE),
        (f"{RESPONSE};q=0.2, application/json", "application/json"),
    ],
)
async def test_the_media_type_follows_accept(graphql: GraphQLClient, accept: str | None, media: str) -> None:
    headers = {"accept": accept} if accept else {}
    response = await graphql.http.post("/graphql", json={"query": APPS}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{media}; charset=utf-8"
    assert response.json() == {"data": {"apps": {"totalCount": 0}}}


async def test_nothing_acceptable_is_406(graphql: GraphQLClient) -> None:
    response = await graphql.http.post("/graphql", json={"query": APPS}, headers={"accept": "text/csv"})
    assert response.status_code == 406
    assert _error_body(response)["errors"][0]["extensions"]["code"] == "NOT_ACCEPTABLE"


@pytest.mark.parametrize(
    "document", ["{ apps { totalCount ", "{ nope }", "query($x: Int!) { apps(first: $x) { totalCount } }"]
)
async def test_request_errors_are_4xx_for_graphql_response_clients_and_200_for_json_ones(
    graphql: GraphQLClient, document: str
) -> None:
    modern = await graphql.http.post("/graphql", json={"query": document}, headers={"accept": RESPONSE})
    legacy = await graphql.http.post("/graphql", json={"query": document}, headers={"accept": "application/json"})

    assert modern.status_code == 400 and legacy.status_code == 200
    assert _error_body(modern)["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert _error_body(legacy)["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_other_methods_are_405_with_allow(graphql: GraphQLClient) -> None:
    for method in ("PUT", "DELETE", "PATCH"):
        response = await graphql.http.request(method, "/graphql", json={"query": APPS})
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, POST"
        assert _error_body(response)["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


async def test_a_mutation_over_get_is_405_and_changes_nothing(graphql: GraphQLClient) -> None:
    response = await graphql.http.get(
        "/graphql", params={"query": 'mutation { createApp(input: {name: "x", team: "t"}) { errors { code } } }'}
    )
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    _error_body(response)
    assert (await graphql.query(APPS))["apps"]["totalCount"] == 0


async def test_queries_over_get_take_json_variables(graphql: GraphQLClient) -> None:
    response = await graphql.http.get(
        "/graphql",
        params={"query": "query($n: Int!) { apps(first: $n) { totalCount } }", "variables": json.dumps({"n": 5})},
    )
    assert response.json() == {"data": {"apps": {"totalCount": 0}}}


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"]
)
async def test_posts_must_be_utf8_json_415(graphql: GraphQLClient, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = await graphql.http.post("/graphql", content=json.dumps({"query": APPS}).encode(), headers=headers)
    assert response.status_code == 415
    assert _error_body(response)["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_unauthenticated_is_401_graphql_shaped(client_with: ClientFactory) -> None:
    production = await client_with(env=RunMode.PRODUCTION)
    response = await production.http.post("/graphql", json={"query": APPS})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert _error_body(response)["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_several_operations_need_an_operation_name_and_nothing_runs_without(graphql: GraphQLClient) -> None:
    document = (
        'mutation A { createApp(input: {name: "a", team: "t"}) { errors { code } } } query B { apps { totalCount } }'
    )

    refused = await graphql.http.post("/graphql", json={"query": document}, headers={"accept": RESPONSE})
    chosen = await graphql.http.post("/graphql", json={"query": document, "operationName": "B"})

    assert refused.status_code == 400
    assert "operationName" in _error_body(refused)["errors"][0]["message"]
    assert chosen.json() == {"data": {"apps": {"totalCount": 0}}}


@pytest.mark.parametrize("node_id", ["", "abc", "Tm9wZToz"])
async def test_an_id_not_issued_here_is_invalid_input(graphql: GraphQLClient, node_id: str) -> None:
    body = await graphql.post("query($id: ID!) { node(id: $id) { id } }", {"id": node_id})
    assert body["data"] == {"node": None}
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_production_answers_without_schema_suggestions(client_with: ClientFactory) -> None:
    production = await client_with(env=RunMode.PRODUCTION)
    production.token = await _tokens_for(production, "viewer")
    development = await client_with()

    hidden = (await production.errors("{ clustrs { name } }"))[0]["message"]
    shown = (await development.errors("{ clustrs { name } }"))[0]["message"]

    assert "Did you mean" in shown and "clusters" in shown
    assert "Did you mean" not in hidden and "clusters" not in hidden


async def test_metrics_need_a_token_in_production_unless_public(client_with: ClientFactory) -> None:
    production = await client_with(env=RunMode.PRODUCTION)
    token = await _tokens_for(production, "viewer")
    public = await client_with(env=RunMode.PRODUCTION, metrics_public=True)

    refused = await production.http.get("/metrics")
    allowed = await production.http.get("/metrics", headers={"authorization": f"Bearer {token}"})
    open_ = await public.http.get("/metrics")

    assert refused.status_code == 401 and _error_body(refused)["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert allowed.status_code == 200 and "hibernia_graphql_requests" in allowed.text
    assert open_.status_code == 200
