"""The audit feed: top-level `transitions` and `deployments`, newest first, keyset-paged, filtered in
the database, and visible only within a token's environments."""

from __future__ import annotations

from typing import Any

from app.db.engine import create_session_factory
from app.services.tokens import TokenService
from app.simulator import SimulatedCluster
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.graphql import GraphQLClient
from tests.schema.live_helpers import add_app, add_environment, register_simulator
from tests.schema.operation_helpers import deploy, hibernate, unhibernate

TRANSITIONS = """query($first: Int!, $after: String, $filter: TransitionFilter) {
  transitions(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    nodes { fromStatus toStatus cause actor at appEnvironment { app { name } environment { name } } }
  }
}"""
DEPLOYMENTS = """query($first: Int!, $after: String, $filter: DeploymentFilter) {
  deployments(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    nodes { id image outcome actor startedAt appEnvironment { app { name } environment { name } } }
  }
}"""


async def _history(graphql: GraphQLClient, simulator: SimulatedCluster) -> None:
    """web on dev and prod, api on prod; each hibernated and woken, then deployed (by ci-bot)."""
    await register_simulator(graphql, simulator)
    await add_environment(graphql, "dev", "feed-dev")
    await add_environment(graphql, "prod", "feed-prod")
    await add_app(graphql, "web", ["dev", "prod"])
    await add_app(graphql, "api", ["prod"])
    for namespace, app in (("feed-dev", "web"), ("feed-prod", "web"), ("feed-prod", "api")):
        simulator.add_deployment(namespace, app, app, 1, f"{app}:1")
    ci = GraphQLClient(graphql.http, actor="ci-bot")
    for app, environment in (("web", "dev"), ("web", "prod"), ("api", "prod")):
        assert (await hibernate(graphql, app, environment))["outcome"] == "APPLIED"
        assert (await unhibernate(graphql, app, environment))["outcome"] == "APPLIED"
        assert (await deploy(ci, f"{app}:2", app, environment))["outcome"] == "APPLIED"


async def _all_pages(client: GraphQLClient, document: str, field: str, **variables: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await client.query(document, {"first": 2, "after": after, **variables}))[field]
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        rows += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            assert len(rows) == page["totalCount"]
            return rows
        after = page["pageInfo"]["endCursor"]


def _where(row: dict[str, Any]) -> tuple[str, str]:
    return row["appEnvironment"]["app"]["name"], row["appEnvironment"]["environment"]["name"]


async def test_the_transition_feed_pages_newest_first_across_app_environments(
    graphql: GraphQLClient, simulator: SimulatedCluster
) -> None:
    await _history(graphql, simulator)

    rows = await _all_pages(graphql, TRANSITIONS, "transitions")

    assert [row["at"] for row in rows] == sorted((row["at"] for row in rows), reverse=True)
    assert {_where(row) for row in rows} == {("web", "dev"), ("web", "prod"), ("api", "prod")}
    # Newest first: api on prod was deployed last.
    assert (_where(rows[0]), rows[0]["cause"], rows[0]["actor"]) == (("api", "prod"), "DEPLOY", "ci-bot")
    hibernations = [_where(row) for row in rows if row["cause"] == "HIBERNATE"]
    assert hibernations == [("api", "prod"), ("web", "prod"), ("web", "dev")]


async def test_a_feed_page_costs_one_statement_and_its_count_one_more(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await _history(graphql, simulator)

    with database.counter.counting() as transitions_sql:
        await graphql.query(TRANSITIONS, {"first": 100})
    with database.counter.counting() as deployments_sql:
        await graphql.query(DEPLOYMENTS, {"first": 100})

    # The page with where each row happened, and totalCount; nothing per row.
    assert len(transitions_sql) == 2, transitions_sql
    assert len(deployments_sql) == 2, deployments_sql


async def test_the_transition_feed_filters_in_the_database(graphql: GraphQLClient, simulator: SimulatedCluster) -> None:
    await _history(graphql, simulator)
    everything = await _all_pages(graphql, TRANSITIONS, "transitions")
    middle = sorted(row["at"] for row in everything)[len(everything) // 2]

    prod_web = await _all_pages(graphql, TRANSITIONS, "transitions", filter={"environments": ["prod"], "apps": ["web"]})
    wakes = await _all_pages(graphql, TRANSITIONS, "transitions", filter={"causes": ["UNHIBERNATE"]})
    by_ci = await _all_pages(graphql, TRANSITIONS, "transitions", filter={"actors": ["ci-bot"]})
    later = await _all_pages(graphql, TRANSITIONS, "transitions", filter={"since": middle})
    earlier = await _all_pages(graphql, TRANSITIONS, "transitions", filter={"until": middle})

    assert prod_web and {_where(row) for row in prod_web} == {("web", "prod")}
    assert len(wakes) == 3 and {row["cause"] for row in wakes} == {"UNHIBERNATE"}
    assert len(by_ci) == 3 and {row["cause"] for row in by_ci} == {"DEPLOY"}
    assert len(later) + len(earlier) == len(everything)
    assert all(row["at"] >= middle for row in later) and all(row["at"] < middle for row in earlier)


async def test_the_deployment_feed_filters_by_outcome_and_pages(
    graphql: GraphQLClient, simulator: SimulatedCluster
) -> None:
    await _history(graphql, simulator)
    assert (await hibernate(graphql, "web", "dev"))["outcome"] == "APPLIED"
    assert (await deploy(graphql, "web:3", "web", "dev", onHibernated="SKIP"))["outcome"] == "SKIPPED"

    rows = await _all_pages(graphql, DEPLOYMENTS, "deployments")
    skipped = await _all_pages(graphql, DEPLOYMENTS, "deployments", filter={"outcomes": ["SKIPPED"]})
    bad_cursor = await graphql.post(DEPLOYMENTS, {"first": 2, "after": "not-a-cursor"})
    cursor_of_the_other_feed = (await graphql.query(TRANSITIONS, {"first": 1}))["transitions"]["pageInfo"]["endCursor"]
    wrong_feed = await graphql.post(DEPLOYMENTS, {"first": 2, "after": cursor_of_the_other_feed})

    assert [row["image"] for row in rows] == ["web:3", "api:2", "web:2", "web:2"]
    assert [_where(row) for row in rows] == [("web", "dev"), ("api", "prod"), ("web", "prod"), ("web", "dev")]
    assert [(row["image"], row["outcome"]) for row in skipped] == [("web:3", "SKIPPED")]
    for refused in (bad_cursor, wrong_feed):
        assert refused["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_a_token_sees_only_its_environments_in_the_feed(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await _history(graphql, simulator)
    async with create_session_factory(database.engine)() as session, session.begin():
        secret = await TokenService(session).create("dev-reader", "viewer", ["dev"])
    reader = GraphQLClient(graphql.http, token=secret)

    transitions = await _all_pages(reader, TRANSITIONS, "transitions")
    deployments = await _all_pages(reader, DEPLOYMENTS, "deployments")
    asked_for_prod = await _all_pages(reader, TRANSITIONS, "transitions", filter={"environments": ["prod"]})

    assert transitions and {_where(row) for row in transitions} == {("web", "dev")}
    assert [_where(row) for row in deployments] == [("web", "dev")]
    assert asked_for_prod == []
