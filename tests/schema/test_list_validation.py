from __future__ import annotations

import pytest

from tests.fixtures.graphql import GraphQLClient
from tests.schema.catalog_helpers import create_catalog


@pytest.mark.parametrize("first", [0, -1, 101, 10_000])
async def test_first_outside_1_to_100_is_a_validation_error(graphql: GraphQLClient, first: int) -> None:
    for field in ("apps", "appEnvironments"):
        errors = await graphql.errors(f"{{ {field}(first: {first}) {{ totalCount }} }}")
        assert errors[0]["extensions"]["code"] == "INVALID_INPUT"
        assert errors[0]["extensions"]["field"] == "first"


@pytest.mark.parametrize("cursor", ["garbage", "", "W10", "WyJhcHBzOk5BTUU6QVNDIixbMSwyXV0", "eyJ4IjoxfQ"])
async def test_a_cursor_not_issued_by_the_api_is_rejected(graphql: GraphQLClient, cursor: str) -> None:
    errors = await graphql.errors("query($c: String) { apps(after: $c) { totalCount } }", {"c": cursor})
    assert errors[0]["extensions"]["code"] == "INVALID_INPUT"


async def test_a_cursor_from_another_ordering_is_rejected(graphql: GraphQLClient) -> None:
    await create_catalog(graphql, environments={"dev": "d"}, apps={"a": ("t", ["dev"]), "b": ("t", ["dev"])})
    data = await graphql.query("{ apps(first: 1) { pageInfo { endCursor } } }")
    cursor = data["apps"]["pageInfo"]["endCursor"]

    errors = await graphql.errors(
        "query($c: String) { apps(after: $c, orderBy: {field: TEAM}) { totalCount } }", {"c": cursor}
    )
    rows_errors = await graphql.errors("query($c: String) { appEnvironments(after: $c) { totalCount } }", {"c": cursor})

    assert errors[0]["extensions"]["code"] == "INVALID_INPUT"
    assert rows_errors[0]["extensions"]["code"] == "INVALID_INPUT"


async def test_orderings_page_consistently(graphql: GraphQLClient) -> None:
    await create_catalog(
        graphql,
        environments={"dev": "d"},
        apps={f"app-{i}": (f"team-{i % 3}", ["dev"]) for i in range(7)},
    )
    for order in ("{field: NAME, direction: DESC}", "{field: TEAM}", "{field: CREATED_AT, direction: DESC}"):
        seen: list[str] = []
        after = None
        while True:
            data = await graphql.query(
                f"query($a: String) {{ apps(first: 3, after: $a, orderBy: {order}) "
                "{ edges { node { name } } pageInfo { hasNextPage endCursor } } }",
                {"a": after},
            )
            seen += [e["node"]["name"] for e in data["apps"]["edges"]]
            if not data["apps"]["pageInfo"]["hasNextPage"]:
                break
            after = data["apps"]["pageInfo"]["endCursor"]
        assert sorted(seen) == sorted(f"app-{i}" for i in range(7))
        assert len(seen) == 7


async def test_unexpected_errors_are_masked_with_a_request_id(graphql: GraphQLClient) -> None:
    # A filter value the database cannot hold reaches no SQL: it is validated first.
    errors = await graphql.errors('{ apps(filter: { search: "%s" }) { totalCount } }' % ("x" * 300))
    assert errors[0]["extensions"]["code"] == "INVALID_INPUT"
