"""Every GraphQL document the pipeline client sends is valid against the exported schema."""

from __future__ import annotations

import pytest
from graphql import build_schema, parse, validate

from app.commands import documents
from schema.schema import SDL_PATH

SCHEMA = build_schema(SDL_PATH.read_text())
# The operations; the other constants are selections they are built from.
DOCUMENTS = {
    name: value
    for name, value in vars(documents).items()
    if name.isupper() and isinstance(value, str) and value.startswith(("query ", "mutation "))
}


def test_the_client_has_its_documents() -> None:
    assert {"DEPLOY", "DEPLOY_MANY", "HIBERNATE", "UNHIBERNATE", "ROLLBACK", "HISTORY", "LIVE_STATUSES"} <= set(
        DOCUMENTS
    )


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_client_document_is_valid_against_the_schema(name: str) -> None:
    text = DOCUMENTS[name]
    errors = validate(SCHEMA, parse(text))

    assert errors == [], [error.message for error in errors]
