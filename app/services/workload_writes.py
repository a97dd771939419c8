"""Writing one workload until the cluster has what a decision asks, guarded by its resourceVersion.

Every operation writes workloads through `converge`:

- A write carries the `resourceVersion` it read. A 409 re-reads the object. When only its status
  moved (same `metadata.generation`, same hibernation annotations), the same write goes again: a
  rollout updates status many times a second and that is nobody's conflict. This repeats without a
  count until the deadline. When its spec or annotations changed, the decision is made again from
  what is there now, at most `MAX_CONFLICT_RETRIES` times, or (`recheck_on_change`) handed back to
  the caller, whose guard must look at the whole release again.
- A write whose answer was lost (`WriteOutcomeUnknown`) is read back. When what was asked is there
  now, the write landed; when it is not, the write did not land and fails as `NotApplied`; when the
  object cannot be read either, the outcome stays unknown and `WriteOutcomeUnknown` goes up.

Hibernation records change only with what the cluster answered: a decision's `record` is applied by
the caller only when `converge` returns it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.cluster.gateway import (
    ClusterError,
    ClusterGateway,
    ClusterUnavailable,
    WorkloadConflict,
    WorkloadNotFound,
    WriteOutcomeUnknown,
)
from app.domain.workloads import HIBERNATION_ANNOTATION, SUSPEND_ANNOTATION, Workload

MAX_CONFLICT_RETRIES = 3


@dataclass(frozen=True, slots=True)
class RecordChange:
    """What a workload's hibernation record becomes once the cluster holds the decision."""

    original_replicas: int | None = None
    original_suspend: bool | None = None
    delete: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    patch: dict[str, Any] | None
    record: RecordChange | None = None


@dataclass(frozen=True, slots=True)
class Written:
    workload: Workload | None  # None: deleted meanwhile, nothing left to change
    changed: bool
    record: RecordChange | None


class NotApplied(ClusterUnavailable):
    """A write's answer was lost, and reading the object back shows it did not land."""


class KeptChanging(ClusterError):
    """The object's spec changed under every try, or its status past the deadline."""

    def __init__(self, workload: Workload) -> None:
        super().__init__(f"{workload.kind.value} {workload.name} kept changing while being updated")
        self.workload = workload


class SpecChanged(ClusterError):
    """Someone changed the object's spec or annotations since it was read (`recheck_on_change`)."""

    def __init__(self, workload: Workload) -> None:
        super().__init__(f"{workload.kind.value} {workload.name} was changed since it was read")
        self.workload = workload


Decide = Callable[[Workload], Decision]


def only_status_moved(before: Workload, after: Workload) -> bool:
    """Whether a newer resourceVersion changed nothing a decision was made on."""
    return (
        after.generation == before.generation
        and after.annotations.get(HIBERNATION_ANNOTATION) == before.annotations.get(HIBERNATION_ANNOTATION)
        and after.annotations.get(SUSPEND_ANNOTATION) == before.annotations.get(SUSPEND_ANNOTATION)
    )


async def converge(
    gateway: ClusterGateway,
    workload: Workload,
    decide: Decide,
    *,
    deadline: float,
    landed: Callable[[Workload], bool] | None = None,
    recheck_on_change: bool = False,
) -> Written:
    """Writes what `decide` asks of `workload` (see the module's docstring); `deadline` is loop time.

    `landed(fresh)` tells whether a lost write is in `fresh`; by default, when `decide` asks for
    nothing more.
    """
    loop = asyncio.get_running_loop()
    changes = 0
    while True:
        decision = decide(workload)
        if decision.patch is None:
            return Written(workload, False, decision.record)
        try:
            written = await gateway.patch_workload(
                workload.namespace,
                workload.kind,
                workload.name,
                decision.patch,
                resource_version=workload.resource_version,
            )
        except WorkloadNotFound:
            return Written(None, False, None)
        except WorkloadConflict:
            fresh = await _reread(gateway, workload)
        except WriteOutcomeUnknown as lost:
            fresh = await _checked(gateway, workload, lost)
            if fresh is not None and (landed(fresh) if landed is not None else decide(fresh).patch is None):
                return Written(fresh, True, decide(fresh).record)
            if fresh is not None and only_status_moved(workload, fresh):
                reason = lost.reason.removesuffix("; the change may have landed")
                raise NotApplied(f"{reason}; read back: it did not land") from None
            # Not ours that landed: someone else changed it meanwhile. Decide again, as after a 409.
        else:
            return Written(written, True, decision.record)
        if fresh is None:
            return Written(None, False, None)
        if only_status_moved(workload, fresh):
            if loop.time() > deadline:
                raise KeptChanging(fresh)
        else:
            changes += 1
            if recheck_on_change:
                raise SpecChanged(fresh)
            if changes >= MAX_CONFLICT_RETRIES:
                raise KeptChanging(fresh)
        workload = fresh


async def _reread(gateway: ClusterGateway, workload: Workload) -> Workload | None:
    try:
        return await gateway.get_workload(workload.namespace, workload.kind, workload.name)
    except WorkloadNotFound:
        return None


async def _checked(gateway: ClusterGateway, workload: Workload, lost: WriteOutcomeUnknown) -> Workload | None:
    """The object read back after a lost answer; WriteOutcomeUnknown when that read fails too."""
    try:
        return await _reread(gateway, workload)
    except ClusterError as error:
        raise WriteOutcomeUnknown(
            f"{lost.reason}; reading {workload.kind.value} {workload.name} back failed too ({error})"
        ) from None
