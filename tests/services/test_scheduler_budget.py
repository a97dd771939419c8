"""The scheduler's budgets: a tick with nothing to do is constant SQL and no Kubernetes request; a tick
that sleeps 100 apps costs what one hibernateMany of 100 costs."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select
from starlette.applications import Starlette

from app.db.models import App, AppEnvironment, Environment, OperationLease
from app.domain.status import AppStatus
from app.simulator import SimulatedCluster
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.graphql import GraphQLClient
from tests.schema.live_helpers import add_environment, register_simulator
from tests.schema.operation_helpers import HIBERNATE_MANY
from tests.schema.schedule_helpers import Clock, create_schedule, nightly, scheduler_of

FRIDAY_NOON = datetime(2026, 6, 5, 10, 0, tzinfo=UTC)
FRIDAY_EVENING = datetime(2026, 6, 5, 18, 0, tzinfo=UTC)


async def _seed(database: DatabaseUnderTest, environment: str, prefix: str, count: int, status: AppStatus) -> list[str]:
    """App environments recorded as `status`, inserted directly: the catalog at scale, quickly."""
    names = [f"{prefix}-{i:05d}" for i in range(count)]
    async with database.engine.begin() as connection:
        environment_id = (
            await connection.execute(select(Environment.id).where(Environment.name == environment))
        ).scalar_one()
        ids = (
            await connection.execute(insert(App).returning(App.id), [{"name": name, "team": "core"} for name in names])
        ).scalars()
        attached = (
            await connection.execute(
                insert(AppEnvironment).returning(AppEnvironment.id),
                [
                    {"app_id": app_id, "environment_id": environment_id, "release_name": name, "status": status}
                    for app_id, name in zip(ids, names, strict=True)
                ],
            )
        ).scalars()
        await connection.execute(insert(OperationLease), [{"app_environment_id": i} for i in attached])
    return names


async def test_a_tick_with_nothing_to_do_is_constant_sql_and_no_request(
    graphql: GraphQLClient, simulator: SimulatedCluster, hibernia: Starlette, database: DatabaseUnderTest
) -> None:
    await register_simulator(graphql, simulator)
    for environment in ("dev", "qa"):
        await add_environment(graphql, environment, f"team-{environment}")
        await create_schedule(graphql, **nightly(f"nightly-{environment}", environment=environment))
    clock = Clock(FRIDAY_NOON)
    scheduler = scheduler_of(hibernia, clock)
    costs = []
    for size in (10, 1000):
        await _seed(database, "dev", f"dev{size}", size // 2, AppStatus.HEALTHY)
        await _seed(database, "qa", f"qa{size}", size // 2, AppStatus.HEALTHY)
        for now in (FRIDAY_NOON, FRIDAY_EVENING):  # awake and awake wanted; then asleep and asleep wanted
            clock.now = now
            if now == FRIDAY_EVENING:
                async with database.engine.begin() as connection:
                    await connection.execute(AppEnvironment.__table__.update().values(status=AppStatus.HIBERNATING))
            before = simulator.log.counts()
            with database.counter.counting() as statements:
                result = await scheduler.tick()
            assert (result.slept, result.woken, result.failed) == ([], [], [])
            assert simulator.log.counts() == before
            costs.append(len(statements))
            async with database.engine.begin() as connection:
                await connection.execute(AppEnvironment.__table__.update().values(status=AppStatus.HEALTHY))

    # The schedules, then their environments' app environments with statuses and holds.
    assert costs == [2, 2, 2, 2], costs


async def test_a_tick_that_sleeps_100_apps_costs_what_one_hibernate_many_of_100_costs(
    graphql: GraphQLClient, simulator: SimulatedCluster, hibernia: Starlette, database: DatabaseUnderTest
) -> None:
    await register_simulator(graphql, simulator)
    await add_environment(graphql, "dev", "team-dev")
    await add_environment(graphql, "qa", "team-qa")
    scheduled = await _seed(database, "dev", "s", 100, AppStatus.HEALTHY)
    by_hand = await _seed(database, "qa", "h", 100, AppStatus.HEALTHY)
    for name in scheduled:
        simulator.add_deployment("team-dev", name, name, 2)
    for name in by_hand:
        simulator.add_deployment("team-qa", name, name, 2)
    await create_schedule(graphql, **nightly(environment="dev"))
    scheduler = scheduler_of(hibernia, Clock(FRIDAY_EVENING))

    before = simulator.log.counts()
    with database.counter.counting() as many_sql:
        payload = await graphql.query(HIBERNATE_MANY, {"input": {"environment": "qa", "allApps": True}})
    many_requests = _since(before, simulator.log.counts())
    assert {r["outcome"] for r in payload["hibernateMany"]["results"]} == {"APPLIED"}, payload["hibernateMany"][
        "results"
    ][0]["errors"]

    before = simulator.log.counts()
    with database.counter.counting() as tick_sql:
        result = await scheduler.tick()
    tick_requests = _since(before, simulator.log.counts())

    assert len(result.slept) == 100 and result.failed == []
    # The same requests: one PATCH per app, and reads batched across apps (how many apps share a LIST
    # depends on how their operations interleave, for both alike).
    assert (
        set(tick_requests)
        == set(many_requests)
        == {
            "list Deployment",
            "list StatefulSet",
            "list CronJob",
            "patch Deployment",
        }
    )
    assert tick_requests["patch Deployment"] == many_requests["patch Deployment"] == 100
    for kind in ("Deployment", "StatefulSet", "CronJob"):
        assert tick_requests[f"list {kind}"] < 100 and many_requests[f"list {kind}"] < 100
    # The same per-app operations, give or take a few constant statements: hibernateMany chooses its apps
    # (allApps) and looks for schedules a manual hibernate holds off; the tick reads schedules and members.
    assert abs(len(tick_sql) - len(many_sql)) <= 3, (len(tick_sql), len(many_sql))
    print(f"\nSQL statements: tick sleeping 100 = {len(tick_sql)}, hibernateMany of 100 = {len(many_sql)}")


def _since(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)}
