"""The fault matrix: every operation, under every fault, on every verb, leaves the truth.

For hibernate, unhibernate, deploy (REFUSE on an awake app, SKIP and WAKE on a hibernated one) and
the three bulk operations, with each fault (500, 429 with Retry-After, latency past the client's
timeout, 409, a connection reset before the request is applied, an answer dropped after the write
landed; and an outage of the whole API) on each verb (get, list, patch, create): once the fault is
healed and the reconciler has had its round (what a server does on its own within seconds),
- a hibernation record exists exactly when its workload is hibernated in the cluster, with the
  original the cluster carries;
- the recorded status equals a fresh live read;
- no lease is held and no deployment is RUNNING or UNCONFIRMED;
- running the same request again finishes the job.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.cluster.registry import ClusterRegistry
from app.config import Settings
from app.db.models import App, AppEnvironment, Deployment, HibernationRecord
from app.domain.workloads import HIBERNATION_ANNOTATION, SUSPEND_ANNOTATION
from app.main import create_app
from app.simulator import SimulatedCluster
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.graphql import GraphQLClient
from tests.schema.live_helpers import add_app, add_environment, attach, register_simulator
from tests.schema.operation_helpers import (
    DEPLOY,
    DEPLOY_MANY,
    HIBERNATE,
    HIBERNATE_MANY,
    UNHIBERNATE,
    UNHIBERNATE_MANY,
    held_leases,
)

NS = "team-dev"
IMAGE = "team/app:2"

FAULTS: dict[str, dict[str, Any]] = {
    "500": {"error_rate": 1.0},
    "429": {"throttle_rate": 1.0, "retry_after_seconds": 0.05},
    "latency": {"latency_seconds": 1.0},  # the client gives up after 0.4 s
    "409": {"conflict_rate": 1.0},
    "reset": {"reset_rate": 1.0},
    "dropped": {"dropped_answer_rate": 1.0},
}
VERBS = ["get", "list", "patch", "create"]
# What the simulator's request log says of a request the fault met (app/simulator/recording.py).
MET = {"500": 500, "429": 429, "latency": 499, "409": 409, "reset": 444, "dropped": 299, "outage": 503}
WRITE_ONLY = {"409", "dropped"}
CASES = [(fault, verb) for fault in FAULTS for verb in VERBS] + [("outage", "all")]

# operation -> (document, input, which apps start hibernated)
OPERATIONS: dict[str, tuple[str, dict[str, Any], set[str]]] = {
    "hibernate": (HIBERNATE, {"app": "web", "environment": "dev"}, set()),
    "unhibernate": (UNHIBERNATE, {"app": "web", "environment": "dev"}, {"web"}),
    "deploy-refuse": (DEPLOY, {"app": "api", "environment": "dev", "image": IMAGE, "onHibernated": "REFUSE"}, set()),
    "deploy-skip": (DEPLOY, {"app": "web", "environment": "dev", "image": IMAGE, "onHibernated": "SKIP"}, {"web"}),
    "deploy-wake": (DEPLOY, {"app": "web", "environment": "dev", "image": IMAGE, "onHibernated": "WAKE"}, {"web"}),
    "hibernate-many": (HIBERNATE_MANY, {"environment": "dev", "apps": ["web", "api"]}, set()),
    "unhibernate-many": (UNHIBERNATE_MANY, {"environment": "dev", "apps": ["web", "api"]}, {"web", "api"}),
    "deploy-many": (
        DEPLOY_MANY,
        {"environment": "dev", "apps": ["web", "api", "new"], "image": IMAGE, "onHibernated": "SKIP"},
        {"web"},
    ),
}


async def _catalog(graphql: GraphQLClient, simulator: SimulatedCluster, hibernated: set[str]) -> None:
    await register_simulator(graphql, simulator)
    await add_environment(graphql, "dev", NS)
    for app, replicas in (("web", 3), ("api", 2), ("new", 1)):
        await add_app(graphql, app, [])
        await attach(graphql, app, "dev", replicas=replicas)
    simulator.add_deployment(NS, "web", "web", 3, "team/app:1")
    simulator.add_statefulset(NS, "web-db", "web", 2)
    simulator.add_cronjob(NS, "web-report", "web")
    simulator.add_deployment(NS, "api", "api", 2, "team/app:1")
    for app in sorted(hibernated):
        data = await graphql.query(HIBERNATE, {"input": {"app": app, "environment": "dev"}})
        assert data["hibernate"]["outcome"] == "APPLIED"
    # Start from recorded statuses that are true (a live read records what it sees).
    await graphql.query('{ appStatuses(environment: "dev") { status } }')


def _hibernated_in_cluster(kind: str, obj: dict[str, Any]) -> int | bool | None:
    """What the cluster says hibernation keeps for this workload, or None when it is not hibernated."""
    annotations = obj["metadata"].get("annotations") or {}
    if kind == "CronJob":
        suspended = obj["spec"].get("suspend") is True
        return False if suspended and SUSPEND_ANNOTATION in annotations else None
    original = annotations.get(HIBERNATION_ANNOTATION, "")
    if obj["spec"].get("replicas") == 0 and original.isdigit() and int(original) > 0:
        return int(original)
    return None


async def _check_the_truth(
    client: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest, case: str
) -> None:
    async with database.engine.connect() as connection:
        rows = await connection.execute(
            select(
                HibernationRecord.workload_kind,
                HibernationRecord.workload_name,
                HibernationRecord.original_replicas,
                HibernationRecord.original_suspend,
            )
        )
        recorded = {
            (str(kind), name): suspend if replicas is None else replicas for kind, name, replicas, suspend in rows
        }
        statuses = dict((await connection.execute(select(App.name, AppEnvironment.status).join(AppEnvironment))).all())
        unsettled = (
            await connection.execute(select(Deployment.id).where(Deployment.outcome.in_(["RUNNING", "UNCONFIRMED"])))
        ).all()
    in_cluster: dict[tuple[str, str], int | bool] = {}
    for kind in ("Deployment", "StatefulSet", "CronJob"):
        for name in ("web", "web-db", "web-report", "api", "new"):
            try:
                obj = simulator.get(kind, NS, name)
            except Exception:
                continue
            kept = _hibernated_in_cluster(kind, obj)
            if kept is not None:
                in_cluster[(kind, name)] = kept
    assert recorded == in_cluster, f"{case}: records {recorded} but the cluster {in_cluster}"
    assert await held_leases(database) == 0, f"{case}: a lease is still held"
    assert unsettled == [], f"{case}: deployments without an outcome"
    for app in ("web", "api", "new"):
        live = await client.query(
            'query($a: String!) { appStatus(app: $a, environment: "dev") { status } }', {"a": app}
        )
        now, then = live["appStatus"]["status"], str(statuses[app])
        # A rollout recorded as under way may have ended since (the simulator rolls out at once):
        # time moved on, nothing was misrecorded.
        moved_on = then in ("WAKING", "PROGRESSING") and now == "HEALTHY"
        assert then == now or moved_on, f"{case}: {app} recorded {then}, live {now}"


def _image(simulator: SimulatedCluster, name: str) -> str | None:
    try:
        obj = simulator.get("Deployment", NS, name)
    except Exception:
        return None
    image: str = obj["spec"]["template"]["spec"]["containers"][0]["image"]
    return image


def _replicas(simulator: SimulatedCluster, kind: str, name: str) -> int:
    value: int = simulator.get(kind, NS, name)["spec"]["replicas"]
    return value


def _check_done(operation: str, simulator: SimulatedCluster) -> None:
    asleep = {
        "hibernate": {"web"},
        "unhibernate": set(),
        "deploy-refuse": set(),
        "deploy-skip": {"web"},
        "deploy-wake": set(),
        "hibernate-many": {"web", "api"},
        "unhibernate-many": set(),
        "deploy-many": {"web"},
    }[operation]
    for app, kind, name, awake in (
        ("web", "Deployment", "web", 3),
        ("web", "StatefulSet", "web-db", 2),
        ("api", "Deployment", "api", 2),
    ):
        assert _replicas(simulator, kind, name) == (0 if app in asleep else awake), (operation, name)
    assert simulator.get("CronJob", NS, "web-report")["spec"]["suspend"] is ("web" in asleep)
    deployed = {
        "deploy-refuse": {"api"},
        "deploy-wake": {"web"},
        "deploy-many": {"api", "new"},
    }.get(operation, set())
    for name in ("web", "api", "new"):
        assert (_image(simulator, name) == IMAGE) == (name in deployed), (operation, name)


@pytest.fixture
async def impatient(database: DatabaseUnderTest, settings: Settings) -> AsyncIterator[GraphQLClient]:
    """A server whose cluster calls give up after 0.4 s, with cluster clients of its own."""
    quick = settings.model_copy(update={"cluster_timeout_seconds": 0.4})
    registry = ClusterRegistry(quick)
    app = create_app(quick, engine=database.engine, registry=registry)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hibernia.test") as http:
            yield GraphQLClient(http)
    finally:
        await registry.close()


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize(("fault", "verb"), CASES)
async def test_an_operation_under_a_fault_leaves_the_truth_and_a_rerun_finishes(
    graphql: GraphQLClient,
    simulator: SimulatedCluster,
    database: DatabaseUnderTest,
    impatient: GraphQLClient,
    settle_round: Callable[[], Awaitable[int]],
    operation: str,
    fault: str,
    verb: str,
) -> None:
    document, variables, hibernated = OPERATIONS[operation]
    await _catalog(graphql, simulator, hibernated)
    simulator.clear_requests()
    if fault == "outage":
        simulator.set_faults(outage=True)
    else:
        simulator.set_faults(**FAULTS[fault], only_verbs=[verb])

    faulted = await impatient.post(document, {"input": variables})
    assert "errors" not in faulted, f"expected failures are payload errors: {faulted}"
    used = [r for r in simulator.requests if verb == "all" or r.verb == verb]
    if used and not (fault in WRITE_ONLY and verb in ("get", "list")):
        assert any(r.status == MET[fault] for r in used), f"the fault never met the operation: {used}"

    simulator.set_faults()
    for _ in range(5):
        if await held_leases(database) == 0:
            break
        await settle_round()
    case = f"{operation} with {fault} on {verb}"
    await _check_the_truth(graphql, simulator, database, case)

    rerun = await graphql.query(document, {"input": variables})
    payload = next(iter(rerun.values()))
    errors = payload["errors"] + [e for r in payload.get("results", []) for e in r["errors"]]
    assert all(e["code"] == "APP_HIBERNATED" for e in errors), f"{case}: the rerun failed: {errors}"
    _check_done(operation, simulator)
    await _check_the_truth(graphql, simulator, database, f"{case}, rerun")
