"""The lease heartbeat of a bulk operation: one lease taken over never frees the others."""

from __future__ import annotations

import asyncio

from sqlalchemy import insert, select, update

from app.db.engine import create_session_factory
from app.db.models import App, AppEnvironment, Cluster, Environment, OperationLease
from app.db.types import utcnow
from app.services.leases import LeaseManager
from tests.fixtures.databases import DatabaseUnderTest


async def _three_attachments(database: DatabaseUnderTest) -> list[int]:
    async with database.engine.begin() as connection:
        cluster = (
            await connection.execute(insert(Cluster).returning(Cluster.id), [{"name": "c", "server": "x"}])
        ).scalar_one()
        environment = (
            await connection.execute(
                insert(Environment).returning(Environment.id),
                [{"name": "dev", "cluster_id": cluster, "namespace": "dev"}],
            )
        ).scalar_one()
        apps = (
            (
                await connection.execute(
                    insert(App).returning(App.id), [{"name": f"a{i}", "team": "t"} for i in range(3)]
                )
            )
            .scalars()
            .all()
        )
        ids = (
            (
                await connection.execute(
                    insert(AppEnvironment).returning(AppEnvironment.id),
                    [
                        {"app_id": app, "environment_id": environment, "release_name": f"a{i}"}
                        for i, app in enumerate(apps)
                    ],
                )
            )
            .scalars()
            .all()
        )
        await connection.execute(insert(OperationLease), [{"app_environment_id": i} for i in ids])
    return list(ids)


async def _holders(database: DatabaseUnderTest) -> dict[int, tuple[str | None, bool]]:
    async with database.engine.connect() as connection:
        rows = await connection.execute(
            select(OperationLease.app_environment_id, OperationLease.holder, OperationLease.expires_at)
        )
        now = utcnow()
        return {
            i: (holder, expires is not None and expires.replace(tzinfo=now.tzinfo) > now) for i, holder, expires in rows
        }


async def test_a_lease_taken_over_mid_batch_leaves_the_others_renewed(database: DatabaseUnderTest) -> None:
    ids = await _three_attachments(database)
    leases = LeaseManager(create_session_factory(database.engine), lease_seconds=0.3)

    async with leases.hold_many({i: f"app {i}" for i in ids}, operation="deploy", actor="ci") as held:
        assert held.acquired == frozenset(ids)
        await asyncio.sleep(0.05)
        async with database.engine.begin() as connection:  # another server takes one lease over
            await connection.execute(
                update(OperationLease).where(OperationLease.app_environment_id == ids[0]).values(holder="thief")
            )
        await asyncio.sleep(1.0)  # more than three lease lengths
        during = await _holders(database)

    assert during[ids[0]][0] == "thief"
    assert all(during[i] == (held.holder, True) for i in ids[1:]), during
    after = await _holders(database)
    assert after[ids[0]][0] == "thief" and all(after[i][0] is None for i in ids[1:])
