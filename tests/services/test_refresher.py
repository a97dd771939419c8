from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from starlette.applications import Starlette

from app.config import Settings
from app.db.models import AppEnvironment, Deployment
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


async def test_a_deployment_left_running_by_a_dead_server_is_ended_by_the_refresher(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest, hibernia: Starlette
) -> None:
    await register_simulator(graphql, simulator)
    await add_environment(graphql, "dev", "team-dev")
    await add_app(graphql, "web", ["dev"])
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    async with database.engine.begin() as connection:
        target = (await connection.execute(select(AppEnvironment.id))).scalar_one()
        await connection.execute(
            insert(Deployment).values(
                app_environment_id=target, image="web:1", on_hibernated="REFUSE", outcome="RUNNING",
                actor="ci", started_at=long_ago,
            )
        )  # fmt: skip

    await hibernia.state.runtime.refresher.run_round()

    async with database.engine.connect() as connection:
        outcome, error = (await connection.execute(select(Deployment.outcome, Deployment.error))).one()
    assert str(outcome) == "FAILED" and "Interrupted" in error
