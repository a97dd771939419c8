"""Faults for fault-tolerance tests: 409s, reset connections, late and dropped answers.

Each fault is driven over real HTTP: raw httpx where the exact wire behaviour matters (no answer
at all), the kubernetes-asyncio gateway where Hibernia's view of it matters.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from app.cluster.gateway import ClusterUnavailable, WorkloadConflict
from app.cluster.kubernetes_gateway import KubernetesGateway
from app.domain.workloads import WorkloadKind
from app.simulator import SimulatedCluster
from app.simulator.recording import APPLIED_UNANSWERED, CLIENT_GONE, CONNECTION_RESET
from app.simulator.resources import resource_for_kind

NS = "dev"
DEPLOYMENTS = f"/apis/apps/v1/namespaces/{NS}/deployments"
MERGE = {"Content-Type": "application/merge-patch+json"}
DEPLOYMENT = WorkloadKind.DEPLOYMENT


class _Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def server_warnings() -> Iterator[list[logging.LogRecord]]:
    """Warnings and errors the simulator's server logs (uvicorn's loggers do not propagate)."""
    handler = _Collected()
    loggers = [logging.getLogger(name) for name in ("uvicorn", "")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


async def _settled(simulator: SimulatedCluster, count: int) -> list[int]:
    """The statuses of the request log once it holds `count` requests (requests are recorded when
    their answer is settled, which for a client that gave up is a moment after it gave up)."""
    for _ in range(500):
        if len(simulator.requests) >= count:
            break
        await asyncio.sleep(0.01)
    return [r.status for r in simulator.requests]


def _version(simulator: SimulatedCluster, name: str = "web") -> str:
    version: str = simulator.get("Deployment", NS, name)["metadata"]["resourceVersion"]
    return version


def _names(simulator: SimulatedCluster) -> list[str]:
    items, _, _ = simulator.store.list(resource_for_kind("Deployment"), NS)
    return [item["metadata"]["name"] for item in items]


def _create_body(name: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "app", "image": "x:1"}]}},
        },
    }


async def test_conflict_next_answers_writes_409_and_changes_nothing(
    simulator: SimulatedCluster, http: httpx.AsyncClient, gateway: KubernetesGateway
) -> None:
    simulator.add_deployment(NS, "web", "web", 2)
    before = _version(simulator)
    assert (await http.patch("/_simulator/faults", json={"conflict_next": 3})).json()["conflict_next"] == 3

    assert (await http.get(f"{DEPLOYMENTS}/web")).status_code == 200, "reads are never conflicted"
    conflict = await http.patch(f"{DEPLOYMENTS}/web", json={"spec": {"replicas": 5}}, headers=MERGE)
    assert conflict.status_code == 409
    body = conflict.json()
    assert (body["kind"], body["status"], body["reason"], body["code"]) == ("Status", "Failure", "Conflict", 409)
    assert body["message"] == (
        'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    assert body["details"] == {"name": "web", "group": "apps", "kind": "deployments"}
    created = await http.post(DEPLOYMENTS, json=_create_body("api"))
    assert (created.status_code, created.json()["details"]["name"]) == (409, "api")

    with pytest.raises(WorkloadConflict) as raised:
        await gateway.patch_workload(NS, DEPLOYMENT, "web", {"spec": {"replicas": 5}}, resource_version=before)
    assert not raised.value.already_exists
    assert _version(simulator) == before and simulator.get("Deployment", NS, "web")["spec"]["replicas"] == 2
    assert simulator.count("create", "Deployment") == 1 and _names(simulator) == ["web"]
    assert simulator.faults.conflict_next == 0
    patched = await gateway.patch_workload(NS, DEPLOYMENT, "web", {"spec": {"replicas": 5}}, resource_version=before)
    assert patched.desired_replicas == 5
    assert [(r.verb, r.status) for r in simulator.requests] == [
        ("get", 200),
        ("patch", 409),
        ("create", 409),
        ("patch", 409),
        ("patch", 200),
    ]


async def test_conflict_rate_obeys_only_verbs_and_only_namespaces(
    simulator: SimulatedCluster, http: httpx.AsyncClient
) -> None:
    simulator.add_deployment(NS, "web", "web", 1)
    simulator.add_deployment("prod", "web", "web", 1)
    simulator.set_faults(conflict_rate=1.0, only_verbs=["patch"], only_namespaces=[NS])
    assert (await http.patch(f"{DEPLOYMENTS}/web", json={}, headers=MERGE)).status_code == 409
    prod = await http.patch("/apis/apps/v1/namespaces/prod/deployments/web", json={}, headers=MERGE)
    assert prod.status_code == 200
    assert (await http.delete(f"{DEPLOYMENTS}/web")).status_code == 200, "delete is not in only_verbs"

    simulator.set_faults(conflict_rate=0.5, seed=7)
    simulator.add_deployment(NS, "web", "web", 1)
    first = [(await http.patch(f"{DEPLOYMENTS}/web", json={}, headers=MERGE)).status_code for _ in range(20)]
    simulator.set_faults(conflict_rate=0.5, seed=7)
    second = [(await http.patch(f"{DEPLOYMENTS}/web", json={}, headers=MERGE)).status_code for _ in range(20)]
    assert first == second and set(first) == {200, 409}


async def test_reset_drops_the_connection_before_anything_is_applied(
    simulator: SimulatedCluster,
    http: httpx.AsyncClient,
    make_gateway: Callable[..., KubernetesGateway],
    server_warnings: list[logging.LogRecord],
) -> None:
    simulator.add_deployment(NS, "web", "web", 2)
    before = _version(simulator)
    simulator.faults.reset_next = 1
    with pytest.raises(httpx.TransportError):
        await http.patch(f"{DEPLOYMENTS}/web", json={"spec": {"replicas": 5}}, headers=MERGE)
    assert _version(simulator) == before
    assert simulator.get("Deployment", NS, "web")["spec"]["replicas"] == 2

    # aiohttp itself retries a request of an idempotent method (GET, PUT, DELETE) once on a new
    # connection after a reset, whatever the gateway's retries; a create (POST) it does not.
    gateway = make_gateway(max_retries=0)
    simulator.set_faults(reset_next=1)
    assert (await gateway.get_workload(NS, DEPLOYMENT, "web")).desired_replicas == 2
    simulator.set_faults(reset_next=1)
    with pytest.raises(ClusterUnavailable, match="cannot reach"):
        await gateway.create_deployment(NS, "api", "api", "api:1", 1, "api")
    assert _names(simulator) == ["web"]
    assert [(r.verb, r.status) for r in simulator.requests] == [
        ("patch", CONNECTION_RESET),
        ("get", CONNECTION_RESET),
        ("get", 200),
        ("create", CONNECTION_RESET),
    ]
    assert server_warnings == []


async def test_reset_rate_applies_to_every_verb_it_is_given(
    simulator: SimulatedCluster, http: httpx.AsyncClient
) -> None:
    simulator.set_faults(reset_rate=1.0, only_verbs=["list"])
    with pytest.raises(httpx.TransportError):
        await http.get(DEPLOYMENTS)
    assert (await http.get(f"{DEPLOYMENTS}/web")).status_code == 404
    assert [(r.verb, r.status) for r in simulator.requests] == [("list", CONNECTION_RESET), ("get", 404)]


async def test_a_dropped_answer_is_a_write_that_landed_without_an_answer(
    simulator: SimulatedCluster,
    http: httpx.AsyncClient,
    gateway: KubernetesGateway,
    server_warnings: list[logging.LogRecord],
) -> None:
    simulator.add_deployment(NS, "web", "web", 2)
    before = _version(simulator)
    (await http.patch("/_simulator/faults", json={"dropped_answer_next": 1})).raise_for_status()
    with pytest.raises(httpx.TransportError):
        await http.patch(f"{DEPLOYMENTS}/web", json={"spec": {"replicas": 5}}, headers=MERGE)
    web = simulator.get("Deployment", NS, "web")
    assert web["spec"]["replicas"] == 5 and web["metadata"]["resourceVersion"] != before

    simulator.set_faults(dropped_answer_next=1)
    with pytest.raises(ClusterUnavailable):
        await gateway.create_deployment(NS, "api", "api", "api:1", 1, "api")
    assert _names(simulator) == ["api", "web"], "the create landed"

    # A write that fails gets no answer either, and changed nothing.
    simulator.set_faults(dropped_answer_next=1)
    with pytest.raises(httpx.TransportError):
        await http.patch(f"{DEPLOYMENTS}/web", json={"spec": {"replicas": -1}}, headers=MERGE)
    assert (await http.get(f"{DEPLOYMENTS}/web")).json()["spec"]["replicas"] == 5
    assert [(r.verb, r.status) for r in simulator.requests] == [
        ("patch", APPLIED_UNANSWERED),
        ("create", APPLIED_UNANSWERED),
        ("patch", CONNECTION_RESET),
        ("get", 200),
    ]
    assert server_warnings == []


async def test_a_late_answer_lands_at_once_and_loses_to_the_client_timeout(
    simulator: SimulatedCluster,
    make_gateway: Callable[..., KubernetesGateway],
    server_warnings: list[logging.LogRecord],
) -> None:
    simulator.add_deployment(NS, "web", "web", 2)
    before = _version(simulator)
    simulator.set_faults(late_answer_next=1)
    assert simulator.faults.late_answer_seconds == 30
    gateway = make_gateway(timeout=0.5)
    with pytest.raises(ClusterUnavailable, match="did not answer within"):
        await gateway.patch_workload(NS, DEPLOYMENT, "web", {"spec": {"replicas": 4}}, resource_version=before)
    assert simulator.get("Deployment", NS, "web")["spec"]["replicas"] == 4
    assert await _settled(simulator, 1) == [APPLIED_UNANSWERED]
    assert server_warnings == [], "a client that gives up is no error of the server"


async def test_a_late_answer_is_held_and_then_delivered(simulator: SimulatedCluster, http: httpx.AsyncClient) -> None:
    simulator.add_deployment(NS, "web", "web", 2)
    simulator.set_faults(late_answer_next=1)
    held = asyncio.create_task(http.patch(f"{DEPLOYMENTS}/web", json={"spec": {"replicas": 3}}, headers=MERGE))
    for _ in range(500):
        if simulator.get("Deployment", NS, "web")["spec"]["replicas"] == 3:
            break
        await asyncio.sleep(0.01)
    assert simulator.get("Deployment", NS, "web")["spec"]["replicas"] == 3, "applied before the answer"
    assert not held.done() and simulator.requests == []
    held.cancel()
    assert await _settled(simulator, 1) == [APPLIED_UNANSWERED]

    # A failed write held late changes nothing: a client that gives up saw nothing happen.
    simulator.clear_requests()
    simulator.set_faults(late_answer_next=1, late_answer_seconds=0.05)
    invalid = await http.patch(f"{DEPLOYMENTS}/web", json={"spec": {"replicas": -1}}, headers=MERGE)
    assert invalid.status_code == 422
    simulator.set_faults(late_answer_next=1, late_answer_seconds=0.05)
    answered = await http.patch(f"{DEPLOYMENTS}/web", json={"spec": {"replicas": 1}}, headers=MERGE)
    assert answered.status_code == 200 and answered.json()["spec"]["replicas"] == 1
    simulator.set_faults(late_answer_next=1)
    gone = asyncio.create_task(http.patch(f"{DEPLOYMENTS}/web", json={"spec": {"replicas": -2}}, headers=MERGE))
    await asyncio.sleep(0.1)
    gone.cancel()
    assert await _settled(simulator, 3) == [422, 200, CLIENT_GONE]


async def test_going_offline_ends_held_answers(simulator: SimulatedCluster, http: httpx.AsyncClient) -> None:
    simulator.add_deployment(NS, "web", "web", 2)
    simulator.set_faults(late_answer_next=1)
    held = asyncio.create_task(http.patch(f"{DEPLOYMENTS}/web", json={"spec": {"replicas": 3}}, headers=MERGE))
    for _ in range(500):
        if simulator.get("Deployment", NS, "web")["spec"]["replicas"] == 3:
            break
        await asyncio.sleep(0.01)
    await simulator.go_offline()
    with pytest.raises(httpx.TransportError):
        await asyncio.wait_for(held, timeout=10)
    assert [r.status for r in simulator.requests] == [APPLIED_UNANSWERED]


async def test_the_new_knobs_are_checked(simulator: SimulatedCluster, http: httpx.AsyncClient) -> None:
    for bad in (
        {"conflict_rate": 1.5},
        {"reset_next": -1},
        {"late_answer_seconds": -1},
        {"late_answer_seconds": "30"},
        {"dropped_answer_next": 1.5},
        {"outage": "yes"},
        {"only_verbs": "patch"},
    ):
        answer = await http.patch("/_simulator/faults", json=bad)
        assert answer.status_code == 400, bad
        assert next(iter(bad)) in answer.json()["error"]
    assert (await http.get("/_simulator/faults")).json() == simulator.faults.to_json()
    assert simulator.faults.conflict_rate == 0
    with pytest.raises(ValueError, match="reset_rate"):
        simulator.set_faults(reset_rate=2)
    knobs = (await http.put("/_simulator/faults", json={"late_answer_next": 2, "late_answer_seconds": 5})).json()
    assert (knobs["late_answer_next"], knobs["late_answer_seconds"], knobs["dropped_answer_rate"]) == (2, 5.0, 0.0)
