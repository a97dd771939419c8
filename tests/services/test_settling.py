"""What interrupted operations leave is settled against the cluster, never guessed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from app.config import Settings
from app.db.models import AppEnvironment, Deployment, HibernationRecord, OperationLease, Server, Transition
from app.db.types import utcnow
from app.domain.workloads import HIBERNATION_ANNOTATION, Workload, WorkloadKind
from app.services.settling import RecordTruth, records_true_to
from app.simulator import SimulatedCluster
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.graphql import GraphQLClient
from tests.schema.operation_helpers import (
    codes,
    deploy,
    held_leases,
    hibernate,
    records,
    replicas,
    setup_app,
    unhibernate,
)

NS = "team-dev"
Round = Callable[[], Awaitable[int]]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Quick heartbeats, so the server under test may judge others dead within a test.
    return settings.model_copy(update={"heartbeat_seconds": 0.1, "server_timeout_seconds": 0.5})


async def _judging(settle_round: Round) -> int:
    await asyncio.sleep(0.3)  # a server that just started waits two heartbeats before judging others
    return await settle_round()


async def _plant(
    database: DatabaseUnderTest,
    *,
    operation: str,
    actor: str,
    deployed_image: str | None = None,
    server_alive: bool = False,
) -> int:
    """A lease (and a RUNNING deployment) as a server left them when it was killed."""
    now = utcnow()
    # A live server's heartbeat is dated ahead, so a slow run never ages it past the server timeout.
    heartbeat = now + timedelta(minutes=5) if server_alive else now - timedelta(minutes=5)
    async with database.engine.begin() as connection:
        target = (await connection.execute(select(AppEnvironment.id))).scalar_one()
        await connection.execute(
            insert(Server).values(
                id="dead-server", host="web-1", pid=4242, started_at=heartbeat, heartbeat_at=heartbeat
            )
        )
        await connection.execute(
            update(OperationLease).values(
                holder="killed-operation",
                server_id="dead-server",
                operation=operation,
                actor=actor,
                acquired_at=now - timedelta(seconds=30),
                expires_at=now + timedelta(minutes=2),
            )
        )
        if deployed_image is not None:
            await connection.execute(
                insert(Deployment).values(
                    app_environment_id=target,
                    image=deployed_image,
                    on_hibernated="REFUSE",
                    outcome="RUNNING",
                    actor=actor,
                    started_at=now - timedelta(seconds=30),
                )
            )
    return target


async def _deployments(database: DatabaseUnderTest) -> dict[str, tuple[str, str | None]]:
    async with database.engine.connect() as connection:
        rows = await connection.execute(select(Deployment.image, Deployment.outcome, Deployment.error))
        return {image: (str(outcome), error) for image, outcome, error in rows}


async def _transitions(database: DatabaseUnderTest) -> list[dict[str, Any]]:
    async with database.engine.connect() as connection:
        rows = await connection.execute(
            select(
                Transition.from_status, Transition.to_status, Transition.cause, Transition.actor, Transition.reason
            ).order_by(Transition.id)
        )
        return [{"from": str(f), "to": str(t), "cause": str(c), "actor": a, "reason": r} for f, t, c, a, r in rows]


async def test_a_deploy_whose_server_died_is_confirmed_from_the_cluster(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest, settle_round: Round
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 1, "team/web:2")  # the killed deploy had landed
    await _plant(database, operation="deploy", actor="ci-bot", deployed_image="team/web:2")

    busy = await hibernate(graphql)
    assert codes(busy) == ["OPERATION_IN_PROGRESS"]
    assert "web-1" in busy["errors"][0]["message"] and "ci-bot" in busy["errors"][0]["message"]

    assert await _judging(settle_round) == 1

    assert await held_leases(database) == 0
    outcome, reason = (await _deployments(database))["team/web:2"]
    assert outcome == "SUCCEEDED" and reason is not None and "confirmed" in reason.lower()
    [settled] = await _transitions(database)
    assert (settled["cause"], settled["actor"], settled["to"]) == ("DEPLOY", "ci-bot", "HEALTHY")
    assert (await hibernate(graphql))["outcome"] == "APPLIED"


async def test_a_deploy_that_never_reached_the_cluster_is_failed(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest, settle_round: Round
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 1, "team/web:1")
    await _plant(database, operation="deploy", actor="ci-bot", deployed_image="team/web:9")

    assert await _judging(settle_round) == 1

    outcome, reason = (await _deployments(database))["team/web:9"]
    assert outcome == "FAILED" and reason is not None and "team/web:9" in reason


async def test_a_hibernation_whose_server_died_is_recorded_with_its_cause_and_actor(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest, settle_round: Round
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", hibernated_from=3)  # its patch landed, its records did not
    simulator.add_cronjob(NS, "web-report", "web", annotations={"hibernia.io/original-suspend": "false"}, suspend=True)
    await _plant(database, operation="hibernate", actor="alice")

    assert await _judging(settle_round) == 1

    assert await records(database) == {"web": (3, None, "alice"), "web-report": (None, False, "alice")}
    [settled] = await _transitions(database)
    assert (settled["cause"], settled["actor"], settled["to"]) == ("HIBERNATE", "alice", "HIBERNATING")
    assert (await unhibernate(graphql))["outcome"] == "APPLIED"
    assert replicas(simulator, NS, "web") == 3
    assert simulator.get("CronJob", NS, "web-report")["spec"]["suspend"] is False


async def test_settling_waits_for_an_unreachable_cluster(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest, settle_round: Round
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 1, "team/web:2")
    await _plant(database, operation="deploy", actor="ci-bot", deployed_image="team/web:2")
    await simulator.go_offline()

    assert await _judging(settle_round) == 0
    assert await held_leases(database) == 1
    assert (await _deployments(database))["team/web:2"][0] == "RUNNING"

    await simulator.go_online()
    assert await settle_round() == 1
    assert (await _deployments(database))["team/web:2"][0] == "SUCCEEDED"
    assert await held_leases(database) == 0


async def test_a_live_servers_lease_is_left_alone(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest, settle_round: Round
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 1)
    await _plant(database, operation="hibernate", actor="alice", server_alive=True)

    assert await _judging(settle_round) == 0
    assert await held_leases(database) == 1
    busy = await deploy(graphql, "team/web:3")
    assert codes(busy) == ["OPERATION_IN_PROGRESS"]
    assert "running on server web-1 (pid 4242)" in busy["errors"][0]["message"]


async def test_a_change_whose_answer_was_lost_and_could_not_be_read_back_is_settled(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest, settle_round: Round
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment(NS, "web", "web", 3)
    # A 500 on the write may come after it was stored; the read back fails too.
    simulator.set_faults(error_rate=1, only_verbs=["patch", "get"])

    result = await hibernate(graphql)

    assert result["outcome"] == "FAILED" and codes(result) == ["CLUSTER_UNAVAILABLE"]
    assert "may have landed" in result["errors"][0]["message"]
    assert await held_leases(database) == 1, "left to settle, not freed"
    busy = await unhibernate(graphql)
    assert codes(busy) == ["OPERATION_IN_PROGRESS"]

    simulator.set_faults()
    assert await settle_round() == 1
    assert await held_leases(database) == 0
    assert await records(database) == {}, "the write had not landed: nothing is hibernated"
    assert (await hibernate(graphql))["outcome"] == "APPLIED"


async def test_a_deployment_left_without_an_outcome_or_a_lease_is_settled(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest, settle_round: Round
) -> None:
    await setup_app(graphql, simulator)
    async with database.engine.begin() as connection:
        target = (await connection.execute(select(AppEnvironment.id))).scalar_one()
        await connection.execute(
            insert(Deployment).values(
                app_environment_id=target, image="team/web:1", on_hibernated="REFUSE", outcome="RUNNING",
                actor="ci", started_at=utcnow() - timedelta(hours=1),
            )
        )  # fmt: skip

    assert await settle_round() == 1

    outcome, reason = (await _deployments(database))["team/web:1"]
    assert outcome == "FAILED" and reason is not None and "team/web:1" in reason
    assert await held_leases(database) == 0


def test_a_reduced_workload_keeps_its_record_and_a_restored_one_loses_it() -> None:
    def web(replicas: int, annotation: str | None) -> Workload:
        annotations = {} if annotation is None else {HIBERNATION_ANNOTATION: annotation}
        return Workload(WorkloadKind.DEPLOYMENT, "web", NS, "1", replicas, annotations=annotations)

    key = (WorkloadKind.DEPLOYMENT, "web")
    record = HibernationRecord(workload_kind=key[0], workload_name=key[1], original_replicas=3, actor="ci-bot")

    assert records_true_to([web(1, "3")], []) == RecordTruth({key: (3, None)}, set())
    assert records_true_to([web(1, "3")], [record]) == RecordTruth({}, set())
    assert records_true_to([web(3, None)], [record]) == RecordTruth({}, {key})
