"""The simulated controllers: rollouts over time, stuck workloads, HPAs."""

from __future__ import annotations

import asyncio
from typing import Any

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
