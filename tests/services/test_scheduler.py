"""The scheduler, with a clock tests move by hand: it converges through the ordinary operations."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from app.config import Settings
from app.db.models import Transition, TransitionCause
from app.main import create_app
from app.services.scheduler import Scheduler
from app.simulator import SimulatedCluster
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.graphql import GraphQLClient
from tests.schema.live_helpers import add_app, add_environment, register_simulator
from tests.schema.operation_helpers import deploy, hibernate, replicas, unhibernate
from tests.schema.schedule_helpers import KEEP_AWAKE, Clock, create_schedule, nightly, scheduler_of

NS = "team-dev"
FRIDAY_NOON = datetime(2026, 6, 5, 10, 0, tzinfo=UTC)  # 12:00 in Paris
FRIDAY_EVENING = datetime(2026, 6, 5, 18, 0, tzinfo=UTC)  # 20:00 in Paris: asleep


async def _setup(
    graphql: GraphQLClient, simulator: SimulatedCluster, apps: tuple[str, ...] = ("api", "web"), *, replicas: int = 2
) -> None:
    """Apps running in the cluster, their statuses recorded (the scheduler reads recorded statuses,
    which the watch and the refresher keep true)."""
    await register_simulator(graphql, simulator)
    await add_environment(graphql, "dev", NS)
    for app in apps:
        await add_app(graphql, app, ["dev"])
        simulator.add_deployment(NS, app, app, replicas)
    statuses = await graphql.query('{ appStatuses(environment: "dev") { status } }')
    assert {s["status"] for s in statuses["appStatuses"]} <= {"HEALTHY", "PROGRESSING"}


async def _scheduled(database: DatabaseUnderTest) -> list[tuple[str, str]]:
    async with database.engine.connect() as connection:
        rows = await connection.execute(
            select(Transition.to_status, Transition.actor)
            .where(Transition.cause == TransitionCause.SCHEDULE)
            .order_by(Transition.id)
        )
        return [(str(status), actor) for status, actor in rows]


async def test_a_schedule_sleeps_and_wakes_through_the_ordinary_operations(
    graphql: GraphQLClient, simulator: SimulatedCluster, hibernia: Starlette, database: DatabaseUnderTest
) -> None:
    await _setup(graphql, simulator)
    clock = Clock(FRIDAY_NOON)
    scheduler = scheduler_of(hibernia, clock)
    await create_schedule(graphql, **nightly())

    assert (await scheduler.tick()).slept == []  # awake hours: nothing to do
    clock.now = FRIDAY_EVENING
    slept = await scheduler.tick()

    assert slept.slept == ["api@dev", "web@dev"] and slept.failed == []
    assert (replicas(simulator, NS, "api"), replicas(simulator, NS, "web")) == (0, 0)
    assert await _scheduled(database) == [("HIBERNATING", "schedule:nightly")] * 2
    patches = simulator.count("patch")
    assert (await scheduler.tick()).slept == []  # level-triggered: asleep already, nothing written
    assert simulator.count("patch") == patches

    clock.now = datetime(2026, 6, 8, 6, 0, tzinfo=UTC)  # Monday 08:00 in Paris
    woken = await scheduler.tick()

    assert woken.woken == ["api@dev", "web@dev"]
    assert (replicas(simulator, NS, "api"), replicas(simulator, NS, "web")) == (2, 2)
    assert [s for s, _ in await _scheduled(database)][2:] == ["WAKING", "WAKING"]


async def test_reduced_schedules_sleep_to_their_count(
    graphql: GraphQLClient, simulator: SimulatedCluster, hibernia: Starlette
) -> None:
    await _setup(graphql, simulator, ("api",), replicas=4)
    clock = Clock(FRIDAY_EVENING)
    scheduler = scheduler_of(hibernia, clock)
    await create_schedule(graphql, **nightly(reduceTo=1))

    assert (await scheduler.tick()).slept == ["api@dev"]
    assert replicas(simulator, NS, "api") == 1
    assert (await scheduler.tick()).slept == []


@pytest.mark.parametrize(
    ("zone", "sleep_at", "start", "expected_sleeps"),
    [
        # Paris springs forward on 29 March 2026 (02:00 -> 03:00): 02:30 fires at 03:00 CEST that night.
        pytest.param(
            "Europe/Paris",
            "02:30",
            datetime(2026, 3, 26, 12, 0, tzinfo=UTC),
            [
                datetime(2026, 3, 27, 1, 30, tzinfo=UTC),
                datetime(2026, 3, 28, 1, 30, tzinfo=UTC),
                datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
                datetime(2026, 3, 30, 0, 30, tzinfo=UTC),
                datetime(2026, 3, 31, 0, 30, tzinfo=UTC),
                datetime(2026, 4, 1, 0, 30, tzinfo=UTC),
                datetime(2026, 4, 2, 0, 30, tzinfo=UTC),
            ],
            id="spring-forward",
        ),
        # Paris falls back on 25 October 2026 (03:00 -> 02:00): 02:30 happens twice and fires once.
        pytest.param(
            "Europe/Paris",
            "02:30",
            datetime(2026, 10, 22, 12, 0, tzinfo=UTC),
            [
                datetime(2026, 10, 23, 0, 30, tzinfo=UTC),
                datetime(2026, 10, 24, 0, 30, tzinfo=UTC),
                datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
                datetime(2026, 10, 26, 1, 30, tzinfo=UTC),
                datetime(2026, 10, 27, 1, 30, tzinfo=UTC),
                datetime(2026, 10, 28, 1, 30, tzinfo=UTC),
                datetime(2026, 10, 29, 1, 30, tzinfo=UTC),
            ],
            id="fall-back",
        ),
    ],
)
async def test_a_week_of_ticks_across_a_daylight_saving_change(
    graphql: GraphQLClient,
    simulator: SimulatedCluster,
    hibernia: Starlette,
    zone: str,
    sleep_at: str,
    start: datetime,
    expected_sleeps: list[datetime],
) -> None:
    await _setup(graphql, simulator, ("api",))
    clock = Clock(start)
    scheduler = scheduler_of(hibernia, clock)
    every_day = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
    await create_schedule(graphql, **nightly(timeZone=zone, weekdays=every_day, sleepAt=sleep_at, wakeAt="07:00"))
    sleeps: list[datetime] = []
    wakes: list[datetime] = []

    while clock.now < start + timedelta(days=7):
        clock.now += timedelta(minutes=15)
        result = await scheduler.tick()
        assert result.failed == []
        if result.slept:
            sleeps.append(clock.now)
        if result.woken:
            wakes.append(clock.now)

    assert sleeps == expected_sleeps
    assert len(wakes) == 7  # once every morning


async def test_a_server_down_at_sleep_time_sleeps_the_apps_at_start_up(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest, settings: Settings
) -> None:
    await _setup(graphql, simulator)
    await create_schedule(graphql, **nightly())
    app = create_app(
        settings.model_copy(update={"scheduler_enabled": True, "heartbeat_seconds": 0.05}), engine=database.engine
    )
    scheduler: Scheduler = app.state.runtime.services.scheduler
    scheduler.clock = Clock(FRIDAY_EVENING)  # started long after 19:00

    async with app.router.lifespan_context(app):
        for _ in range(400):
            if scheduler.ticks:
                break
            await asyncio.sleep(0.025)

    assert scheduler.ticks >= 1
    assert (replicas(simulator, NS, "api"), replicas(simulator, NS, "web")) == (0, 0)


async def _keep_awake(graphql: GraphQLClient, until: str, app: str = "api") -> dict[str, object]:
    variables = {"input": {"app": app, "environment": "dev", "until": until}}
    payload: dict[str, object] = (await graphql.query(KEEP_AWAKE, variables))["keepAwake"]
    return payload


async def test_keep_awake_wakes_and_holds_every_schedule_off_until_it_ends(
    graphql: GraphQLClient, simulator: SimulatedCluster, hibernia: Starlette
) -> None:
    await _setup(graphql, simulator)
    clock = Clock(FRIDAY_EVENING)
    scheduler = scheduler_of(hibernia, clock)
    await create_schedule(graphql, **nightly())
    await scheduler.tick()

    kept = await _keep_awake(graphql, "2026-06-05T20:00:00Z")

    assert kept["outcome"] == "APPLIED" and kept["errors"] == []
    assert replicas(simulator, NS, "api") == 2
    shown = await graphql.query('{ appEnvironment(app: "api", environment: "dev") { keepAwakeUntil } }')
    assert shown["appEnvironment"]["keepAwakeUntil"] == "2026-06-05T20:00:00+00:00"
    clock.now = datetime(2026, 6, 5, 19, 59, tzinfo=UTC)
    assert (await scheduler.tick()).slept == []
    assert replicas(simulator, NS, "api") == 2

    clock.now = datetime(2026, 6, 5, 20, 0, 1, tzinfo=UTC)  # it ended: the schedule leads again
    assert (await scheduler.tick()).slept == ["api@dev"]
    assert replicas(simulator, NS, "api") == 0
    shown = await graphql.query('{ appEnvironment(app: "api", environment: "dev") { keepAwakeUntil } }')
    assert shown["appEnvironment"]["keepAwakeUntil"] is None


@pytest.mark.parametrize("until", ["2026-06-05T17:00:00Z", "2026-08-01T00:00:00Z"], ids=["past", "too-far"])
async def test_keep_awake_in_the_past_or_too_far_ahead_is_refused(
    graphql: GraphQLClient, simulator: SimulatedCluster, hibernia: Starlette, until: str
) -> None:
    await _setup(graphql, simulator)
    scheduler_of(hibernia, Clock(FRIDAY_EVENING))

    refused = await _keep_awake(graphql, until)

    assert [e["code"] for e in refused["errors"]] == ["INVALID_INPUT"]  # type: ignore[union-attr]


async def test_manual_operations_win_until_the_next_boundary(
    graphql: GraphQLClient, simulator: SimulatedCluster, hibernia: Starlette
) -> None:
    await _setup(graphql, simulator)
    clock = Clock(FRIDAY_EVENING)
    scheduler = scheduler_of(hibernia, clock)
    await create_schedule(graphql, **nightly())
    await scheduler.tick()

    # A wake by hand in the sleep window: awake until the next sleep (Monday 19:00 in Paris).
    assert (await unhibernate(graphql, app="api"))["outcome"] == "APPLIED"
    clock.now = datetime(2026, 6, 6, 12, 0, tzinfo=UTC)
    assert (await scheduler.tick()).slept == []
    assert replicas(simulator, NS, "api") == 2
    clock.now = datetime(2026, 6, 8, 17, 0, 1, tzinfo=UTC)
    assert (await scheduler.tick()).slept == ["api@dev"]

    # A hibernation by hand in waking hours: asleep until the next wake (Tuesday 08:00).
    clock.now = datetime(2026, 6, 9, 6, 0, 1, tzinfo=UTC)
    await scheduler.tick()
    clock.now = datetime(2026, 6, 9, 10, 0, tzinfo=UTC)
    assert (await hibernate(graphql, app="web"))["outcome"] == "APPLIED"
    assert (await scheduler.tick()).woken == []
    assert replicas(simulator, NS, "web") == 0
    clock.now = datetime(2026, 6, 10, 6, 0, 1, tzinfo=UTC)
    assert (await scheduler.tick()).woken == ["web@dev"]

    # A deploy that wakes counts as a wake by hand.
    clock.now = datetime(2026, 6, 10, 18, 0, tzinfo=UTC)
    await scheduler.tick()
    deployed = await deploy(graphql, "registry/web:2", app="web", onHibernated="WAKE")
    assert deployed["outcome"] == "APPLIED"
    assert (await scheduler.tick()).slept == []
    assert replicas(simulator, NS, "web") == 1  # the release's replicas, left awake


async def test_a_failure_is_shown_on_the_schedule_and_retried_with_backoff(
    graphql: GraphQLClient, simulator: SimulatedCluster, hibernia: Starlette
) -> None:
    await _setup(graphql, simulator)
    clock = Clock(FRIDAY_EVENING)
    scheduler = scheduler_of(hibernia, clock)
    await create_schedule(graphql, **nightly())
    await simulator.go_offline()

    failed = await scheduler.tick()

    assert failed.failed == ["api@dev", "web@dev"]
    shown = (await graphql.query('{ schedule(name: "nightly") { lastError retryAt } }'))["schedule"]
    assert "Sleeping 'api' and 'web' failed" in shown["lastError"]
    assert shown["retryAt"] == "2026-06-05T18:00:30+00:00"
    await simulator.go_online()
    clock.now += timedelta(seconds=15)
    assert (await scheduler.tick()).slept == []  # backing off
    clock.now += timedelta(seconds=15)

    retried = await scheduler.tick()

    assert retried.slept == ["api@dev", "web@dev"]
    shown = (await graphql.query('{ schedule(name: "nightly") { lastError retryAt } }'))["schedule"]
    assert shown == {"lastError": None, "retryAt": None}
