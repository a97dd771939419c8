"""Builds the strawberry schema; `schema.graphql` is its exported SDL."""

from __future__ import annotations

from pathlib import Path

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionContext

from schema.errors import MaskUnexpectedErrors
from schema.mutations import CatalogMutation
from schema.operation_mutations import OperationMutation
from schema.queries import Query

SDL_PATH = Path(__file__).with_name("schema.graphql")


class HiberniaSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        # Client mistakes and expected failures are answers, not server errors; unexpected
        # exceptions are logged once, with the request id, by MaskUnexpectedErrors.
        return None


@strawberry.type(description="Change the catalog and operate on apps. Every mutation takes one `input`.")
class Mutation(CatalogMutation, OperationMutation):
    pass


schema = HiberniaSchema(query=Query, mutation=Mutation, extensions=[MaskUnexpectedErrors])


def export_sdl() -> str:
    return schema.as_str() + "\n"
