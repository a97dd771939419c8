"""GraphQL over HTTP at /graphql, as the GraphQL-over-HTTP specification says.

- GET (queries only; a mutation over GET is 405 with `Allow: POST`) and POST with an
  `application/json` body; any other method is 405 with `Allow: GET, POST`.
- `Accept: application/graphql-response+json` gets that media type and 4xx status codes for request
  errors; `application/json`, `*/*` or no Accept get `application/json` and 200 for GraphQL request
  errors; anything else is 406. A request error carries no `data` entry.
- Every error body is GraphQL-shaped: `{"errors": [{"message", "extensions": {"code"}}]}`.
- A request that could not run because the database is away is 503 with Retry-After.
- A document with several operations needs `operationName`; subscriptions are served over WebSocket.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

from graphql import DocumentNode, GraphQLError, OperationDefinitionNode, OperationType, StringValueNode, parse
from graphql.language import Visitor, visit
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType as StrawberryOperationType

from app.db.availability import RETRY_AFTER_SECONDS
from app.request_input import MAX_BODY_BYTES, BadRequest, check_strings, decode_json, strings_in
from schema.context import Context
from schema.schema import HiberniaSchema

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
_SUGGESTION = re.compile(r" Did you mean [^?]*\?")

ContextFactory = Callable[[Request], Awaitable[Context]]
Playground = Callable[[Request], Awaitable[Response]]


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """A GraphQL-shaped error body for a request that did not run."""
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return _json(status, body, JSON, headers)


def _json(status: int, body: dict[str, Any], media_type: str, headers: dict[str, str] | None = None) -> Response:
    # Replaced, not raised: a message may quote a lone surrogate a client sent.
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace")
    return Response(payload, status_code=status, media_type=f"{media_type}; charset=utf-8", headers=headers)


def negotiate(accept: str | None) -> str | None:
    """The response media type for an Accept header, or None when none of ours is acceptable."""
    if not accept or not accept.strip():
        return JSON
    best: tuple[float, int, str] | None = None
    for part in accept.split(","):
        media, *parameters = [p.strip() for p in part.split(";")]
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.lower()
        offered = {GRAPHQL_RESPONSE: GRAPHQL_RESPONSE, JSON: JSON, "*/*": JSON, "application/*": JSON}.get(media)
        if offered is None or quality <= 0:
            continue
        # Higher quality wins; at equal quality, the more specific graphql-response type.
        rank = (quality, 1 if offered == GRAPHQL_RESPONSE else 0, offered)
        if best is None or rank[:2] > best[:2]:
            best = rank
    return None if best is None else best[2]


class _Strings(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        self.found.append(node.value)


@lru_cache(maxsize=256)
def _parsed(query: str, max_tokens: int) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


def _document(query: str, max_tokens: int) -> DocumentNode:
    # Small documents (the ones clients send again and again) are parsed once.
    return _parsed(query, max_tokens) if len(query) <= 20_000 else parse(query, max_tokens=max_tokens)


class UnrunnableDocument(Exception):
    """A GraphQL request error: the document parsed, but no one operation in it can run."""


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        if len(operations) != 1:
            raise UnrunnableDocument(
                "The document has several operations: name the one to run with `operationName`."
                if operations
                else "The document has no operation to run."
            )
        return operations[0]
    for operation in operations:
        if operation.name is not None and operation.name.value == name:
            return operation
    raise UnrunnableDocument(f"The document has no operation named '{name[:100]}'.")


class GraphQLHttp:
    """The ASGI endpoint for HTTP requests to /graphql."""

    def __init__(
        self,
        schema: HiberniaSchema,
        make_context: ContextFactory,
        *,
        max_tokens: int,
        production: bool,
        playground: Playground | None = None,
    ) -> None:
        self.schema = schema
        self.make_context = make_context
        self.max_tokens = max_tokens
        self.production = production
        self.playground = playground

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self._answer(request)
        await response(scope, receive, send)

    async def _answer(self, request: Request) -> Response:
        if request.method not in ("GET", "POST"):
            return error_response(
                405, "METHOD_NOT_ALLOWED", "GraphQL is served over GET and POST.", {"Allow": "GET, POST"}
            )
        if request.method == "GET" and "query" not in request.query_params and _wants_html(request):
            if self.playground is not None:
                return await self.playground(request)
            return error_response(404, "NOT_FOUND", "The playground is off in production.")
        media = negotiate(request.headers.get("accept"))
        if media is None:
            return error_response(
                406, "NOT_ACCEPTABLE", f"Accept {GRAPHQL_RESPONSE} or {JSON}; nothing else is served here."
            )
        try:
            params = await self._params(request)
            query, variables, operation_name = _checked(params)
            document = _document(query, self.max_tokens)
            check_strings(_document_strings(document), "the document")
            operation = _operation(document, operation_name)
        except UnrunnableDocument as error:
            return self._request_error(media, 400, "INVALID_INPUT", str(error), legacy_ok=True)
        except BadRequest as error:
            return self._request_error(media, error.status, error.code, error.message, legacy_ok=False)
        except GraphQLError as error:  # a syntax error
            return self._request_error(media, 400, "INVALID_INPUT", error.message, legacy_ok=True)
        if operation.operation is OperationType.SUBSCRIPTION:
            return error_response(
                405, "METHOD_NOT_ALLOWED", "Subscriptions are served over WebSocket (graphql-transport-ws) at /graphql."
            )
        if operation.operation is OperationType.MUTATION and request.method == "GET":
            return error_response(405, "METHOD_NOT_ALLOWED", "Send mutations with POST.", {"Allow": "POST"})
        allowed = (
            {StrawberryOperationType.QUERY}
            if request.method == "GET"
            else {StrawberryOperationType.QUERY, StrawberryOperationType.MUTATION}
        )
        result = await self.schema.execute(
            query,
            variable_values=variables,
            context_value=await self.make_context(request),
            operation_name=operation_name,
            allowed_operation_types=allowed,
        )
        return self._result(media, result)

    async def _params(self, request: Request) -> dict[str, Any]:
        if request.method == "GET":
            params: dict[str, Any] = dict(request.query_params)
            for key in ("variables", "extensions"):
                if isinstance(params.get(key), str) and params[key]:
                    params[key] = decode_json(params[key].encode("utf-8"))
            return params
        content_type, _, parameters = request.headers.get("content-type", "").partition(";")
        charset = next(
            (p.split("=", 1)[1].strip().strip('"').lower() for p in parameters.split(";") if "charset=" in p), "utf-8"
        )
        if content_type.strip().lower() != JSON or charset not in ("utf-8", "utf8"):
            raise BadRequest(
                "Send GraphQL requests as application/json (UTF-8).", status=415, code="UNSUPPORTED_MEDIA_TYPE"
            )
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise BadRequest(
                    f"The request body is larger than {MAX_BODY_BYTES // 1024} KiB.", status=413, code="INVALID_INPUT"
                )
        if not body:
            raise BadRequest('The body is empty; send {"query": "...", "variables": {...}}.')
        document = decode_json(bytes(body))
        if not isinstance(document, dict):
            raise BadRequest('The body must be a JSON object: {"query": "...", "variables": {...}}.')
        return document

    def _request_error(self, media: str, status: int, code: str, message: str, *, legacy_ok: bool) -> Response:
        """A request error: no `data`; 200 for legacy application/json clients when the spec allows."""
        if media == JSON and legacy_ok and status == 400:
            status = 200
        body = {"errors": [{"message": self._shown(message), "extensions": {"code": code}}]}
        return _json(status, body, media)

    def _result(self, media: str, result: ExecutionResult) -> Response:
        errors = [self._formatted(error) for error in result.errors or []]
        request_error = result.data is None and bool(errors) and all(e.get("path") is None for e in errors)
        codes = {str((e.get("extensions") or {}).get("code")) for e in errors}
        if errors and codes == {"SERVICE_UNAVAILABLE"} and not any((result.data or {}).values()):
            return _json(503, {"errors": errors}, media, {"Retry-After": str(RETRY_AFTER_SECONDS)})
        if request_error:
            return _json(400 if media == GRAPHQL_RESPONSE else 200, {"errors": errors}, media)
        body: dict[str, Any] = {"data": result.data}
        if errors:
            body["errors"] = errors
        if result.extensions:
            body["extensions"] = result.extensions
        return _json(200, body, media)

    def _formatted(self, error: GraphQLError) -> dict[str, Any]:
        formatted: dict[str, Any] = dict(error.formatted)
        formatted["message"] = self._shown(formatted.get("message", ""))
        extensions = dict(formatted.get("extensions") or {})
        # Unexpected exceptions were masked with INTERNAL already; what is left is the GraphQL layer
        # refusing the request (syntax, validation, coercion of an argument).
        extensions.setdefault("code", "INVALID_INPUT")
        formatted["extensions"] = extensions
        return formatted

    def _shown(self, message: str) -> str:
        # With introspection off, "Did you mean ...?" would reveal the schema field by field.
        return _SUGGESTION.sub("", message) if self.production else message


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and GRAPHQL_RESPONSE not in accept


def _checked(params: dict[str, Any]) -> tuple[str, dict[str, Any] | None, str | None]:
    query, variables = params.get("query"), params.get("variables")
    operation_name, extensions = params.get("operationName"), params.get("extensions")
    if not isinstance(query, str) or not query.strip():
        raise BadRequest("Send the GraphQL document as a non-empty string in `query`.")
    if variables is not None and not isinstance(variables, dict):
        raise BadRequest("`variables` must be a JSON object.")
    if operation_name is not None and not isinstance(operation_name, str):
        raise BadRequest("`operationName` must be a string.")
    if extensions is not None and not isinstance(extensions, dict):
        raise BadRequest("`extensions` must be a JSON object.")
    if variables:
        check_strings(strings_in(variables), "variables")
    return query, variables, operation_name or None


def _document_strings(document: DocumentNode) -> list[str]:
    strings = _Strings()
    visit(document, strings)
    return strings.found
