"""`serve --demo`: an in-process simulated cluster with demo apps, and the catalog pointing at it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from app.cluster.simulator import SimulatedCluster
from app.main import Runtime
from app.services.demo import DEMO_CLUSTER, seed_demo_catalog

logger = logging.getLogger("hibernia.demo")


async def start_demo(runtime: Runtime) -> Callable[[], Awaitable[None]]:
    cluster = SimulatedCluster(rollout_seconds=5.0)
    cluster.seed_demo()
    url = await cluster.start()
    async with runtime.session_factory() as session, session.begin():
        created = await seed_demo_catalog(session, url)
        demo = await _demo_cluster_id(session)
    await runtime.registry.forget(demo)  # drop a client built for a previous start's port
    result = await runtime.refresher.run_round()
    logger.info(
        "demo cluster simulated at %s (%s); %s app environments observed",
        url,
        "catalog created" if created else "catalog repointed",
        result.observed,
    )

    async def stop() -> None:
        await cluster.stop()

    return stop


async def _demo_cluster_id(session: object) -> int:
    from sqlalchemy.ext.asyncio import AsyncSession

    from app.db.repositories.catalog import CatalogRepository

    assert isinstance(session, AsyncSession)
    cluster = await CatalogRepository(session).cluster_by_name(DEMO_CLUSTER)
    assert cluster is not None
    return cluster.id
