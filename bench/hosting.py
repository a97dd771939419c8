"""Hibernia in process, on the bench's event loop, reached through httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx
from starlette.applications import Starlette
from starlette.routing import Route

from app.cluster.registry import ClusterRegistry
from app.config import Settings
from app.main import Runtime, create_app
from bench.databases import BenchDatabase
from bench.graphql_client import BenchFailure, GraphQLClient
from schema.http import GraphQLHttp

# The client-side rate limit exists to protect real API servers; at its default (20/s, burst 40) it
# would be what the bench measures. Said in the output too.
CLUSTER_RATE_LIMIT = 10_000
CLUSTER_RATE_BURST = 10_000


def bench_settings(database_url: str) -> dict[str, str]:
    """Hibernia's settings for the bench, as environment variables (server processes take them too)."""
    return {
        "HIBERNIA_DATABASE_URL": database_url,
        # The background refresher would add cluster and database work at random moments.
        "HIBERNIA_STATUS_REFRESH_SECONDS": "0",
        "HIBERNIA_CLUSTER_RATE_LIMIT": str(CLUSTER_RATE_LIMIT),
        "HIBERNIA_CLUSTER_RATE_BURST": str(CLUSTER_RATE_BURST),
        "HIBERNIA_CLUSTER_TIMEOUT_SECONDS": "30",
        # Sections 1-4 measure reads that list the cluster; the informer caches have section 6.
        "HIBERNIA_WATCH_CLUSTERS": "false",
        # Background work (heartbeats, elections, the reconciler) would add statements at random
        # moments to the requests measured: a minute apart, and no reconciler.
        "HIBERNIA_HEARTBEAT_SECONDS": "60",
        "HIBERNIA_SERVER_TIMEOUT_SECONDS": "300",
        "HIBERNIA_RECONCILE_SECONDS": "0",
        # Nor scheduler ticks; the schedule section ticks by hand.
        "HIBERNIA_SCHEDULER_ENABLED": "false",
    }


ViewFactory = Callable[[Runtime], GraphQLHttp]


def _replace_graphql_view(app: Starlette, view: GraphQLHttp) -> None:
    for route in app.router.routes:
        if isinstance(route, Route) and route.path == "/graphql":
            route.app = route.endpoint = view
            return
    raise BenchFailure("create_app() has no /graphql route to put a bench variant on")


@dataclass
class InProcessHibernia:
    app: Starlette
    runtime: Runtime
    client: GraphQLClient
    _database: BenchDatabase
    _registry: ClusterRegistry
    _stack: AsyncExitStack

    async def variant(self, name: str, make_view: ViewFactory) -> GraphQLClient:
        """Another app from create_app() on the same database and clusters, with its GraphQL view
        replaced: same middleware, same HTTP/ASGI path, same schema."""
        app = create_app(self.runtime.settings, engine=self._database.engine, registry=self._registry)
        await self._stack.enter_async_context(app.router.lifespan_context(app))
        _replace_graphql_view(app, make_view(app.state.runtime))
        return await self._stack.enter_async_context(_client(app, name))


@asynccontextmanager
async def _client(app: Starlette, name: str) -> AsyncIterator[GraphQLClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hibernia.bench", timeout=None) as http:
        yield GraphQLClient(http, name)


@asynccontextmanager
async def hibernia_in_process(database: BenchDatabase) -> AsyncIterator[InProcessHibernia]:
    settings = Settings(**bench_settings(database.url))  # type: ignore[arg-type]
    async with AsyncExitStack() as stack:
        registry = ClusterRegistry(settings)
        stack.push_async_callback(registry.close)
        app = create_app(settings, engine=database.engine, registry=registry)
        await stack.enter_async_context(app.router.lifespan_context(app))
        client = await stack.enter_async_context(_client(app, "hibernia"))
        yield InProcessHibernia(app, app.state.runtime, client, database, registry, stack)
