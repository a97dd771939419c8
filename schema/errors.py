"""Maps domain failures to payload errors (the one place that does) and masks unexpected exceptions."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.relay.types import GlobalIDValueError

from app.db.availability import DatabaseUnavailable, is_unavailable
from app.domain.errors import ErrorCode as DomainErrorCode
from app.domain.errors import HiberniaError, InvalidInputs
from app.request_context import current_request_id
from schema.enums import ErrorCode

logger = logging.getLogger("hibernia.graphql")


@strawberry.type(description="An expected failure of a mutation: what went wrong and what to do next.")
class OperationError:
    code: ErrorCode = strawberry.field(description="Machine-readable reason; branch on this, not on the message.")
    message: str = strawberry.field(description="What happened and what to do next, for people.")
    field: str | None = strawberry.field(description="The input field at fault, when one is.")


def operation_errors(error: HiberniaError | InvalidInputs) -> list[OperationError]:
    errors = error.errors if isinstance(error, InvalidInputs) else [error]
    return [OperationError(code=ErrorCode(e.code.value), message=e.message, field=e.field) for e in errors]


class MaskUnexpectedErrors(SchemaExtension):
    """Expected errors keep their message and get a `code`; anything else is logged and masked."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        result.errors = [self._process(error) for error in result.errors]

    def _process(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if original is None:
            return error
        if isinstance(original, GlobalIDValueError):
            original = HiberniaError(DomainErrorCode.INVALID_INPUT, "`id` is not an id this API issued.", field="id")
        elif isinstance(original, GraphQLError):
            return error  # raised on purpose by the GraphQL layer: an input the schema cannot take
        elif is_unavailable(original):
            original = DatabaseUnavailable()
        if isinstance(original, HiberniaError):
            return GraphQLError(
                original.message,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                extensions={"code": original.code.value, "field": original.field},
            )
        request_id = current_request_id()
        logger.error("unexpected error in GraphQL request %s at %s", request_id, error.path, exc_info=original)
        return GraphQLError(
            f"Unexpected error; it was logged with request id {request_id}.",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL", "requestId": request_id},
        )
