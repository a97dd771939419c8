"""Tokens, roles and environments: every role against every operation, in production mode."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from app.config import RunMode
from app.services.tokens import TokenService
from app.simulator import SimulatedCluster
from tests.conftest import ClientFactory
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.graphql import GraphQLClient
from tests.schema.catalog_helpers import ATTACH_APP, CREATE_APP, CREATE_CLUSTER, CREATE_ENVIRONMENT
from tests.schema.live_helpers import add_app, add_environment, register_simulator
from tests.schema.operation_helpers import DEPLOY, DEPLOY_MANY, HIBERNATE, HIBERNATE_MANY, UNHIBERNATE, UNHIBERNATE_MANY

TOKENS: dict[str, tuple[str, list[str]]] = {
    "viewer": ("viewer", []),
    "viewer-dev": ("viewer", ["dev"]),
    "deployer": ("deployer", []),
    "deployer-dev": ("deployer", ["dev"]),
    "admin": ("admin", []),
    "admin-dev": ("admin", ["dev"]),
}


async def _catalog(graphql: GraphQLClient, simulator: SimulatedCluster) -> None:
    await register_simulator(graphql, simulator)
    await add_environment(graphql, "dev", "ns-dev")
    await add_environment(graphql, "prod", "ns-prod")
    await add_app(graphql, "web", ["dev", "prod"])
    await add_app(graphql, "api", ["prod"])
    for namespace in ("ns-dev", "ns-prod"):
        simulator.add_deployment(namespace, "web", "web", 1, "web:1")
    simulator.add_deployment("ns-prod", "api", "api", 1, "api:1")


async def _tokens(database: DatabaseUnderTest) -> dict[str, str]:
    from app.db.engine import create_session_factory

    secrets: dict[str, str] = {}
    async with create_session_factory(database.engine)() as session, session.begin():
        for name, (role, environments) in TOKENS.items():
            secrets[name] = await TokenService(session).create(name, role, environments)
    return secrets


Operation = Callable[[GraphQLClient, str], Awaitable[list[str]]]


def _mutation(document: str, field: str, variables: Callable[[str], dict[str, Any]]) -> Operation:
    async def run(client: GraphQLClient, environment: str) -> list[str]:
        payload = (await client.query(document, {"input": variables(environment)}))[field]
        errors = payload["errors"] + [e for r in payload.get("results", []) for e in r["errors"]]
        return [e["code"] for e in errors]

    return run


# What each operation needs: "operate" (deployer) or "manage" (admin) in the environment it names, or
# "manage-global" (an admin not limited to environments) for changes outside any one environment.
OPERATIONS: dict[str, tuple[str, Operation]] = {
    "deploy": ("operate", _mutation(DEPLOY, "deploy", lambda e: {"app": "web", "environment": e, "image": "web:2"})),
    "hibernate": ("operate", _mutation(HIBERNATE, "hibernate", lambda e: {"app": "web", "environment": e})),
    "unhibernate": ("operate", _mutation(UNHIBERNATE, "unhibernate", lambda e: {"app": "web", "environment": e})),
    "deployMany": (
        "operate",
        _mutation(DEPLOY_MANY, "deployMany", lambda e: {"environment": e, "apps": ["web"], "image": "web:3"}),
    ),
    "hibernateMany": (
        "operate",
        _mutation(HIBERNATE_MANY, "hibernateMany", lambda e: {"environment": e, "apps": ["web"]}),
    ),
    "unhibernateMany": (
        "operate",
        _mutation(UNHIBERNATE_MANY, "unhibernateMany", lambda e: {"environment": e, "apps": ["web"]}),
    ),
    "createCluster": (
        "manage-global",
        _mutation(
            CREATE_CLUSTER,
            "createCluster",
            lambda e: {"name": f"c-{e}", "server": "http://127.0.0.1:1", "verify": False},
        ),
    ),
    "createEnvironment": (
        "manage-global",
        _mutation(
            CREATE_ENVIRONMENT, "createEnvironment", lambda e: {"name": f"qa-{e}", "cluster": "sim", "namespace": "qa"}
        ),
    ),
    "createApp": (
        "manage",
        _mutation(CREATE_APP, "createApp", lambda e: {"name": f"new-{e}", "team": "t", "environments": [e]}),
    ),
    "attachApp": ("manage", _mutation(ATTACH_APP, "attachApp", lambda e: {"app": "api", "environment": e})),
}


def _allowed(token: str, kind: str, environment: str) -> bool:
    role, environments = TOKENS[token]
    in_scope = not environments or environment in environments
    if kind == "operate":
        return role in ("deployer", "admin") and in_scope
    if kind == "manage-global":
        return role == "admin" and not environments
    return role == "admin" and in_scope


CASES = [
    (token, operation, environment) for token in TOKENS for operation in OPERATIONS for environment in ("dev", "prod")
]


@pytest.mark.parametrize(("token", "operation", "environment"), CASES, ids=["-".join(c) for c in CASES])
async def test_every_role_against_every_operation(
    graphql: GraphQLClient,
    simulator: SimulatedCluster,
    database: DatabaseUnderTest,
    client_with: ClientFactory,
    token: str,
    operation: str,
    environment: str,
) -> None:
    await _catalog(graphql, simulator)
    secrets = await _tokens(database)
    production = await client_with(env=RunMode.PRODUCTION)
    production.token = secrets[token]
    kind, run = OPERATIONS[operation]
    patches_before = simulator.count("patch") + simulator.count("create")

    codes = await run(production, environment)

    if _allowed(token, kind, environment):
        assert "FORBIDDEN" not in codes
    else:
        assert codes == ["FORBIDDEN"]
        assert simulator.count("patch") + simulator.count("create") == patches_before, "a denied call changes nothing"


async def test_the_actor_is_the_tokens_name(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest, client_with: ClientFactory
) -> None:
    await _catalog(graphql, simulator)
    production = await client_with(env=RunMode.PRODUCTION)
    production.token = (await _tokens(database))["deployer-dev"]
    production.actor = "someone-else"  # the header is ignored once a token speaks

    result = (await production.query(DEPLOY, {"input": {"app": "web", "environment": "dev", "image": "web:9"}}))[
        "deploy"
    ]

    assert result["deployment"]["actor"] == "deployer-dev"


@pytest.mark.parametrize("token", ["viewer-dev", "deployer-dev"])
async def test_lists_show_only_the_environments_a_token_may_see(
    graphql: GraphQLClient,
    simulator: SimulatedCluster,
    database: DatabaseUnderTest,
    client_with: ClientFactory,
    token: str,
) -> None:
    await _catalog(graphql, simulator)
    production = await client_with(env=RunMode.PRODUCTION)
    production.token = (await _tokens(database))[token]

    data = await production.query(
        """{ apps { totalCount edges { node { name environments { environment { name } } } } }
             appEnvironments { totalCount edges { node { environment { name } } } }
             environments { name } prodEnv: environment(name: "prod") { name } api: app(name: "api") { name }
             clusters { name } }"""
    )
    hidden = await production.errors('{ appStatus(app: "web", environment: "prod") { status } }')

    assert data["apps"]["totalCount"] == 1
    assert data["apps"]["edges"][0]["node"] == {"name": "web", "environments": [{"environment": {"name": "dev"}}]}
    assert data["appEnvironments"]["totalCount"] == 1
    assert data["environments"] == [{"name": "dev"}]
    assert data["prodEnv"] is None and data["api"] is None
    assert data["clusters"] == [{"name": "sim"}]
    assert hidden[0]["extensions"]["code"] == "NOT_FOUND"


async def test_production_requires_a_valid_token(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest, client_with: ClientFactory
) -> None:
    await _catalog(graphql, simulator)
    secrets = await _tokens(database)
    production = await client_with(env=RunMode.PRODUCTION)
    query = {"query": "{ apps { totalCount } }"}

    missing = await production.http.post("/graphql", json=query)
    wrong = await production.http.post("/graphql", json=query, headers={"authorization": "Bearer hib_nope"})
    basic = await production.http.post("/graphql", json=query, headers={"authorization": "Basic dXNlcjpwYXNz"})
    ok = await production.http.post("/graphql", json=query, headers={"authorization": f"Bearer {secrets['viewer']}"})

    assert [missing.status_code, wrong.status_code, basic.status_code, ok.status_code] == [401, 401, 401, 200]
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert ok.json()["data"]["apps"]["totalCount"] == 2

    from app.db.engine import create_session_factory

    async with create_session_factory(database.engine)() as session, session.begin():
        await TokenService(session).revoke("viewer")
    revoked = await production.http.post(
        "/graphql", json=query, headers={"authorization": f"Bearer {secrets['viewer']}"}
    )
    assert revoked.status_code == 401


async def test_development_acts_as_local_admin_without_a_token(
    graphql: GraphQLClient, simulator: SimulatedCluster
) -> None:
    await _catalog(graphql, simulator)

    created = await graphql.query(
        CREATE_CLUSTER, {"input": {"name": "other", "server": "http://127.0.0.1:1", "verify": False}}
    )

    assert created["createCluster"]["errors"] == []


async def test_tokens_are_stored_only_as_hashes(database: DatabaseUnderTest) -> None:
    from sqlalchemy import select

    from app.db.engine import create_session_factory
    from app.db.models import ApiToken

    async with create_session_factory(database.engine)() as session, session.begin():
        secrets = {role: await TokenService(session).create(f"t-{role}", role, []) for role in ("viewer", "admin")}
    async with database.engine.connect() as connection:
        stored = " ".join(str(v) for row in await connection.execute(select(ApiToken)) for v in row)

    assert all(secret not in stored for secret in secrets.values())
    assert all(secret.startswith("hib_") and len(secret) > 40 for secret in secrets.values())


async def _tokens_for(client: GraphQLClient, role: str) -> str:
    """A token of `role` created in the database behind `client`'s server."""
    from app.db.engine import create_session_factory

    runtime = client.http._transport.app.state.runtime  # type: ignore[attr-defined]
    async with create_session_factory(runtime.engine)() as session, session.begin():
        return await TokenService(session).create(f"t-{role}", role, [])


async def test_a_limited_token_cannot_reach_other_environments_by_id(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest, client_with: ClientFactory
) -> None:
    await _catalog(graphql, simulator)
    deployed = await graphql.query(DEPLOY, {"input": {"app": "api", "environment": "prod", "image": "api:2"}})
    ids = await graphql.query("""{ app(name: "api") { id environments { id environment { id cluster { id } } } } }""")
    api = ids["app"]
    production = await client_with(env=RunMode.PRODUCTION)
    production.token = (await _tokens(database))["admin-dev"]
    targets = {
        "app": api["id"],
        "appEnvironment": api["environments"][0]["id"],
        "environment": api["environments"][0]["environment"]["id"],
        "cluster": api["environments"][0]["environment"]["cluster"]["id"],
        "deployment": deployed["deploy"]["deployment"]["id"],
    }

    for what, node_id in targets.items():
        data = await production.query("query($i: ID!) { node(id: $i) { id } }", {"i": node_id})
        assert data["node"] is None, what
    unknown_app = await production.errors('{ appStatus(app: "api", environment: "dev") { status } }')
    missing_app = await production.errors('{ appStatus(app: "nope", environment: "dev") { status } }')
    assert unknown_app[0]["message"].replace("api", "X") == missing_app[0]["message"].replace("nope", "X")
