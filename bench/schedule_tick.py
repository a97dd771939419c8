"""Section 7: the scheduler's tick with nothing to do, over 1,000 and 10,000 scheduled app environments."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.db.models import App, AppEnvironment, Environment, Schedule
from app.domain.status import AppStatus
from bench import targets
from bench.cluster import BenchCluster
from bench.counting import cost_of
from bench.databases import BenchDatabase
from bench.datasets import _insert, _insert_returning_ids, _simulator_cluster
from bench.graphql_client import BenchFailure
from bench.hosting import hibernia_in_process
from bench.profiling import Profiles
from bench.report import Row, SectionResult
from bench.sizes import Sizes
from bench.timing import Latency, ms, timed

SECTION = "7 schedule tick"
ENVIRONMENTS = 10
# Noon in Paris on a Friday: every schedule wants its apps awake, and they are.
NOON = datetime(2026, 6, 5, 10, 0, tzinfo=UTC)


async def _grow(database: BenchDatabase, cluster: BenchCluster, total: int) -> None:
    """Up to `total` app environments, HEALTHY, over ENVIRONMENTS environments with one nightly schedule
    each covering every app."""
    async with database.engine.begin() as connection:
        existing = (await connection.execute(select(Environment.id).order_by(Environment.id))).scalars().all()
        if not existing:
            cluster_id = await _simulator_cluster(connection, cluster)
            rows = [{"name": f"env-{i}", "cluster_id": cluster_id, "namespace": f"ns-{i}"} for i in range(ENVIRONMENTS)]
            existing = await _insert_returning_ids(connection, Environment, rows)
            await _insert_returning_ids(
                connection,
                Schedule,
                [
                    {
                        "name": f"nightly-{i}",
                        "environment_id": env_id,
                        "apps": None,
                        "teams": None,
                        "exclude_apps": [],
                        "time_zone": "Europe/Paris",
                        "weekdays": "MONDAY,TUESDAY,WEDNESDAY,THURSDAY,FRIDAY",
                        "sleep_at": "19:00",
                        "wake_at": "08:00",
                        "failures": 0,
                    }
                    for i, env_id in enumerate(existing)
                ],
            )
        have = len((await connection.execute(select(App.id))).scalars().all())
        names = [f"app-{i:05d}" for i in range(have, total // ENVIRONMENTS)]
        app_ids = await _insert_returning_ids(connection, App, [{"name": n, "team": "core"} for n in names])
        await _insert(
            connection,
            AppEnvironment,
            [
                {"app_id": app_id, "environment_id": env_id, "release_name": name, "status": AppStatus.HEALTHY}
                for app_id, name in zip(app_ids, names, strict=True)
                for env_id in existing
            ],
        )
    await database.analyze()


async def measure(
    database: BenchDatabase, cluster: BenchCluster, sizes: Sizes, *, smoke: bool, profiles: Profiles
) -> SectionResult:
    result = SectionResult("schedule_tick", "Schedule tick")
    data: dict[str, object] = {"environments": ENVIRONMENTS, "ticks": {}}
    async with hibernia_in_process(database) as hibernia:
        scheduler = hibernia.runtime.services.scheduler
        scheduler.clock = lambda: NOON
        for total in sizes.schedule_app_environments:
            await _grow(database, cluster, total)
            await scheduler.tick()  # warm-up
            samples: list[float] = []
            statements: list[int] = []
            requests: list[int] = []
            for _ in range(sizes.schedule_ticks):
                async with cost_of(database.statements, cluster) as cost:
                    seconds, done = await timed(scheduler.tick)
                if done.slept or done.woken or done.failed:
                    raise BenchFailure(f"a tick with nothing to do acted: {done}")
                samples.append(seconds)
                statements.append(len(cost.statements))
                requests.append(cost.kubernetes.total)
            async with profiles.profile(f"schedule-tick-{total}"):
                await scheduler.tick()
            latency = Latency.of(samples)
            result.rows.append(
                Row(
                    SECTION,
                    f"tick with nothing to do, {total:,} scheduled app environments ({ENVIRONMENTS} schedules), "
                    f"median of {latency.n}",
                    ms(latency.p50),
                    f"p95 {ms(latency.p95)}",
                    f"{max(statements)} SQL statements, {max(requests)} Kubernetes requests",
                    verdict=targets.at_most(
                        targets.SCHEDULE_TICK_STATEMENTS,
                        "≤ 2 SQL statements and no Kubernetes request, whatever the size",
                        max(statements) + 100 * max(requests),
                        2,
                        deterministic=True,
                        smoke=smoke,
                    ),
                )
            )
            data["ticks"][str(total)] = {  # type: ignore[index]
                **latency.to_json(),
                "sql_statements": statements,
                "kubernetes_requests": requests,
            }
    result.data = data
    return result
