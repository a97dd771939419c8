"""Builds the strawberry schema; `schema.graphql` is its exported SDL."""

from __future__ import annotations

from pathlib import Path

import strawberry

from schema.errors import MaskUnexpectedErrors
from schema.mutations import Mutation
from schema.queries import Query

SDL_PATH = Path(__file__).with_name("schema.graphql")

schema = strawberry.Schema(query=Query, mutation=Mutation, extensions=[MaskUnexpectedErrors])


def export_sdl() -> str:
    return schema.as_str() + "\n"
