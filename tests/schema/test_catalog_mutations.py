from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app.db.models import App, AppEnvironment, Cluster, Environment, OperationLease
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.graphql import GraphQLClient
from tests.schema.catalog_helpers import ATTACH_APP, CREATE_APP, CREATE_CLUSTER, CREATE_ENVIRONMENT, create_catalog


async def _counts(database: DatabaseUnderTest) -> dict[str, int]:
    async with database.engine.connect() as connection:
        return {
            model.__tablename__: (await connection.execute(select(func.count()).select_from(model))).scalar_one()
            for model in (Cluster, Environment, App, AppEnvironment, OperationLease)
        }


def _codes(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def test_create_catalog_and_attach(graphql: GraphQLClient, database: DatabaseUnderTest) -> None:
    await create_catalog(graphql, environments={"dev": "team-dev", "prod": "team-prod"})

    created = (await graphql.query(CREATE_APP, {"input": {"name": "api", "team": "core", "environments": ["dev"]}}))[
        "createApp"
    ]
    attached = (
        await graphql.query(
            ATTACH_APP, {"input": {"app": "api", "environment": "prod", "releaseName": "api-prod", "replicas": 3}}
        )
    )["attachApp"]

    assert created["errors"] == [] and attached["errors"] == []
    assert created["app"]["environments"] == [
        {"releaseName": "api", "desiredReplicas": 1, "status": "NOT_DEPLOYED", "environment": {"name": "dev"}}
    ]
    assert attached["appEnvironment"]["releaseName"] == "api-prod"
    assert attached["appEnvironment"]["desiredReplicas"] == 3
    assert attached["appEnvironment"]["environment"] == {"name": "prod"}
    # Every attachment gets its (free) operation lease row at once.
    assert (await _counts(database))["operation_leases"] == 2


@pytest.mark.parametrize(
    ("mutation", "variables", "expected"),
    [
        (CREATE_CLUSTER, {"name": "c1", "server": "http://x"}, [("INVALID_INPUT", "name")]),
        (CREATE_CLUSTER, {"name": "Bad_Name", "server": "http://x"}, [("INVALID_INPUT", "name")]),
        (CREATE_CLUSTER, {"name": "c2"}, [("INVALID_INPUT", "server")]),
        (CREATE_CLUSTER, {"name": "c2", "server": "ftp://x"}, [("INVALID_INPUT", "server")]),
        (CREATE_ENVIRONMENT, {"name": "dev", "cluster": "c1", "namespace": "x"}, [("INVALID_INPUT", "name")]),
        (CREATE_ENVIRONMENT, {"name": "qa", "cluster": "nope", "namespace": "x"}, [("NOT_FOUND", "cluster")]),
        (
            CREATE_ENVIRONMENT,
            {"name": "-qa", "cluster": "nope", "namespace": "UPPER"},
            [("INVALID_INPUT", "name"), ("INVALID_INPUT", "namespace"), ("NOT_FOUND", "cluster")],
        ),
        (CREATE_APP, {"name": "web", "team": "core", "environments": []}, [("INVALID_INPUT", "name")]),
        (CREATE_APP, {"name": "a" * 64, "team": "core"}, [("INVALID_INPUT", "name")]),
        (CREATE_APP, {"name": "new", "team": " "}, [("INVALID_INPUT", "team")]),
        (CREATE_APP, {"name": "new", "team": "core", "environments": ["dev", "nope"]}, [("NOT_FOUND", "environments")]),
        (
            CREATE_APP,
            {"name": "new", "team": "core", "environments": ["dev", "dev"]},
            [("INVALID_INPUT", "environments")],
        ),
        (ATTACH_APP, {"app": "web", "environment": "dev"}, [("INVALID_INPUT", "environment")]),
        (ATTACH_APP, {"app": "nope", "environment": "dev"}, [("NOT_FOUND", "app")]),
        (ATTACH_APP, {"app": "web", "environment": "nope"}, [("NOT_FOUND", "environment")]),
        (ATTACH_APP, {"app": "web", "environment": "prod", "replicas": -1}, [("INVALID_INPUT", "replicas")]),
        (
            ATTACH_APP,
            {"app": "web", "environment": "prod", "releaseName": "x" * 54},
            [("INVALID_INPUT", "releaseName")],
        ),
    ],
)
async def test_bad_input_is_a_typed_error_that_changes_nothing(
    graphql: GraphQLClient,
    database: DatabaseUnderTest,
    mutation: str,
    variables: dict[str, Any],
    expected: list[tuple[str, str]],
) -> None:
    await create_catalog(graphql, environments={"dev": "d", "prod": "p"}, apps={"web": ("core", ["dev"])})
    before = await _counts(database)

    data = await graphql.query(mutation, {"input": variables})

    payload = next(iter(data.values()))
    assert sorted(_codes(payload)) == sorted(expected)
    assert all(e["message"] for e in payload["errors"])
    assert [v for k, v in payload.items() if k != "errors"] == [None]
    assert await _counts(database) == before


async def test_queries_by_name_and_node_id(graphql: GraphQLClient) -> None:
    await create_catalog(graphql, environments={"dev": "team-dev"}, apps={"web": ("core", ["dev"])})

    data = await graphql.query(
        """{ app(name: "web") { id name team environments { id app { name } environment { id name cluster { name } } } }
             missing: app(name: "nope") { id }
             environment(name: "dev") { name namespace }
             environments { name }
             clusters { name simulated } }"""
    )
    app = data["app"]
    nodes = await graphql.query(
        """query($a: ID!, $ae: ID!, $e: ID!) {
             a: node(id: $a) { ... on App { name } }
             ae: node(id: $ae) { ... on AppEnvironment { releaseName app { name } environment { name } } }
             e: node(id: $e) { ... on Environment { namespace } } }""",
        {"a": app["id"], "ae": app["environments"][0]["id"], "e": app["environments"][0]["environment"]["id"]},
    )

    assert app["environments"][0]["app"] == {"name": "web"}  # loaded through the loader, not the page
    assert data["missing"] is None
    assert data["environment"] == {"name": "dev", "namespace": "team-dev"}
    assert data["environments"] == [{"name": "dev"}]
    assert data["clusters"] == [{"name": "c1", "simulated": False}]
    assert nodes == {
        "a": {"name": "web"},
        "ae": {"releaseName": "web", "app": {"name": "web"}, "environment": {"name": "dev"}},
        "e": {"namespace": "team-dev"},
    }


async def test_cluster_credentials_are_never_exposed(graphql: GraphQLClient) -> None:
    errors = await graphql.errors("{ clusters { name token } }")
    assert "token" in errors[0]["message"]
