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

*Status churn* (`status_churn_seconds` > 0): while a rollout is under way, the controller also
writes the workload's status at least every `status_churn_seconds`, whether or not a counter
moved, as a real cluster's controllers do while pods come up (their writes carry pod-level detail
that the simulator does not model). Every such write bumps `metadata.resourceVersion` and leaves
`metadata.generation` alone, so a write guarded by a `resourceVersion` read a moment earlier meets
409 Conflict although nobody changed the spec. Rollouts last `rollout_seconds`, so with 0 there is
no churn.

HorizontalPodAutoscalers are reconciled (`app.simulator.autoscaler`) on every change of the HPA or
of a workload it may target.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.simulator.autoscaler import reconcile_hpa
from app.simulator.conditions import deployment_conditions
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
    last_write: float


def _toward(start: int, target: int, fraction: float) -> int:
    """Linear progress from start to target, never overshooting and exact at fraction 1."""
    if fraction >= 1:
        return target
    return start + int((target - start) * fraction)


def _non_negative(name: str, value: float) -> float:
    number = float(value)
    if not number >= 0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    return number


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
        *,
        status_churn_seconds: float = 0.0,
    ) -> None:
        self.store = store
        self._wake = asyncio.Event()
        self._rollout_seconds = 0.0
        self._status_churn_seconds = 0.0
        self.rollout_seconds = rollout_seconds
        self.status_churn_seconds = status_churn_seconds
        self.initial_timings = (self.rollout_seconds, self.status_churn_seconds)
        self._clock = clock
        self._stuck: set[str] = set()
        self._rollouts: dict[RolloutKey, _Rollout] = {}
        self._templates: dict[RolloutKey, str] = {}
        self._task: asyncio.Task[None] | None = None
        store.subscribe(self._on_change)

    # ---- knobs -------------------------------------------------------------------------------

    @property
    def rollout_seconds(self) -> float:
        """How long a rollout takes (0: done inside the write that started it)."""
        return self._rollout_seconds

    @rollout_seconds.setter
    def rollout_seconds(self, value: float) -> None:
        self._rollout_seconds = _non_negative("rollout_seconds", value)
        self._wake.set()

    @property
    def status_churn_seconds(self) -> float:
        """The longest time between two status writes of a rollout under way (0: no churn)."""
        return self._status_churn_seconds

    @status_churn_seconds.setter
    def status_churn_seconds(self, value: float) -> None:
        self._status_churn_seconds = _non_negative("status_churn_seconds", value)
        self._wake.set()

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
        """Unstick every workload and restore the timings given at construction."""
        self.set_stuck(set())
        self.rollout_seconds, self.status_churn_seconds = self.initial_timings

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        # Started even when rollouts are immediate: `rollout_seconds` may change while serving.
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="simulator-controller")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _tick_interval(self) -> float:
        interval = min(0.05, max(0.01, self.rollout_seconds / 20))
        if self.status_churn_seconds > 0:
            interval = max(0.005, min(interval, self.status_churn_seconds))
        return interval

    async def _run(self) -> None:
        while True:
            if not self._rollouts:
                await self._wake.wait()
            self._wake.clear()
            self.tick()
            await asyncio.sleep(self._tick_interval())

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
            reconcile_hpa(self.store, event.namespace, event.name)
            return
        if event.resource not in (DEPLOYMENTS, STATEFUL_SETS):
            return
        self._begin(key, event.obj)
        for namespace, name in self.store.keys(HORIZONTAL_POD_AUTOSCALERS):
            if namespace == event.namespace:
                reconcile_hpa(self.store, namespace, name, only_target=(event.resource.kind, event.name))
        self._after_begin(key)

    def _begin(self, key: RolloutKey, obj: dict[str, Any]) -> None:
        status = obj.get("status") or {}
        template = _template_hash(obj)
        template_changed = self._templates.get(key) != template
        self._templates[key] = template
        replicas = int(status.get("replicas", 0))
        now = self._clock()
        self._rollouts[key] = _Rollout(
            started=now,
            generation=int(obj["metadata"].get("generation", 1)),
            start_replicas=replicas,
            start_ready=int(status.get("readyReplicas", 0)),
            start_updated=0 if template_changed else int(status.get("updatedReplicas", replicas)),
            last_write=now,
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
        now = self._clock()
        elapsed = now - rollout.started
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
            status["conditions"] = deployment_conditions(name, old_status, target, ready, stuck=stuck, done=done)
        else:
            status["replicas"] = replicas
        churn = self.status_churn_seconds > 0 and not done and now - rollout.last_write >= self.status_churn_seconds
        if status != old_status or churn:
            try:
                self.store.write_status(rt, namespace, name, status)
            except ApiError:  # pragma: no cover - the object vanished under us
                self._rollouts.pop(key, None)
                return
            rollout.last_write = now
        if done:
            self._rollouts.pop(key, None)
