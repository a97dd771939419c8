"""Two `hibernia serve` processes on PostgreSQL: exactly one runs the schedules; when it is killed, the
other takes over and converges what the schedule says."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from app.db.models import App, AppEnvironment, Election, Server, Transition, TransitionCause
from app.simulator import SimulatedCluster
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.servers import ServerProcess, shop_catalog, start_server

NS = "shop"
APPS = ("api", "web", "shop")
FAST = {
    "HIBERNIA_SCHEDULER_TICK_SECONDS": "0.5",
    "HIBERNIA_HEARTBEAT_SECONDS": "0.5",
    "HIBERNIA_SERVER_TIMEOUT_SECONDS": "2",
}
SCHEDULE = """mutation($input: ScheduleInput!) {
  %s(input: $input) { schedule { name } errors { code message } } }"""


async def _catalog(server: ServerProcess, cluster: SimulatedCluster) -> None:
    for app in APPS:
        cluster.add_deployment(NS, app, app, 2)
    await shop_catalog(server, cluster.url, APPS)


def _window(asleep: bool) -> dict[str, object]:
    """Every day, in UTC, a sleep window that holds now (or a wake window that does)."""
    now = datetime.now(UTC)
    before, after = (now - timedelta(hours=1)).strftime("%H:%M"), (now + timedelta(hours=2)).strftime("%H:%M")
    days = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
    sleep_at, wake_at = (before, after) if asleep else (after, before)
    return {
        "name": "nightly",
        "environment": "dev",
        "timeZone": "UTC",
        "weekdays": days,
        "sleepAt": sleep_at,
        "wakeAt": wake_at,
    }


async def _statuses(database: DatabaseUnderTest) -> set[str]:
    async with database.engine.connect() as connection:
        rows = await connection.execute(select(AppEnvironment.status).join(App))
        return {str(status) for (status,) in rows}


async def _until(database: DatabaseUnderTest, wanted: set[str], seconds: float) -> None:
    """Until every recorded status is one of `wanted`."""
    started = time.monotonic()
    while not await _statuses(database) <= wanted:
        assert time.monotonic() - started < seconds, f"not {wanted} within {seconds} s: {await _statuses(database)}"
        await asyncio.sleep(0.1)


async def _scheduled(database: DatabaseUnderTest) -> list[tuple[int, str]]:
    async with database.engine.connect() as connection:
        rows = await connection.execute(
            select(Transition.app_environment_id, Transition.to_status).where(
                Transition.cause == TransitionCause.SCHEDULE
            )
        )
        return [(i, str(s)) for i, s in rows]


async def test_one_server_runs_the_schedules_and_the_other_takes_over_when_it_dies(
    open_cluster: SimulatedCluster, shared_postgres: DatabaseUnderTest, tmp_path: Path
) -> None:
    first = await start_server(shared_postgres.url, tmp_path, env=FAST)
    second = await start_server(shared_postgres.url, tmp_path, env=FAST)
    servers = [first, second]
    try:
        await _catalog(first, open_cluster)
        await first.client.query('{ appStatuses(environment: "dev") { status } }')  # recorded
        await _until(shared_postgres, {"HEALTHY"}, 20)
        created = await first.client.query(SCHEDULE % "createSchedule", {"input": _window(asleep=True)})
        assert created["createSchedule"]["errors"] == []

        await _until(shared_postgres, {"HIBERNATING"}, 20)
        await asyncio.sleep(2)  # more ticks of both servers: nothing is done twice
        slept = await _scheduled(shared_postgres)
        assert sorted(s for _, s in slept) == ["HIBERNATING"] * len(APPS)
        assert len({i for i, _ in slept}) == len(APPS)
        async with shared_postgres.engine.connect() as connection:
            holder = (
                await connection.execute(
                    select(Server.pid)
                    .join(Election, Election.server_id == Server.id)
                    .where(Election.name == "scheduler")
                )
            ).scalar_one()
        scheduling = next(s for s in servers if s.process.pid == holder)
        other = second if scheduling is first else first

        scheduling.kill()
        await scheduling.process.wait()
        updated = await other.client.query(SCHEDULE % "updateSchedule", {"input": _window(asleep=False)})
        assert updated["updateSchedule"]["errors"] == []

        await _until(shared_postgres, {"WAKING", "HEALTHY"}, 30)
        woken = [s for _, s in await _scheduled(shared_postgres)][len(APPS) :]
        assert len(woken) == len(APPS) and set(woken) <= {"WAKING", "HEALTHY"}
        assert all(open_cluster.get("Deployment", NS, app)["spec"]["replicas"] == 2 for app in APPS)
    finally:
        for server in servers:
            if server.process.returncode is None:
                await server.stop()
            else:
                await server.client.http.aclose()
