"""Hibernate and unhibernate: exact, idempotent, serialised by the operation lease."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.cluster.gateway import (
    ClusterError,
    ClusterGateway,
    InvalidWorkload,
    WorkloadConflict,
    WorkloadNotFound,
)
from app.db.models import HibernationRecord, TransitionCause
from app.db.repositories.hibernation_records import HibernationRecordRepository
from app.db.types import utcnow
from app.domain.errors import HiberniaError, InvalidInput
from app.domain.operations import OperationOutcome
from app.domain.status import AppStatus
from app.domain.workloads import HIBERNATION_ANNOTATION, Workload, WorkloadKind
from app.services.leases import LeaseManager
from app.services.live_status import LiveStatus
from app.services.targets import (
    MAX_CONFLICT_RETRIES,
    Target,
    TargetAccess,
    cluster_error,
    conflict_error,
    invalid_workload_error,
)

logger = logging.getLogger("hibernia.hibernation")

Key = tuple[WorkloadKind, str]


@dataclass
class OperationResult:
    outcome: OperationOutcome
    status: LiveStatus | None = None
    errors: list[HiberniaError] = field(default_factory=list)
    # The workloads as the operation left them (the patch responses), for a caller that goes on.
    workloads: list[Workload] = field(default_factory=list)


@dataclass
class _Step:
    """What one workload's patch changed, for the database."""

    workloads: dict[Key, Workload]
    records: dict[Key, HibernationRecord]
    record_writes: dict[Key, tuple[int | None, bool | None]] = field(default_factory=dict)
    record_deletes: set[Key] = field(default_factory=set)
    changed: bool = False


class HibernationService:
    def __init__(self, access: TargetAccess, leases: LeaseManager, clock: Callable[[], datetime] = utcnow) -> None:
        self.access = access
        self.leases = leases
        self.clock = clock

    async def hibernate(
        self, app: str, environment: str, *, workloads: Sequence[str] | None = None, actor: str
    ) -> OperationResult:
        target = await self.access.resolve(app, environment)
        async with self.leases.hold(target.id, target=target.label, operation="hibernate", actor=actor):
            return await self._run(
                target, actor, TransitionCause.HIBERNATE, lambda s, g: self._hibernate(s, g, target, workloads)
            )

    async def unhibernate(self, app: str, environment: str, *, actor: str) -> OperationResult:
        target = await self.access.resolve(app, environment)
        async with self.leases.hold(target.id, target=target.label, operation="unhibernate", actor=actor):
            return await self.unhibernate_locked(target, actor)

    async def unhibernate_locked(
        self, target: Target, actor: str, workloads: Sequence[Workload] | None = None
    ) -> OperationResult:
        """Unhibernate while the caller already holds the lease (deploy with WAKE), maybe from its read."""
        return await self._run(
            target, actor, TransitionCause.UNHIBERNATE, lambda s, g: self._unhibernate(s, g, target), workloads
        )

    # -- the shared frame: read, change workload by workload, always record what happened ---------

    async def _run(
        self,
        target: Target,
        actor: str,
        cause: TransitionCause,
        change: Callable[[_Step, ClusterGateway], Any],
        workloads: Sequence[Workload] | None = None,
    ) -> OperationResult:
        try:
            gateway = await self.access.gateway(target)
            if workloads is None:
                workloads = await self.access.read_workloads(gateway, target)
        except ClusterError as error:
            return OperationResult(OperationOutcome.FAILED, errors=[cluster_error(error, target)])
        records = await self.access.records(target)
        step = _Step(
            workloads={(w.kind, w.name): w for w in workloads},
            records={(r.workload_kind, r.workload_name): r for r in records},
        )
        errors: list[HiberniaError] = []
        try:
            await change(step, gateway)
        except ClusterError as error:
            errors.append(cluster_error(error, target))
        except HiberniaError as error:
            errors.append(error)
        finally:
            # Whatever happened, what was done is stored: records of patched workloads and the status
            # they leave, so the next call sees, explains and repairs a half-done operation.
            status = await self._save(target, step, actor, cause)
        if errors:
            outcome = OperationOutcome.FAILED
        else:
            outcome = OperationOutcome.APPLIED if step.changed else OperationOutcome.UNCHANGED
        return OperationResult(outcome, status, errors, list(step.workloads.values()))

    async def _save(self, target: Target, step: _Step, actor: str, cause: TransitionCause) -> LiveStatus:
        now = self.clock()
        async with self.access.session_factory() as session, session.begin():
            repository = HibernationRecordRepository(session)
            await repository.delete(target.id, step.record_deletes)
            await repository.write(target.id, step.record_writes, actor=actor, at=now)
            records = await repository.for_target(target.id)
            derived = self.access.derive(
                target,
                list(step.workloads.values()),
                records,
                now=now,
                ever_deployed=bool(step.workloads) or target.row.status is not AppStatus.NOT_DEPLOYED,
                wake_started_at=now if cause is TransitionCause.UNHIBERNATE and step.changed else None,
            )
            woke = cause is TransitionCause.UNHIBERNATE and step.changed
            return await self.access.record_status(
                session, target, derived, cause=cause, actor=actor, at=now, woke=woke
            )

    # -- hibernate ------------------------------------------------------------------------------

    async def _hibernate(
        self, step: _Step, gateway: ClusterGateway, target: Target, names: Sequence[str] | None
    ) -> None:
        chosen = list(step.workloads.values())
        if names is not None:
            known = {w.name for w in chosen}
            unknown = sorted(set(names) - known)
            if unknown:
                raise InvalidInput(
                    f"{target.label} has no workload named {', '.join(unknown)}; "
                    f"its workloads are: {', '.join(sorted(known)) or 'none'}.",
                    field="workloads",
                )
            chosen = [w for w in chosen if w.name in set(names)]
        for workload in sorted(chosen, key=lambda w: (w.kind.value, w.name)):
            await self._with_retries(step, gateway, target, workload, self._hibernate_one)

    def _hibernate_one(self, step: _Step, workload: Workload) -> dict[str, Any] | None:
        key = (workload.kind, workload.name)
        record = step.records.get(key)
        if workload.kind is WorkloadKind.CRON_JOB:
            if record is None and workload.suspended:
                return None  # suspended by its owner: not ours to record, stays suspended on wake
            if record is None:
                step.record_writes[key] = (None, False)
            return None if workload.suspended else {"spec": {"suspend": True}}
        annotated = workload.annotated_replicas
        if workload.desired_replicas == 0:
            if annotated is not None and annotated > 0:
                # Already hibernated (by us, Devtron or winter-soldier): the annotation is the truth.
                if record is None or record.original_replicas != annotated:
                    step.record_writes[key] = (annotated, None)
                return None
            if record is not None and (record.original_replicas or 0) > 0:
                # Hibernated by us but the annotation was lost: put it back from the record.
                return {"metadata": {"annotations": {HIBERNATION_ANNOTATION: str(record.original_replicas)}}}
            return None  # at 0 on purpose: nothing to hibernate, and never record 0 as an original
        step.record_writes[key] = (workload.desired_replicas, None)
        return {
            "metadata": {"annotations": {HIBERNATION_ANNOTATION: str(workload.desired_replicas)}},
            "spec": {"replicas": 0},
        }

    # -- unhibernate ----------------------------------------------------------------------------

    async def _unhibernate(self, step: _Step, gateway: ClusterGateway, target: Target) -> None:
        for workload in sorted(step.workloads.values(), key=lambda w: (w.kind.value, w.name)):
            await self._with_retries(step, gateway, target, workload, self._unhibernate_one)
        # Records of workloads that no longer exist would wake nothing; drop them.
        step.record_deletes.update(key for key in step.records if key not in step.workloads)

    def _unhibernate_one(self, step: _Step, workload: Workload) -> dict[str, Any] | None:
        key = (workload.kind, workload.name)
        record = step.records.get(key)
        if workload.kind is WorkloadKind.CRON_JOB:
            if record is None:
                return None
            step.record_deletes.add(key)
            original = bool(record.original_suspend)
            return None if workload.suspended == original else {"spec": {"suspend": original}}
        annotated = workload.annotated_replicas
        restore = annotated if annotated is not None and annotated > 0 else None
        if restore is None and record is not None and (record.original_replicas or 0) > 0:
            restore = record.original_replicas
        if record is not None:
            step.record_deletes.add(key)
        if workload.desired_replicas > 0 or restore is None:
            # Awake already (woken outside Hibernia) or never hibernated: only clear leftovers.
            if annotated is not None:
                return {"metadata": {"annotations": {HIBERNATION_ANNOTATION: None}}}
            return None
        return {"metadata": {"annotations": {HIBERNATION_ANNOTATION: None}}, "spec": {"replicas": restore}}

    # -- one workload, guarded by its resourceVersion -------------------------------------------

    async def _with_retries(
        self,
        step: _Step,
        gateway: ClusterGateway,
        target: Target,
        workload: Workload,
        decide: Callable[[_Step, Workload], dict[str, Any] | None],
    ) -> None:
        key = (workload.kind, workload.name)
        for _attempt in range(MAX_CONFLICT_RETRIES):
            patch = decide(step, workload)
            if patch is None:
                return
            try:
                written = await gateway.patch_workload(
                    target.namespace, workload.kind, workload.name, patch, resource_version=workload.resource_version
                )
            except WorkloadConflict:
                # Changed behind our back since we read it: re-read and decide again, never overwrite.
                step.record_writes.pop(key, None)
                step.record_deletes.discard(key)
                try:
                    workload = await gateway.get_workload(target.namespace, workload.kind, workload.name)
                except WorkloadNotFound:
                    step.workloads.pop(key, None)  # deleted meanwhile: nothing left to change
                    return
                step.workloads[key] = workload
                continue
            except WorkloadNotFound:
                step.workloads.pop(key, None)
                step.record_writes.pop(key, None)
                return
            except InvalidWorkload as error:
                step.record_writes.pop(key, None)
                step.record_deletes.discard(key)
                raise invalid_workload_error(error) from error
            step.workloads[key] = written
            step.changed = True
            return
        step.record_writes.pop(key, None)
        step.record_deletes.discard(key)
        raise conflict_error(target, workload.name)
