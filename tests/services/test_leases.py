"""The lease heartbeat of a bulk operation: one lease taken over never frees the others."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import insert, select, update

from app.db.engine import create_session_factory
from app.db.models import App, AppEnvironment, Cluster, Environment, OperationLease
from app.db.repositories.leases import LeaseRepository
from app.db.types import utcnow
from app.services.leases import LeaseManager
from app.services.presence import ServerPresence
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


async def test_lease_times_are_the_databases_not_a_skewed_servers(database: DatabaseUnderTest) -> None:
    ids = await _three_attachments(database)
    factory = create_session_factory(database.engine)
    ahead = ServerPresence(factory, local_clock=lambda: utcnow() + timedelta(hours=1))
    behind = ServerPresence(factory, local_clock=lambda: utcnow() - timedelta(hours=1))
    await ahead.beat()
    await behind.beat()
    assert abs(ahead.now() - behind.now()) < timedelta(seconds=2), "both keep the database's time"

    leases = LeaseManager(factory, lease_seconds=60, presence=ahead)
    async with leases.hold_many({ids[0]: "a0"}, operation="deploy", actor="ci") as held:
        assert held.acquired == {ids[0]}
        async with factory() as session:
            expires = (
                await session.execute(
                    select(OperationLease.expires_at).where(OperationLease.app_environment_id == ids[0])
                )
            ).scalar_one()
            # Neither stolen by the server an hour behind, nor stranded for an hour more.
            assert abs(expires - (utcnow() + timedelta(seconds=60))) < timedelta(seconds=5)
            stale = await LeaseRepository(session).to_settle(
                now=behind.now(), dead_before=behind.now() - timedelta(seconds=10), limit=10
            )
            assert stale == []


async def test_a_busy_lease_names_its_server_and_when_it_can_be_taken_over(database: DatabaseUnderTest) -> None:
    ids = await _three_attachments(database)
    factory = create_session_factory(database.engine)
    holder = ServerPresence(factory)
    await holder.beat()
    first = LeaseManager(factory, lease_seconds=60, presence=holder)
    second = LeaseManager(factory, lease_seconds=60, presence=ServerPresence(factory))

    async with (
        first.hold_many({ids[0]: "App 'a0'"}, operation="hibernate", actor="alice"),
        second.hold_many({ids[0]: "App 'a0'"}, operation="deploy", actor="bob") as refused,
    ):
        [error] = refused.refused.values()

    assert error.code.value == "OPERATION_IN_PROGRESS"
    assert "hibernate by alice is running" in error.message
    assert f"on server {holder.host} (pid {holder.pid})" in error.message
    assert "taken over by" in error.message
