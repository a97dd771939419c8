"""GraphQL over WebSocket at /graphql (graphql-transport-ws), for subscriptions.

Who is calling is told in `connection_init`: `{"Authorization": "Bearer <token>"}`, as browsers
cannot set headers on a WebSocket. In production a connection without a valid token is closed with
4403; in development it acts as the local admin, named by `X-Hibernia-Actor` in the payload.
Upgrades from a page of another origin are refused unless the origin is listed in
`HIBERNIA_ALLOWED_ORIGINS` (no cross-site WebSocket hijacking, in development too).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Any

from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from app.domain.access import Principal, Role, local_admin
from schema.context import Context
from schema.schema import HiberniaSchema

# Before `connection_init` the connection may do nothing (graphql-transport-ws refuses operations).
NOBODY = Principal(name="", role=Role.VIEWER, environments=frozenset())

Authenticate = Callable[[str], Awaitable[Principal | None]]
ContextFactory = Callable[[Any, Principal], Awaitable[Context]]


class GraphQLWebSocket(GraphQL[Context, None]):
    protocols = (GRAPHQL_TRANSPORT_WS_PROTOCOL,)

    def __init__(
        self,
        schema: HiberniaSchema,
        make_context: ContextFactory,
        authenticate: Authenticate,
        *,
        production: bool,
        allowed_origins: Collection[str],
    ) -> None:
        super().__init__(schema, graphql_ide=None)
        self.make_context = make_context
        self.authenticate = authenticate
        self.production = production
        self.allowed_origins = frozenset(allowed_origins)

    async def get_context(self, request: Any, response: Any) -> Context:
        return await self.make_context(request, NOBODY)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        params = context.connection_params or {}
        authorization = params.get("Authorization") or params.get("authorization")
        if isinstance(authorization, str) and authorization:
            scheme, _, token = authorization.partition(" ")
            principal = await self.authenticate(token.strip()) if scheme.lower() == "bearer" and token else None
            if principal is None:
                raise ConnectionRejectionError({"message": "The bearer token is not valid (unknown or revoked)."})
        elif self.production:
            raise ConnectionRejectionError({"message": 'Send {"Authorization": "Bearer <token>"} in connection_init.'})
        else:
            actor = params.get("X-Hibernia-Actor")
            principal = local_admin(actor.strip()[:253] if isinstance(actor, str) and actor.strip() else "anonymous")
        context.principal = principal
        acknowledged: UnsetType = UNSET
        return acknowledged
