"""ASGI middleware: request ids, authentication, and the JSON-only rule for GraphQL posts."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.domain.access import Principal, local_admin
from app.request_context import new_request_id, set_request_id

ACTOR_HEADER = b"x-hibernia-actor"
ANONYMOUS = "anonymous"
PRINCIPAL_KEY = "hibernia.principal"
REQUEST_ID_KEY = "hibernia.request_id"

Authenticate = Callable[[str], Awaitable[Principal | None]]


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


async def _send_json(send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


MAX_BODY_BYTES = 1024 * 1024
# No name, image or filter may hold a NUL character, and PostgreSQL text cannot store one.
NUL_MESSAGE = "Strings must not contain NUL (\\u0000) characters."


async def _client_error(send: Send, status: int, message: str) -> None:
    await _send_json(send, status, {"errors": [{"message": message, "code": "INVALID_INPUT"}]}, [])


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None once it grows past `limit`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


class RequestIdMiddleware:
    """Gives every HTTP request an id (or keeps the caller's X-Request-Id) for logs and error messages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _header(scope, b"x-request-id")[:64] or new_request_id()
        scope[REQUEST_ID_KEY] = request_id
        set_request_id(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode("latin-1")))
            await send(message)

        await self.app(scope, receive, send_with_id)


class GraphQLGateMiddleware:
    """In front of /graphql: who is calling, and only JSON bodies.

    A bearer token is checked on every request; without one, production answers 401 and
    development treats the caller as a local admin. A POST whose body is not a JSON object is
    refused (so a cross-site form cannot forge a request), as is one over 1 MiB.
    """

    def __init__(self, app: ASGIApp, *, authenticate: Authenticate, production: bool, path: str = "/graphql") -> None:
        self.app = app
        self.authenticate = authenticate
        self.production = production
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "POST":
            content_type = _header(scope, b"content-type").split(";")[0].strip().lower()
            if content_type != "application/json":
                await _client_error(send, 415, "Send GraphQL requests as application/json.")
                return
            body = await _read_body(receive, MAX_BODY_BYTES)
            if body is None:
                await _client_error(send, 413, f"The request body is larger than {MAX_BODY_BYTES // 1024} KiB.")
                return
            try:
                document = json.loads(body)
            except ValueError:
                document = None
            if not isinstance(document, dict):
                await _client_error(send, 400, 'The body must be a JSON object: {"query": "...", "variables": {...}}.')
                return
            if b"\\u0000" in body:
                await _client_error(send, 400, NUL_MESSAGE)
                return
            receive = _replay(body)
        elif b"%00" in scope.get("query_string", b""):
            await _client_error(send, 400, NUL_MESSAGE)
            return
        authorization = _header(scope, b"authorization")
        if authorization:
            scheme, _, token = authorization.partition(" ")
            principal = await self.authenticate(token.strip()) if scheme.lower() == "bearer" and token else None
            if principal is None:
                await self._unauthorized(send, "The bearer token is not valid (unknown or revoked).")
                return
        elif self.production:
            await self._unauthorized(send, "Send an API token: Authorization: Bearer <token>.")
            return
        else:
            principal = local_admin(_header(scope, ACTOR_HEADER).strip()[:253] or ANONYMOUS)
        scope[PRINCIPAL_KEY] = principal
        await self.app(scope, receive, send)

    async def _unauthorized(self, send: Send, message: str) -> None:
        await _send_json(
            send,
            401,
            {"errors": [{"message": message, "code": "UNAUTHENTICATED"}]},
            [(b"www-authenticate", b'Bearer realm="hibernia"')],
        )
