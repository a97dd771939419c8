"""The simulated controllers: rollouts over time, status churn, stuck workloads, HPAs."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from app.cluster.gateway import WorkloadConflict
from app.cluster.kubernetes_gateway import KubernetesGateway
from app.domain.workloads import WorkloadKind
from app.simulator import SimulatedCluster
from app.simulator.controller import Controller
from app.simulator.manifests import deployment_manifest, statefulset_manifest
from app.simulator.patches import MERGE_PATCH, STRATEGIC_MERGE_PATCH
from app.simulator.resources import DEPLOYMENTS, STATEFUL_SETS
from app.simulator.store import ObjectStore


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _status(store: ObjectStore, name: str = "web") -> dict[str, Any]:
    status: dict[str, Any] = store.get(DEPLOYMENTS, "dev", name)["status"]
    return status


def _condition(status: dict[str, Any], kind: str) -> tuple[str, str]:
    [condition] = [c for c in status["conditions"] if c["type"] == kind]
    return condition["status"], condition["reason"]


def test_a_rollout_moves_replicas_toward_the_spec_over_rollout_seconds() -> None:
    store, clock = ObjectStore(), FakeClock()
    controller = Controller(store, rollout_seconds=10, clock=clock)
    store.create(DEPLOYMENTS, "dev", deployment_manifest("dev", "web", "web", 4))
    controller.tick()
    status = _status(store)
    assert status["observedGeneration"] == 1
    assert "readyReplicas" not in status, "zero counters are omitted, as by the API server"
    assert _condition(status, "Progressing") == ("True", "ReplicaSetUpdated")
    assert _condition(status, "Available") == ("False", "MinimumReplicasUnavailable")

    clock.now = 5
    controller.tick()
    assert (_status(store)["readyReplicas"], _status(store)["unavailableReplicas"]) == (2, 2)

    clock.now = 10
    controller.tick()
    status = _status(store)
    assert (status["replicas"], status["readyReplicas"], status["availableReplicas"], status["updatedReplicas"]) == (
        4,
        4,
        4,
        4,
    )
    assert _condition(status, "Progressing") == ("True", "NewReplicaSetAvailable")
    assert _condition(status, "Available") == ("True", "MinimumReplicasAvailable")

    # A new image: pods are replaced, readiness stays, updated replicas climb from 0.
    store.patch(
        DEPLOYMENTS,
        "dev",
        "web",
        STRATEGIC_MERGE_PATCH,
        {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.28"}]}}}},
    )
    controller.tick()
    status = _status(store)
    assert (status["observedGeneration"], status["readyReplicas"], status.get("updatedReplicas", 0)) == (2, 4, 0)
    clock.now = 15
    controller.tick()
    assert _status(store)["updatedReplicas"] == 2
    clock.now = 20
    controller.tick()
    assert _condition(_status(store), "Progressing") == ("True", "NewReplicaSetAvailable")

    # Hibernation: down to zero.
    store.patch(DEPLOYMENTS, "dev", "web", MERGE_PATCH, {"spec": {"replicas": 0}})
    clock.now = 30
    controller.tick()
    status = _status(store)
    assert "readyReplicas" not in status and "replicas" not in status
    assert _condition(status, "Available") == ("True", "MinimumReplicasAvailable")


def test_a_stuck_workload_exceeds_its_progress_deadline_and_recovers() -> None:
    store, clock = ObjectStore(), FakeClock()
    controller = Controller(store, rollout_seconds=10, clock=clock)
    store.create(DEPLOYMENTS, "dev", deployment_manifest("dev", "web", "web", 2))
    store.create(STATEFUL_SETS, "dev", statefulset_manifest("dev", "db", "web", 1))
    controller.set_stuck({"dev/web", "dev/db"})
    controller.tick()
    assert _condition(_status(store), "Progressing") == ("True", "ReplicaSetUpdated")
    clock.now = 10
    controller.tick()
    status = _status(store)
    assert _condition(status, "Progressing") == ("False", "ProgressDeadlineExceeded")
    assert (status["replicas"], status.get("readyReplicas", 0)) == (2, 0)
    assert store.get(STATEFUL_SETS, "dev", "db")["status"].get("readyReplicas", 0) == 0

    controller.set_stuck(set())
    clock.now = 20
    controller.tick()
    assert _condition(_status(store), "Progressing") == ("True", "NewReplicaSetAvailable")
    assert store.get(STATEFUL_SETS, "dev", "db")["status"]["readyReplicas"] == 1


async def test_the_controller_task_finishes_rollouts_in_real_time() -> None:
    async with SimulatedCluster(rollout_seconds=0.2) as cluster:
        cluster.add_deployment("dev", "web", "web", 3)
        async with KubernetesGateway.from_server(cluster.url, timeout=2) as gateway:
            web = await gateway.get_workload("dev", WorkloadKind.DEPLOYMENT, "web")
            for _ in range(200):
                if web.ready_replicas == 3:
                    break
                await asyncio.sleep(0.02)
                web = await gateway.get_workload("dev", WorkloadKind.DEPLOYMENT, "web")
            assert (web.ready_replicas, web.observed_generation, web.progress_deadline_exceeded) == (3, 1, False)


async def test_a_slow_rollout_is_seen_in_progress() -> None:
    async with SimulatedCluster(rollout_seconds=600) as cluster:
        cluster.add_deployment("dev", "web", "web", 3)
        async with KubernetesGateway.from_server(cluster.url, timeout=2) as gateway:
            web = await gateway.get_workload("dev", WorkloadKind.DEPLOYMENT, "web")
    assert web.desired_replicas == 3
    assert web.ready_replicas < 3


def test_status_churn_bumps_the_resource_version_during_a_rollout_only() -> None:
    store, clock = ObjectStore(), FakeClock()
    controller = Controller(store, rollout_seconds=10, clock=clock, status_churn_seconds=1)
    store.create(DEPLOYMENTS, "dev", deployment_manifest("dev", "web", "web", 2))
    controller.tick()
    versions: list[int] = []
    for step in range(1, 20):
        clock.now = step * 0.5
        controller.tick()
        web = store.get(DEPLOYMENTS, "dev", "web")
        assert (web["metadata"]["generation"], web["status"]["observedGeneration"]) == (1, 1)
        versions.append(int(web["metadata"]["resourceVersion"]))
    # Two counters move in 10 s; the churn writes at least once a second besides.
    assert len(set(versions)) >= 9
    assert all(later > earlier for earlier, later in zip(versions[::2], versions[2::2], strict=False))

    clock.now = 10
    controller.tick()
    done = store.get(DEPLOYMENTS, "dev", "web")["metadata"]["resourceVersion"]
    for step in range(1, 5):
        clock.now = 10 + step
        controller.tick()
    assert store.get(DEPLOYMENTS, "dev", "web")["metadata"]["resourceVersion"] == done, "no churn at rest"


async def test_status_churn_makes_a_guarded_write_conflict_without_a_spec_change() -> None:
    async with SimulatedCluster(rollout_seconds=0, status_churn_seconds=0.01) as cluster:
        # Created at rest (an immediate rollout has no churn); the wake's rollout then takes 2 s.
        cluster.add_deployment("dev", "web", "web", 0)
        cluster.controller.rollout_seconds = 2
        async with KubernetesGateway.from_server(cluster.url, timeout=2) as gateway:
            web = await gateway.get_workload("dev", WorkloadKind.DEPLOYMENT, "web")
            woken = await gateway.patch_workload(
                "dev", WorkloadKind.DEPLOYMENT, "web", {"spec": {"replicas": 3}}, resource_version=web.resource_version
            )
            seen = {woken.resource_version}
            while len(seen) < 4:
                await asyncio.sleep(0.02)
                now = await gateway.get_workload("dev", WorkloadKind.DEPLOYMENT, "web")
                assert now.generation == woken.generation
                seen.add(now.resource_version)
            with pytest.raises(WorkloadConflict):
                await gateway.patch_workload(
                    "dev",
                    WorkloadKind.DEPLOYMENT,
                    "web",
                    {"metadata": {"labels": {"x": "y"}}},
                    resource_version=woken.resource_version,
                )


async def test_controller_timings_through_the_admin_endpoint(
    simulator: SimulatedCluster, http: httpx.AsyncClient
) -> None:
    assert (await http.get("/_simulator/controller")).json() == {"rollout_seconds": 0.0, "status_churn_seconds": 0.0}
    patched = await http.patch("/_simulator/controller", json={"rollout_seconds": 600, "status_churn_seconds": 0.5})
    assert patched.json() == {"rollout_seconds": 600.0, "status_churn_seconds": 0.5}
    simulator.add_deployment("dev", "web", "web", 3)
    web = (await http.get("/apis/apps/v1/namespaces/dev/deployments/web")).json()
    assert web["status"].get("readyReplicas", 0) < 3, "rollouts now take time"
    replaced = await http.put("/_simulator/controller", json={"status_churn_seconds": 0.1})
    assert replaced.json() == {"rollout_seconds": 0.0, "status_churn_seconds": 0.1}, "PUT: missing ones as built"
    for bad in ({"rollout_seconds": -1}, {"status_churn_seconds": "1"}, {"speed": 2}, {"rollout_seconds": True}):
        answer = await http.patch("/_simulator/controller", json=bad)
        assert answer.status_code == 400 and next(iter(bad)) in answer.json()["error"], bad
    simulator.controller.rollout_seconds = 5
    await http.post("/_simulator/reset")
    assert (await http.get("/_simulator/controller")).json() == {"rollout_seconds": 0.0, "status_churn_seconds": 0.0}
