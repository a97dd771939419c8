"""Health, readiness and metrics endpoints."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.cluster.caches import ClusterCaches
from app.cluster.informers import CacheHealth
from app.db.migrate import is_behind_head
from app.metrics import Metrics

Endpoint = Callable[[Request], Awaitable[Response]]


async def healthz(_request: Request) -> Response:
    """The process is alive and serving."""
    return JSONResponse({"status": "ok"})


def readyz(engine: AsyncEngine, caches: ClusterCaches | None = None) -> Endpoint:
    async def endpoint(_request: Request) -> Response:
        """The database answers and its schema is at the migrations' head. The clusters' caches are
        reported, not required: without one, live reads list the cluster."""
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            behind = await is_behind_head(engine)
        except Exception as error:  # any database failure means: not ready
            return JSONResponse({"status": "unavailable", "database": str(error)[:200]}, status_code=503)
        if behind:
            return JSONResponse(
                {"status": "unavailable", "database": "migrations pending: run `hibernia migrate`"}, status_code=503
            )
        if caches is None:
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "ok", "caches": {name: _cache(h) for name, h in caches.health().items()}})

    return endpoint


def _cache(health: CacheHealth) -> dict[str, object]:
    age = None if health.age_seconds is None else round(health.age_seconds, 1)
    return {
        "synced": health.synced,
        "watching": health.connected,
        "ageSeconds": age,
        "workloads": health.objects,
        "relists": health.relists,
        "errors": health.errors,
        "lastError": health.last_error,
    }


def metrics_endpoint(metrics: Metrics) -> Endpoint:
    async def endpoint(_request: Request) -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return endpoint
