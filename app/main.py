"""Composition root: the Starlette app, its lifespan (engine, background work) and the GraphQL mount."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute

from app.cluster.registry import ClusterRegistry
from app.config import Settings, get_settings
from app.db.engine import create_engine, create_session_factory
from app.domain.access import Principal
from app.metrics import Metrics
from app.middleware import PRINCIPAL_KEY, REQUEST_ID_KEY, AuthenticationMiddleware, RequestIdMiddleware
from app.probes import healthz, metrics_endpoint, readyz
from app.request_context import new_request_id
from app.services.container import Services, build_services
from app.services.refresher import StatusRefresher
from app.services.tokens import TokenService
from app.web import SecurityHeadersMiddleware, playground_page, web_routes
from schema.context import Context
from schema.http import GraphQLHttp
from schema.schema import schema
from schema.websocket import GraphQLWebSocket

logger = logging.getLogger("hibernia")


@dataclass
class Runtime:
    """What the lifespan builds once and every request shares."""

    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    registry: ClusterRegistry
    services: Services
    metrics: Metrics

    @property
    def refresher(self) -> StatusRefresher:
        return self.services.refresher

    async def authenticate(self, token: str) -> Principal | None:
        async with self.session_factory() as session:
            return await TokenService(session).authenticate(token)


def graphql_endpoint(runtime: Runtime) -> GraphQLHttp:
    async def make_context(request: Request) -> Context:
        principal: Principal = request.scope[PRINCIPAL_KEY]
        return Context(
            settings=runtime.settings,
            session_factory=runtime.session_factory,
            services=runtime.services,
            principal=principal,
            metrics=runtime.metrics,
            request_id=request.scope.get(REQUEST_ID_KEY, "-"),
        )

    async def playground(_request: Request) -> Response:
        return playground_page()  # GraphiQL from the package's own files, not a CDN

    settings = runtime.settings
    return GraphQLHttp(
        schema,
        make_context,
        max_tokens=settings.max_query_tokens,
        production=settings.is_production,
        playground=None if settings.is_production else playground,  # no playground in production
    )


def graphql_websocket(runtime: Runtime) -> GraphQLWebSocket:
    async def make_context(websocket: Any, principal: Principal) -> Context:
        return Context(
            settings=runtime.settings,
            session_factory=runtime.session_factory,
            services=runtime.services,
            principal=principal,
            metrics=runtime.metrics,
            request_id=new_request_id(),
        )

    settings = runtime.settings
    return GraphQLWebSocket(
        schema,
        make_context,
        runtime.authenticate,
        production=settings.is_production,
        allowed_origins=settings.allowed_origins,
    )


Startup = Callable[[Runtime], Awaitable[Callable[[], Awaitable[None]] | None]]


def freeze_startup_heap() -> None:
    """Moves every object alive now into the collector's permanent generation.

    Startup leaves hundreds of thousands of long-lived objects (kubernetes-asyncio's models, the
    GraphQL schema, SQLAlchemy's mappers) that every full collection would walk again: a ~100 ms
    pause every few requests. Collected first, so no garbage is frozen with them.
    """
    gc.collect()
    gc.freeze()


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
    metrics = Metrics()
    registry = registry or ClusterRegistry(settings)
    registry.metrics = metrics
    session_factory = create_session_factory(engine)
    runtime = Runtime(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        registry=registry,
        services=build_services(settings, engine, session_factory, registry, metrics),
        metrics=metrics,
    )
    if settings.watch_clusters:
        metrics.report_caches(runtime.services.caches.health)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if not settings.is_production:
            logger.warning(
                "development mode: requests without a token act as a local admin; "
                "set HIBERNIA_ENV=production to require API tokens"
            )
        services = runtime.services
        try:
            await services.presence.beat()  # registered, and on the database's clock, before serving
        except Exception:  # an unmigrated or unreachable database: /readyz says so, serving goes on
            logger.warning("could not register this server in the database at start", exc_info=True)
        services.presence.start()
        services.elections.start()
        await services.status_feed.start()
        if settings.watch_clusters:
            services.cache_keeper.start()
            services.observer.start()
        shutdown = await on_startup(runtime) if on_startup else None
        services.reconciler.start()
        runtime.refresher.start()
        if settings.scheduler_enabled:
            services.scheduler.start()
        if settings.gc_freeze:
            freeze_startup_heap()
        try:
            yield
        finally:
            # In-flight requests have finished (uvicorn waits for them): what they held is recorded
            # and freed; leases of requests cut short are left to settle, then this server leaves.
            await services.scheduler.stop()
            await runtime.refresher.stop()
            await services.reconciler.stop()
            await services.cache_keeper.stop()
            await services.observer.stop()
            await services.elections.stop()
            await services.caches.close()
            await services.status_feed.stop()
            await services.leases.drain()
            await services.presence.stop()
            if shutdown is not None:
                await shutdown()
            if owns_registry:
                await registry.close()
            if owns_engine:
                await engine.dispose()

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz(engine, runtime.services.caches if settings.watch_clusters else None)),
            Route("/metrics", metrics_endpoint(metrics)),
            Route("/graphql", graphql_endpoint(runtime)),
            WebSocketRoute("/graphql", graphql_websocket(runtime)),
            *web_routes(),
        ],
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    guarded = {"/graphql"}
    if settings.is_production and not settings.metrics_public:
        guarded.add("/metrics")  # any valid token, of any role
    app.add_middleware(
        AuthenticationMiddleware, authenticate=runtime.authenticate, production=settings.is_production, guarded=guarded
    )
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    return app
