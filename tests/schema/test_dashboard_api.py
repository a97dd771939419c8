"""What a dashboard needs from the API: who is asking, exact counts per status, one attachment by names."""

from __future__ import annotations

import pytest

from app.config import RunMode
from app.domain.status import AppStatus
from tests.conftest import ClientFactory
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.graphql import GraphQLClient
from tests.schema.catalog_helpers import create_catalog
from tests.schema.test_query_budget import _seed
from tests.test_access import _tokens

VIEWER = "{ viewer { name role environments } }"
COUNTS = """
query($filter: AppFilter) {
  statusCounts(filter: $filter) { status count }
}"""
OVERVIEW = """
query($filter: AppFilter) {
  appEnvironments(first: 100, filter: $filter) {
    edges { node { id status statusReason statusSince statusObservedAt
      app { name team } environment { name } } }
    pageInfo { hasNextPage endCursor }
  }
  statusCounts(filter: $filter) { status count }
  viewer { name role environments }
  serverConfig { hibernationCheckEnabled defaultOnHibernated subscriptionsEnabled }
}"""
APP_ENVIRONMENT = """
query($app: String!, $environment: String!) {
  appEnvironment(app: $app, environment: $environment) { releaseName status app { name } environment { name } }
}"""


def _counts(data: dict[str, list[dict[str, object]]]) -> dict[object, object]:
    return {row["status"]: row["count"] for row in data["statusCounts"]}


async def test_the_local_admin_is_the_viewer_in_development(graphql: GraphQLClient) -> None:
    graphql.actor = "alice"

    assert (await graphql.query(VIEWER))["viewer"] == {"name": "alice", "role": "ADMIN", "environments": None}


@pytest.mark.parametrize(
    ("token", "role", "environments"),
    [("viewer", "VIEWER", None), ("deployer-dev", "DEPLOYER", ["dev"]), ("admin", "ADMIN", None)],
)
async def test_the_viewer_is_the_token(
    database: DatabaseUnderTest, client_with: ClientFactory, token: str, role: str, environments: list[str] | None
) -> None:
    await _seed(database, apps=1)  # the environments the tokens name
    production = await client_with(env=RunMode.PRODUCTION)
    production.token = (await _tokens(database))[token]

    viewer = (await production.query(VIEWER))["viewer"]

    assert viewer == {"name": token, "role": role, "environments": environments}


async def test_status_counts_give_every_status_exactly(graphql: GraphQLClient, database: DatabaseUnderTest) -> None:
    await _seed(database, apps=30)  # 90 attachments: (app id + environment id) % 3 == 0 hibernating

    counts = _counts(await graphql.query(COUNTS))

    assert list(counts) == [s.value for s in AppStatus], "every status, zero included, in the enum's order"
    assert counts["HIBERNATING"] == 30 and counts["HEALTHY"] == 60
    assert sum(counts.values()) == 90  # type: ignore[arg-type]


async def test_status_counts_follow_the_filter_except_its_statuses(
    graphql: GraphQLClient, database: DatabaseUnderTest
) -> None:
    await _seed(database, apps=30)
    listed = await graphql.query(
        '{ appEnvironments(first: 100, filter: {environments: ["dev"], search: "app-01"}) '
        "{ totalCount edges { node { status } } } }"
    )
    expected = {s.value: 0 for s in AppStatus}
    for edge in listed["appEnvironments"]["edges"]:
        expected[edge["node"]["status"]] += 1

    counts = _counts(
        await graphql.query(
            COUNTS, {"filter": {"environments": ["dev"], "search": "app-01", "statuses": ["HIBERNATING"]}}
        )
    )

    assert counts == expected and sum(expected.values()) == listed["appEnvironments"]["totalCount"] == 10


async def test_status_counts_see_only_the_tokens_environments(
    database: DatabaseUnderTest, client_with: ClientFactory
) -> None:
    await _seed(database, apps=10)
    production = await client_with(env=RunMode.PRODUCTION)
    production.token = (await _tokens(database))["viewer-dev"]

    counts = _counts(await production.query(COUNTS))

    assert sum(counts.values()) == 10  # type: ignore[arg-type]


async def test_status_counts_refuse_bad_filters(graphql: GraphQLClient) -> None:
    errors = await graphql.errors(COUNTS, {"filter": {"teams": [f"t{i}" for i in range(501)]}})

    assert errors[0]["extensions"]["code"] == "INVALID_INPUT"


async def test_the_overview_is_one_request_of_two_statements(
    graphql: GraphQLClient, database: DatabaseUnderTest
) -> None:
    await _seed(database, apps=120)

    with database.counter.counting() as statements:
        data = await graphql.query(OVERVIEW, {"filter": {"statuses": ["HIBERNATING", "HEALTHY"]}})

    assert len(data["appEnvironments"]["edges"]) == 100
    assert sum(_counts(data).values()) == 360  # type: ignore[arg-type]
    # The page of rows (apps and environments joined in) and one grouped count.
    assert len(statements) == 2, statements


async def test_the_server_says_whether_it_pushes_status_changes(graphql: GraphQLClient) -> None:
    from schema.schema import schema

    subscription = schema.get_type_by_name("Subscription")
    pushes = subscription is not None and any(f.python_name == "status_changes" for f in subscription.fields)  # type: ignore[union-attr]

    config = (await graphql.query("{ serverConfig { subscriptionsEnabled } }"))["serverConfig"]

    assert config["subscriptionsEnabled"] is pushes


async def test_one_app_environment_by_names(graphql: GraphQLClient, database: DatabaseUnderTest) -> None:
    await _seed(database, apps=2)

    found = await graphql.query(APP_ENVIRONMENT, {"app": "app-001", "environment": "staging"})
    missing = await graphql.query(APP_ENVIRONMENT, {"app": "app-001", "environment": "nowhere"})

    assert found["appEnvironment"]["app"]["name"] == "app-001"
    assert found["appEnvironment"]["environment"]["name"] == "staging"
    assert missing["appEnvironment"] is None


async def test_one_app_environment_outside_the_tokens_environments_is_absent(
    database: DatabaseUnderTest, client_with: ClientFactory
) -> None:
    await _seed(database, apps=2)
    production = await client_with(env=RunMode.PRODUCTION)
    production.token = (await _tokens(database))["viewer-dev"]

    inside = await production.query(APP_ENVIRONMENT, {"app": "app-001", "environment": "dev"})
    outside = await production.query(APP_ENVIRONMENT, {"app": "app-001", "environment": "prod"})

    assert inside["appEnvironment"] is not None and outside["appEnvironment"] is None


async def test_teams_are_listed_once_each_within_the_tokens_environments(
    graphql: GraphQLClient, database: DatabaseUnderTest, client_with: ClientFactory
) -> None:
    await create_catalog(
        graphql,
        environments={"dev": "ns-dev", "prod": "ns-prod"},
        apps={"web": ("shop", ["dev"]), "api": ("shop", ["prod"]), "jobs": ("data", ["prod"]), "idle": ("ops", [])},
    )
    production = await client_with(env=RunMode.PRODUCTION)
    production.token = (await _tokens(database))["viewer-dev"]

    assert (await graphql.query("{ teams }"))["teams"] == ["data", "ops", "shop"]
    assert (await production.query("{ teams }"))["teams"] == ["shop"]


@pytest.mark.parametrize(("with_context", "statements"), [(True, 5), (False, 3)])
async def test_the_dashboards_own_overview_document_costs_constant_statements(
    graphql: GraphQLClient, database: DatabaseUnderTest, with_context: bool, statements: int
) -> None:
    from app.web.pages import STATIC

    document = (STATIC / "graphql" / "overview.graphql").read_text()
    await _seed(database, apps=120)

    with database.counter.counting() as sql:
        data = await graphql.query(document, {"first": 100, "filter": {}, "withContext": with_context})

    assert len(data["appEnvironments"]["edges"]) == 100
    # Rows, counts and the rows' hibernation records; the first load adds environments and teams.
    assert len(sql) == statements, sql
