"""Every GraphQL document the page sends is valid against the exported schema: the UI cannot drift."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

from app.web.pages import STATIC
from schema.schema import SDL_PATH

DOCUMENTS = sorted((STATIC / "graphql").glob("*.graphql"))
SCHEMA = build_schema(SDL_PATH.read_text())
# Pushed changes come with the watch work; until the schema has them the page polls (live.js).
PENDING_SUBSCRIPTION = SCHEMA.subscription_type is None or "statusChanges" not in SCHEMA.subscription_type.fields


def test_the_page_has_its_documents() -> None:
    names = {path.stem for path in DOCUMENTS}
    assert {"overview", "app-environment", "deploy", "deploy-many", "status-changes"} <= names


@pytest.mark.parametrize("path", DOCUMENTS, ids=[path.stem for path in DOCUMENTS])
def test_document_is_valid_against_the_schema(path: Path) -> None:
    if path.stem == "status-changes" and PENDING_SUBSCRIPTION:
        pytest.skip("the schema has no Subscription.statusChanges yet; the page polls instead")
    document = parse(path.read_text())

    errors = validate(SCHEMA, document)

    assert errors == [], [error.message for error in errors]
    assert len(document.definitions) == 1, "one operation per file, named for what it does"
