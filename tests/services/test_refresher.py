from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from starlette.applications import Starlette

from app.config import Settings
from app.main import create_app
from app.services.live_status import LiveStatus
from app.services.refresher import StatusRefresher
from app.simulator import SimulatedCluster
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.graphql import GraphQLClient
from tests.schema.live_helpers import add_app, add_environment, register_simulator


async def test_rounds_never_overlap(graphql: GraphQLClient, simulator: SimulatedCluster, hibernia: Starlette) -> None:
    await register_simulator(graphql, simulator)
    await add_environment(graphql, "dev", "team-dev")
    await add_app(graphql, "web", ["dev"])
    simulator.add_deployment("team-dev", "web", "web", 1)
    simulator.set_faults(latency_seconds=0.05)
    refresher: StatusRefresher = hibernia.state.runtime.refresher
    observe = refresher.live_status.observe
    in_flight = peak = 0

    async def counting_observe(ids: Sequence[int], **kwargs: Any) -> dict[int, LiveStatus]:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            return await observe(ids, **kwargs)
        finally:
            in_flight -= 1

    refresher.live_status.observe = counting_observe  # type: ignore[method-assign]

    results = await asyncio.gather(*(refresher.run_round() for _ in range(4)))

    assert peak == 1
    assert refresher.rounds == 4
    assert [r.observed for r in results] == [1, 1, 1, 1]
    assert [r.changed for r in results] == [1, 0, 0, 0]


async def test_the_server_refreshes_in_the_background(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest, settings: Settings
) -> None:
    await register_simulator(graphql, simulator)
    await add_environment(graphql, "dev", "team-dev")
    await add_app(graphql, "web", ["dev"])
    simulator.add_deployment("team-dev", "web", "web", hibernated_from=2)
    app = create_app(settings.model_copy(update={"status_refresh_seconds": 0.01}), engine=database.engine)
    refresher: StatusRefresher = app.state.runtime.refresher

    async with app.router.lifespan_context(app):
        for _ in range(500):
            if refresher.rounds >= 2:
                break
            await asyncio.sleep(0.01)

    assert refresher.rounds >= 2
    data = await graphql.query("{ appEnvironments(filter: {statuses: [HIBERNATING]}) { totalCount } }")
    assert data["appEnvironments"]["totalCount"] == 1
