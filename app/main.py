"""Composition root: the Starlette app, its lifespan (engine, background work) and the GraphQL mount."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.asgi import GraphQL

from app.cluster.registry import ClusterRegistry
from app.config import Settings, get_settings
from app.db.engine import create_engine, create_session_factory
from app.request_context import new_request_id, set_request_id
from app.services.container import Services, build_services
from app.services.refresher import StatusRefresher
from schema.context import Context
from schema.schema import schema

logger = logging.getLogger("hibernia")

ACTOR_HEADER = "x-hibernia-actor"
ANONYMOUS = "anonymous"


@dataclass
class Runtime:
    """What the lifespan builds once and every request shares."""

    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    registry: ClusterRegistry
    services: Services

    @property
    def refresher(self) -> StatusRefresher:
        return self.services.refresher


class HiberniaGraphQL(GraphQL[Context, None]):
    def __init__(self, runtime: Runtime) -> None:
        super().__init__(schema, graphql_ide="graphiql")
        self.runtime = runtime

    async def get_context(self, request: Any, response: Any) -> Context:
        actor = (request.headers.get(ACTOR_HEADER) or "").strip()[:253] or ANONYMOUS
        return Context(
            settings=self.runtime.settings,
            session_factory=self.runtime.session_factory,
            services=self.runtime.services,
            actor=actor,
            request_id=request.scope.get("hibernia.request_id", "-"),
        )


class RequestIdMiddleware:
    """Gives every HTTP request an id (or keeps the caller's X-Request-Id) for logs and error messages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")[:64]
        request_id = incoming or new_request_id()
        scope["hibernia.request_id"] = request_id
        set_request_id(request_id)

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode("latin-1")))
            await send(message)

        await self.app(scope, receive, send_with_id)


Startup = Callable[[Runtime], Awaitable[Callable[[], Awaitable[None]] | None]]


def create_app(
    settings: Settings | None = None,
    *,
    engine: AsyncEngine | None = None,
    registry: ClusterRegistry | None = None,
    on_startup: Startup | None = None,
) -> Starlette:
    """Builds the ASGI app. `on_startup` may start extra services and return their shutdown.

    An `engine` or `registry` passed in (tests share them) is left open; ones created here are closed
    at shutdown.
    """
    settings = settings or get_settings()
    owns_engine, owns_registry = engine is None, registry is None
    engine = engine or create_engine(settings.database_url)
    registry = registry or ClusterRegistry(settings)
    session_factory = create_session_factory(engine)
    runtime = Runtime(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        registry=registry,
        services=build_services(settings, session_factory, registry),
    )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        shutdown = await on_startup(runtime) if on_startup else None
        runtime.refresher.start()
        try:
            yield
        finally:
            await runtime.refresher.stop()
            if shutdown is not None:
                await shutdown()
            if owns_registry:
                await registry.close()
            if owns_engine:
                await engine.dispose()

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/graphql", HiberniaGraphQL(runtime), methods=["GET", "POST"]),
        ],
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.add_middleware(RequestIdMiddleware)
    return app
