"""Seeding: catalog rows by bulk INSERT (seeding is not what is measured) and workloads as manifests
created in the simulated cluster."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.models import App, AppEnvironment, Cluster, Environment, OperationLease
from app.domain.status import AppStatus
from app.simulator.manifests import cronjob_manifest, deployment_manifest, statefulset_manifest
from bench.cluster import BenchCluster
from bench.databases import BenchDatabase

INSERT_CHUNK = 5_000


async def _insert_returning_ids(connection: AsyncConnection, model: Any, rows: Sequence[dict[str, Any]]) -> list[int]:
    ids: list[int] = []
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start : start + INSERT_CHUNK]
        ids.extend((await connection.execute(insert(model).returning(model.id), chunk)).scalars().all())
    return ids


async def _insert(connection: AsyncConnection, model: Any, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), INSERT_CHUNK):
        await connection.execute(insert(model), rows[start : start + INSERT_CHUNK])


async def _simulator_cluster(connection: AsyncConnection, cluster: BenchCluster) -> int:
    rows = [{"name": "sim", "server": cluster.url, "simulated": True}]
    return (await _insert_returning_ids(connection, Cluster, rows))[0]


# ---- 1. live status page -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LivePageData:
    apps: int
    app_environments: int
    namespaces: int
    workloads: int


def _live_hibernated(n: int) -> bool:
    return n % 7 == 0


def _live_with_statefulset(n: int) -> bool:
    return n % 10 == 0


def _live_with_cronjob(n: int) -> bool:
    return n % 12 == 0


_LIVE_OTHER_THAN_PLAIN = (_live_hibernated, _live_with_statefulset, _live_with_cronjob)


def live_page_plain_releases(apps: int, per_app: int, namespaces: int) -> list[tuple[str, str]]:
    """(namespace, release) of the live page's app environments seeded awake with a Deployment alone."""
    return [
        (f"ns-{(index + offset) % namespaces:02d}", f"app-{index:03d}")
        for index in range(apps)
        for offset in range(per_app)
        if not any(
            rule(index * per_app + offset) for rule in (_live_hibernated, _live_with_statefulset, _live_with_cronjob)
        )
    ]


async def seed_live_page(
    database: BenchDatabase, cluster: BenchCluster, apps: int, per_app: int, namespaces: int
) -> LivePageData:
    """`apps` apps, each attached to `per_app` of `namespaces` environments (one namespace each).

    Every app environment has a Deployment; one in 7 is hibernated, one in 10 also has a StatefulSet
    (hibernated with it, except one in 3 of those: partially hibernated) and one in 12 a CronJob, so
    every kind is listed with something in it and the statuses vary.
    """
    manifests: list[dict[str, Any]] = []
    async with database.engine.begin() as connection:
        cluster_id = await _simulator_cluster(connection, cluster)
        env_ids = await _insert_returning_ids(
            connection,
            Environment,
            [{"name": f"env-{i:02d}", "cluster_id": cluster_id, "namespace": f"ns-{i:02d}"} for i in range(namespaces)],
        )
        app_ids = await _insert_returning_ids(
            connection, App, [{"name": f"app-{i:03d}", "team": f"team-{i % 7}"} for i in range(apps)]
        )
        rows = []
        for index, app_id in enumerate(app_ids):
            release = f"app-{index:03d}"
            for offset in range(per_app):
                env = (index + offset) % namespaces
                namespace = f"ns-{env:02d}"
                rows.append({"app_id": app_id, "environment_id": env_ids[env], "release_name": release})
                n = index * per_app + offset
                hibernated = _live_hibernated(n)
                manifests.append(
                    deployment_manifest(namespace, release, release, 2, hibernated_from=2 if hibernated else None)
                )
                if _live_with_statefulset(n):
                    partial = hibernated and n % 3 == 0
                    from_ = 1 if hibernated and not partial else None
                    manifests.append(
                        statefulset_manifest(namespace, f"{release}-db", release, 1, hibernated_from=from_)
                    )
                if _live_with_cronjob(n):
                    manifests.append(cronjob_manifest(namespace, f"{release}-cron", release))
        ids = await _insert_returning_ids(connection, AppEnvironment, rows)
        await _insert(connection, OperationLease, [{"app_environment_id": i} for i in ids])
    await cluster.add(manifests)
    await database.analyze()
    return LivePageData(apps=apps, app_environments=len(ids), namespaces=namespaces, workloads=len(manifests))


# ---- 2. filtered list at scale -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FilteredListData:
    app_environments: int
    hibernating: int


def _recorded_status(rng: random.Random, hibernated_share: float) -> AppStatus:
    roll = rng.random()
    if roll < hibernated_share:
        return AppStatus.HIBERNATING
    roll = (roll - hibernated_share) / (1 - hibernated_share)
    if roll < 0.02:
        return AppStatus.PARTIALLY_HIBERNATED
    if roll < 0.17:
        return AppStatus.NOT_DEPLOYED
    if roll < 0.20:
        return AppStatus.DEGRADED
    return AppStatus.HEALTHY


async def seed_filtered_list(
    database: BenchDatabase, apps: int, environments: int, hibernated_share: float
) -> FilteredListData:
    """`apps` x `environments` app environments with recorded statuses; the hibernated ones scattered
    across the whole name order (app ids do not follow names either)."""
    rng = random.Random(20261126)
    since = datetime(2026, 11, 1, tzinfo=UTC)
    hibernating = 0
    async with database.engine.begin() as connection:
        await _insert(connection, Cluster, [{"id": 1, "name": "c1", "server": "http://127.0.0.1:9"}])
        env_names = ["dev", "qa", "staging", "prod", "perf", "demo", "edge", "dr"][:environments]
        env_names += [f"env-{i}" for i in range(len(env_names), environments)]
        env_ids = await _insert_returning_ids(
            connection,
            Environment,
            [{"name": name, "cluster_id": 1, "namespace": f"ns-{name}"} for name in env_names],
        )
        names = [f"app-{i:05d}" for i in range(apps)]
        rng.shuffle(names)
        app_rows = [{"name": name, "team": f"team-{rng.randrange(12)}"} for name in names]
        app_ids = await _insert_returning_ids(connection, App, app_rows)
        attachments = []
        for app_id, app_row in zip(app_ids, app_rows, strict=True):
            for env_id in env_ids:
                status = _recorded_status(rng, hibernated_share)
                if status is AppStatus.HIBERNATING:
                    hibernating += 1
                attachments.append(
                    {
                        "app_id": app_id,
                        "environment_id": env_id,
                        "release_name": app_row["name"],
                        "status": status,
                        "status_reason": "seeded",
                        "status_since": since + timedelta(seconds=rng.randrange(10**6)),
                    }
                )
        await _insert(connection, AppEnvironment, attachments)
    await database.analyze()
    return FilteredListData(app_environments=len(attachments), hibernating=hibernating)


# ---- 3. bulk deploy ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BulkDeployData:
    environment: str
    namespace: str
    group: list[str]  # the deployMany group
    hibernated: list[str]  # members of the group that are hibernated
    singles: list[str]  # apps for the single deploys (not in the group)
    warmup: list[str]  # apps for the warm-up (not in the group)


async def seed_bulk_deploy(
    database: BenchDatabase, cluster: BenchCluster, apps: int, hibernated_share: float, singles: int
) -> BulkDeployData:
    environment, namespace = "bulk", "bulk"
    group = [f"bulk-{i:03d}" for i in range(apps)]
    every = round(1 / hibernated_share) if hibernated_share > 0 else 0
    hibernated = [name for i, name in enumerate(group) if every and i % every == every - 1]
    single_apps = [f"single-{i}" for i in range(singles)]
    warmup = [f"warmup-{i}" for i in range(3)]
    names = group + single_apps + warmup
    async with database.engine.begin() as connection:
        cluster_id = await _simulator_cluster(connection, cluster)
        env_id = (
            await _insert_returning_ids(
                connection, Environment, [{"name": environment, "cluster_id": cluster_id, "namespace": namespace}]
            )
        )[0]
        app_ids = await _insert_returning_ids(connection, App, [{"name": name, "team": "bulk"} for name in names])
        ids = await _insert_returning_ids(
            connection,
            AppEnvironment,
            [
                {"app_id": app_id, "environment_id": env_id, "release_name": name, "desired_replicas": 2}
                for app_id, name in zip(app_ids, names, strict=True)
            ],
        )
        await _insert(connection, OperationLease, [{"app_environment_id": i} for i in ids])
    await cluster.add(
        [
            deployment_manifest(
                namespace, name, name, 2, image=f"team/{name}:1", hibernated_from=2 if name in hibernated else None
            )
            for name in names
        ]
    )
    await database.analyze()
    return BulkDeployData(environment, namespace, group, hibernated, single_apps, warmup)
