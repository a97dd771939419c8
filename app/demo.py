"""`serve --demo`: an in-process simulated cluster with demo apps, and the catalog pointing at it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from app.main import Runtime
from app.services.demo import seed_demo_catalog
from app.simulator import SimulatedCluster

logger = logging.getLogger("hibernia.demo")

DEMO_ROLLOUT_SECONDS = 5.0


async def start_demo(runtime: Runtime) -> Callable[[], Awaitable[None]]:
    # The demo apps start out rolled out; later changes (wakes, deploys) take a visible 5 s.
    cluster = SimulatedCluster(rollout_seconds=0.0)
    cluster.seed_demo()
    cluster.controller.rollout_seconds = DEMO_ROLLOUT_SECONDS
    url = await cluster.start()
    async with runtime.session_factory() as session, session.begin():
        created = await seed_demo_catalog(session, url)
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
