"""GraphQL hardening: limits, production switches, JSON-only posts, masked errors."""

from __future__ import annotations

import logging

import httpx
import pytest

from app.config import RunMode
from app.services.live_status import LiveStatusService
from tests.conftest import ClientFactory
from tests.fixtures.graphql import GraphQLClient


async def test_a_query_deeper_than_the_limit_is_refused(graphql: GraphQLClient) -> None:
    nested = "app { name }"
    for _ in range(8):
        nested = f"app {{ environments {{ {nested} }} }}"
    errors = await graphql.errors(f'{{ app(name: "x") {{ environments {{ {nested} }} }} }}')
    assert "exceeds maximum operation depth" in errors[0]["message"]


async def test_too_many_aliases_are_refused(graphql: GraphQLClient) -> None:
    fields = " ".join(f"a{i}: clusters {{ name }}" for i in range(31))
    errors = await graphql.errors(f"{{ {fields} }}")
    assert errors


async def test_too_many_tokens_are_refused(graphql: GraphQLClient) -> None:
    errors = await graphql.errors("{ " + "clusters { name } " * 1500 + "}")
    assert errors


async def test_mutations_over_get_are_refused(graphql: GraphQLClient) -> None:
    response = await graphql.http.get(
        "/graphql", params={"query": 'mutation { createApp(input: {name: "x", team: "t"}) { errors { code } } }'}
    )
    assert response.status_code in (400, 405)
    assert (await graphql.query("{ apps { totalCount } }"))["apps"]["totalCount"] == 0


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""]
)
async def test_posts_must_be_json(graphql: GraphQLClient, content_type: str) -> None:
    response = await graphql.http.post(
        "/graphql", content=b'{"query": "{ apps { totalCount } }"}', headers={"content-type": content_type}
    )
    assert response.status_code == 415


async def test_introspection_and_playground_are_off_in_production(
    graphql: GraphQLClient, client_with: ClientFactory
) -> None:
    production = await client_with(env=RunMode.PRODUCTION)
    from tests.test_access import _tokens_for

    production.token = await _tokens_for(production, "viewer")
    introspection = "{ __schema { queryType { name } } }"

    assert (await graphql.query(introspection))["__schema"]["queryType"]["name"] == "Query"
    assert (await production.errors(introspection))[0]["message"]
    page = await graphql.http.get("/graphql", headers={"accept": "text/html"})
    hidden = await production.http.get(
        "/graphql", headers={"accept": "text/html", "authorization": f"Bearer {production.token}"}
    )
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    assert "graphiql" not in hidden.text.lower()


async def test_unexpected_errors_are_masked_with_the_request_id(
    graphql: GraphQLClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(LiveStatusService, "observe_one", broken)
    caplog.set_level(logging.ERROR, logger="hibernia.graphql")

    response = await graphql.http.post(
        "/graphql",
        json={"query": '{ appStatus(app: "a", environment: "b") { status } }'},
        headers={"x-request-id": "req-123"},
    )

    body = response.json()
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-123"
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL", "requestId": "req-123"}
    assert "secret internal detail" not in response.text and "Traceback" not in response.text
    logged = [r for r in caplog.records if r.exc_info]
    assert logged and isinstance(logged[0].exc_info[1], RuntimeError)  # type: ignore[index]


async def test_every_response_carries_a_request_id(graphql: GraphQLClient) -> None:
    first = await graphql.http.post("/graphql", json={"query": "{ clusters { name } }"})
    second = await graphql.http.post("/graphql", json={"query": "{ clusters { name } }"})
    assert first.headers["x-request-id"] and first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_probes(graphql: GraphQLClient) -> None:
    assert (await graphql.http.get("/healthz")).json() == {"status": "ok"}
    assert (await graphql.http.get("/readyz")).status_code == 200


async def test_readyz_is_unavailable_while_migrations_are_pending(tmp_path: object) -> None:
    from app.config import Settings
    from app.main import create_app

    app = create_app(Settings(HIBERNIA_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/empty.db"))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        response = await http.get("/readyz")
    assert response.status_code == 503
    assert "migrate" in response.json()["database"]


async def test_bodies_that_are_not_a_json_object_are_refused(graphql: GraphQLClient) -> None:
    for body in (b"false", b"[1]", b'"query"', b"{not json", b""):
        response = await graphql.http.post("/graphql", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400, body


async def test_nul_characters_are_refused_before_reaching_the_database(graphql: GraphQLClient) -> None:
    posted = await graphql.http.post(
        "/graphql", json={"query": "query($n: String!) { app(name: $n) { name } }", "variables": {"n": "a\x00b"}}
    )
    got = await graphql.http.get("/graphql", params={"query": '{ app(name: "a\x00") { name } }'})
    assert posted.status_code == 400 and got.status_code == 400


async def test_oversized_bodies_are_refused(graphql: GraphQLClient) -> None:
    response = await graphql.http.post(
        "/graphql", content=b'{"query": "' + b" " * (1024 * 1024) + b'"}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
