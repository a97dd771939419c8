"""ASGI middleware: request ids, and who is calling.

Bodies are read and checked by the GraphQL endpoint (`schema.http`); here only headers matter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Collection

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.domain.access import Principal, local_admin
from app.request_context import new_request_id, set_request_id

ACTOR_HEADER = b"x-hibernia-actor"
ANONYMOUS = "anonymous"
PRINCIPAL_KEY = "hibernia.principal"
REQUEST_ID_KEY = "hibernia.request_id"
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]")

Authenticate = Callable[[str], Awaitable[Principal | None]]


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


async def send_error(
    send: Send, status: int, code: str, message: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """A GraphQL-shaped JSON error, for a request refused before it reaches the endpoint."""
    payload = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class RequestIdMiddleware:
    """Gives every HTTP request an id (or keeps the caller's X-Request-Id) for logs and error messages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _UNPRINTABLE.sub("", _header(scope, b"x-request-id"))[:64] or new_request_id()
        scope[REQUEST_ID_KEY] = request_id
        set_request_id(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode("latin-1")))
            await send(message)

        await self.app(scope, receive, send_with_id)


class AuthenticationMiddleware:
    """In front of the API paths: who is calling.

    A bearer token is checked on every request; without one, production answers 401 and
    development treats the caller as a local admin, named by X-Hibernia-Actor. Paths in `open_paths`
    (probes, the page's files) need nothing.
    """

    def __init__(self, app: ASGIApp, *, authenticate: Authenticate, production: bool, guarded: Collection[str]) -> None:
        self.app = app
        self.authenticate = authenticate
        self.production = production
        self.guarded = frozenset(guarded)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") not in self.guarded:
            await self.app(scope, receive, send)
            return
        authorization = _header(scope, b"authorization")
        principal: Principal | None
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
            actor = _UNPRINTABLE.sub("", _header(scope, ACTOR_HEADER)).strip()[:253]
            principal = local_admin(actor or ANONYMOUS)
        scope[PRINCIPAL_KEY] = principal
        await self.app(scope, receive, send)

    async def _unauthorized(self, send: Send, message: str) -> None:
        await send_error(send, 401, "UNAUTHENTICATED", message, [(b"www-authenticate", b'Bearer realm="hibernia"')])
