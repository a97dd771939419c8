"""A tiny stand-in for the deployment, statefulset and HPA controllers.

On every spec change of a Deployment or StatefulSet the controller starts a *rollout*: over
`rollout_seconds` it moves `status.replicas`, `readyReplicas`, `availableReplicas` and
`updatedReplicas` linearly from where they were toward `spec.replicas` (`updatedReplicas` starts
from 0 when the pod template changed), sets `observedGeneration` at once, and keeps the Deployment
conditions up to date:

- `Progressing`: True/`ReplicaSetUpdated` while rolling, True/`NewReplicaSetAvailable` when done,
  False/`ProgressDeadlineExceeded` for a stuck workload whose deadline passed;
- `Available`: True/`MinimumReplicasAvailable` when available ≥ desired, else
  False/`MinimumReplicasUnavailable`.

With `rollout_seconds == 0` the controller works synchronously inside the write that changed the
spec, so a read right after a write sees the finished rollout: deterministic for tests. Otherwise
an asyncio task ticks while rollouts are under way.

A *stuck* workload (`namespace/name`, see `set_stuck`) never gets ready pods: with desired replicas
> 0 its ready and available replicas stay 0, and once `rollout_seconds` have passed since its
rollout began (at once when 0) its Progressing condition turns ProgressDeadlineExceeded. The
simulator uses `rollout_seconds` as the progress deadline so tests do not wait 600 s.

HorizontalPodAutoscalers are reconciled on every change of the HPA or its target: a target at 0
replicas is left alone (scaling disabled, as Kubernetes does), otherwise its replicas are clamped
into [minReplicas, maxReplicas].
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.simulator.errors import ApiError
from app.simulator.resources import DEPLOYMENTS, HORIZONTAL_POD_AUTOSCALERS, STATEFUL_SETS, ResourceType
from app.simulator.store import ChangeEvent, ObjectStore

RolloutKey = tuple[ResourceType, str, str]


@dataclass(slots=True)
class _Rollout:
    started: float
    generation: int
    start_replicas: int
    start_ready: int
    start_updated: int


def _now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _toward(start: int, target: int, fraction: float) -> int:
    """Linear progress from start to target, never overshooting and exact at fraction 1."""
    if fraction >= 1:
        return target
    return start + int((target - start) * fraction)


def _template_hash(obj: dict[str, Any]) -> str:
    template = (obj.get("spec") or {}).get("template")
    return json.dumps(template, sort_keys=True)


class Controller:
    """Reconciles workload status and HPAs for one `ObjectStore`."""

    def __init__(
        self,
        store: ObjectStore,
        rollout_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.rollout_seconds = max(0.0, float(rollout_seconds))
        self._clock = clock
        self._stuck: set[str] = set()
        self._rollouts: dict[RolloutKey, _Rollout] = {}
        self._templates: dict[RolloutKey, str] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        store.subscribe(self._on_change)

    # ---- knobs -------------------------------------------------------------------------------

    @property
    def immediate(self) -> bool:
        return self.rollout_seconds == 0

    @property
    def stuck(self) -> frozenset[str]:
        return frozenset(self._stuck)

    def set_stuck(self, workloads: set[str] | frozenset[str] | list[str]) -> None:
        """Make the named workloads (`namespace/name`) stuck; every other one recovers."""
        wanted = set(workloads)
        changed = wanted ^ self._stuck
        self._stuck = wanted
        for rt in (DEPLOYMENTS, STATEFUL_SETS):
            for namespace, name in self.store.keys(rt):
                if f"{namespace}/{name}" in changed:
                    obj = self.store.find(rt, namespace, name)
                    if obj is not None:
                        self._begin((rt, namespace, name), obj)
                        self._after_begin((rt, namespace, name))

    def reset(self) -> None:
        self.set_stuck(set())

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None and not self.immediate:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="simulator-controller")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        interval = min(0.05, max(0.01, self.rollout_seconds / 20))
        while True:
            if not self._rollouts:
                await self._wake.wait()
            self._wake.clear()
            self.tick()
            await asyncio.sleep(interval)

    def tick(self) -> None:
        """Advance every rollout under way (called by the task; public for tests)."""
        for key in list(self._rollouts):
            self._reconcile(key)

    # ---- events ------------------------------------------------------------------------------

    def _on_change(self, event: ChangeEvent) -> None:
        key = (event.resource, event.namespace, event.name)
        if event.obj is None:
            self._rollouts.pop(key, None)
            self._templates.pop(key, None)
            return
        if not event.spec_changed:
            return
        if event.resource is HORIZONTAL_POD_AUTOSCALERS:
            self._reconcile_hpa(event.namespace, event.name)
            return
        if event.resource not in (DEPLOYMENTS, STATEFUL_SETS):
            return
        self._begin(key, event.obj)
        for namespace, name in self.store.keys(HORIZONTAL_POD_AUTOSCALERS):
            if namespace == event.namespace:
                self._reconcile_hpa(namespace, name, only_target=(event.resource.kind, event.name))
        self._after_begin(key)

    def _begin(self, key: RolloutKey, obj: dict[str, Any]) -> None:
        status = obj.get("status") or {}
        template = _template_hash(obj)
        template_changed = self._templates.get(key) != template
        self._templates[key] = template
        replicas = int(status.get("replicas", 0))
        self._rollouts[key] = _Rollout(
            started=self._clock(),
            generation=int(obj["metadata"].get("generation", 1)),
            start_replicas=replicas,
            start_ready=int(status.get("readyReplicas", 0)),
            start_updated=0 if template_changed else int(status.get("updatedReplicas", replicas)),
        )

    def _after_begin(self, key: RolloutKey) -> None:
        if self.immediate:
            self._reconcile(key)
        else:
            self._wake.set()

    # ---- workloads ---------------------------------------------------------------------------

    def _reconcile(self, key: RolloutKey) -> None:
        rt, namespace, name = key
        rollout = self._rollouts.get(key)
        obj = self.store.find(rt, namespace, name)
        if rollout is None or obj is None:
            self._rollouts.pop(key, None)
            return
        spec = obj.get("spec") or {}
        target = int(spec.get("replicas", 1))
        elapsed = self._clock() - rollout.started
        fraction = 1.0 if self.immediate else min(1.0, elapsed / self.rollout_seconds)
        stuck = f"{namespace}/{name}" in self._stuck and target > 0
        # Scaling up creates the pods at once and they become ready over time; scaling down
        # removes them over time.
        replicas = target if target >= rollout.start_replicas else _toward(rollout.start_replicas, target, fraction)
        updated = min(_toward(rollout.start_updated, target, fraction), replicas)
        ready = min(_toward(rollout.start_ready, target, fraction), replicas)
        if stuck:
            replicas, updated, ready = target, target, 0
        done = fraction >= 1
        old_status = obj.get("status") or {}
        status: dict[str, Any] = {"observedGeneration": int(obj["metadata"].get("generation", 1))}
        counts = {
            "replicas": replicas,
            "updatedReplicas": updated,
            "readyReplicas": ready,
            "availableReplicas": ready,
        }
        if rt is STATEFUL_SETS:
            counts["currentReplicas"] = updated
        # The API server omits zero counters (omitempty), and so do we.
        status.update({field: value for field, value in counts.items() if value})
        if rt is DEPLOYMENTS:
            if replicas - ready > 0:
                status["unavailableReplicas"] = replicas - ready
            status["conditions"] = self._deployment_conditions(name, old_status, target, ready, stuck=stuck, done=done)
        else:
            status["replicas"] = replicas
        if status != old_status:
            try:
                self.store.write_status(rt, namespace, name, status)
            except ApiError:  # pragma: no cover - the object vanished under us
                self._rollouts.pop(key, None)
                return
        if done:
            self._rollouts.pop(key, None)

    @staticmethod
    def _condition(old_status: dict[str, Any], kind: str, status: str, reason: str, message: str) -> dict[str, Any]:
        for old in old_status.get("conditions") or []:
            if old.get("type") == kind and old.get("status") == status and old.get("reason") == reason:
                return dict(old)
        now = _now_text()
        return {
            "type": kind,
            "status": status,
            "lastUpdateTime": now,
            "lastTransitionTime": now,
            "reason": reason,
            "message": message,
        }

    def _deployment_conditions(
        self, name: str, old_status: dict[str, Any], target: int, ready: int, *, stuck: bool, done: bool
    ) -> list[dict[str, Any]]:
        replica_set = f'ReplicaSet "{name}"'
        if ready >= target:
            available = self._condition(
                old_status, "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability."
            )
        else:
            available = self._condition(
                old_status,
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
            )
        if stuck and done:
            progressing = self._condition(
                old_status,
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                f"{replica_set} has timed out progressing.",
            )
        elif done and not stuck:
            progressing = self._condition(
                old_status,
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                f"{replica_set} has successfully progressed.",
            )
        else:
            progressing = self._condition(
                old_status, "Progressing", "True", "ReplicaSetUpdated", f"{replica_set} is progressing."
            )
        return [available, progressing]

    # ---- HPAs --------------------------------------------------------------------------------

    def _reconcile_hpa(self, namespace: str, name: str, only_target: tuple[str, str] | None = None) -> None:
        hpa = self.store.find(HORIZONTAL_POD_AUTOSCALERS, namespace, name)
        if hpa is None:
            return
        spec = hpa.get("spec") or {}
        ref = spec.get("scaleTargetRef") or {}
        target_kind, target_name = str(ref.get("kind", "")), str(ref.get("name", ""))
        if only_target is not None and (target_kind, target_name) != only_target:
            return
        rt = {"Deployment": DEPLOYMENTS, "StatefulSet": STATEFUL_SETS}.get(target_kind)
        target = self.store.find(rt, namespace, target_name) if rt is not None else None
        now = _now_text()
        old_status = hpa.get("status") or {}
        if rt is None or target is None:
            status: dict[str, Any] = {
                "currentReplicas": 0,
                "desiredReplicas": 0,
                "conditions": [
                    self._condition(
                        old_status,
                        "AbleToScale",
                        "False",
                        "FailedGetScale",
                        "the HPA controller was unable to get the target's current scale: "
                        f'{target_kind} "{target_name}" not found',
                    )
                ],
            }
        else:
            current = int((target.get("spec") or {}).get("replicas", 1))
            minimum = int(spec.get("minReplicas", 1))
            maximum = int(spec.get("maxReplicas", minimum))
            desired = 0 if current == 0 else min(max(current, minimum), maximum)
            if current == 0:
                scaling = self._condition(
                    old_status,
                    "ScalingActive",
                    "False",
                    "ScalingDisabled",
                    "scaling is disabled since the replica count of the target is zero",
                )
            else:
                scaling = self._condition(
                    old_status,
                    "ScalingActive",
                    "True",
                    "ValidMetricFound",
                    "the HPA was able to compute the replica count",
                )
            status = {
                "currentReplicas": current,
                "desiredReplicas": desired,
                "conditions": [
                    self._condition(
                        old_status,
                        "AbleToScale",
                        "True",
                        "SucceededGetScale",
                        "the HPA controller was able to get the target's current scale",
                    ),
                    scaling,
                ],
            }
            if desired != current:
                status["lastScaleTime"] = now
                self.store.write_spec_field(rt, namespace, target_name, "replicas", desired)
            elif "lastScaleTime" in old_status:
                status["lastScaleTime"] = old_status["lastScaleTime"]
        if status != old_status:
            self.store.write_status(HORIZONTAL_POD_AUTOSCALERS, namespace, name, status)
