"""Builds the strawberry schema; `schema.graphql` is its exported SDL."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from functools import partial
from pathlib import Path

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache
from strawberry.types import ExecutionContext

from schema.catalog_lifecycle import CatalogLifecycleMutation
from schema.errors import MaskUnexpectedErrors
from schema.limits import RequestLimits
from schema.mutations import CatalogMutation
from schema.observability import RequestObservability
from schema.operation_mutations import OperationMutation
from schema.queries import Query
from schema.schedules import ScheduleMutation
from schema.subscriptions import Subscription

SDL_PATH = Path(__file__).with_name("schema.graphql")


class HiberniaSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        # Client mistakes and expected failures are answers, not server errors; unexpected
        # exceptions are logged once, with the request id, by MaskUnexpectedErrors.
        return None


@strawberry.type(description="Change the catalog and operate on apps. Every mutation takes one `input`.")
class Mutation(CatalogMutation, CatalogLifecycleMutation, OperationMutation, ScheduleMutation):
    pass


def _extensions() -> list[type[SchemaExtension] | Callable[[], SchemaExtension]]:
    # Factories, not instances: each request gets fresh extensions (the caches are shared by strawberry).
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        MaskUnexpectedErrors,
        RequestObservability,
        RequestLimits,
        partial(ParserCache, maxsize=512),
        partial(ValidationCache, maxsize=512),
    ]
    tracing = _opentelemetry_extension()
    if tracing is not None:
        extensions.append(tracing)
    return extensions


def _opentelemetry_extension() -> type[SchemaExtension] | None:
    # Tracing is optional: on when the OpenTelemetry API is installed, silently off otherwise.
    if importlib.util.find_spec("opentelemetry") is None:
        return None
    from strawberry.extensions.tracing import OpenTelemetryExtension

    return OpenTelemetryExtension


schema = HiberniaSchema(query=Query, mutation=Mutation, subscription=Subscription, extensions=_extensions())


def export_sdl() -> str:
    return schema.as_str() + "\n"
