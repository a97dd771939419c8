"""Hibernate and unhibernate: exact, idempotent, serialised by the operation lease.

Each workload is written through `converge` (resourceVersion-guarded, status churn retried, lost
answers read back). Hibernation records change only for writes the cluster confirmed, or for what a
read shows: a record exists exactly when its workload is hibernated in the cluster.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from app.cluster.gateway import ClusterError, ClusterGateway, InvalidWorkload, WriteOutcomeUnknown
from app.db.availability import is_unavailable
from app.db.engine import write_transaction
from app.db.models import HibernationRecord, TransitionCause
from app.db.repositories.hibernation_records import HibernationRecordRepository
from app.db.types import utcnow
from app.domain.errors import HiberniaError, InvalidInput
from app.domain.operations import OperationOutcome
from app.domain.status import AppStatus
from app.domain.wording import some_of
from app.domain.workloads import HIBERNATION_ANNOTATION, SUSPEND_ANNOTATION, Workload, WorkloadKind, newest_version
from app.services.leases import ANSWER_LOST, DATABASE_AWAY, LeaseManager
from app.services.live_status import LiveStatus
from app.services.targets import Target, TargetAccess, cluster_error, invalid_workload_error, not_recorded
from app.services.workload_writes import Decision, RecordChange, converge

logger = logging.getLogger("hibernia.hibernation")

Key = tuple[WorkloadKind, str]
MAX_WORKLOAD_NAMES = 100
MAX_WORKLOAD_NAME = 253
MAX_REDUCE_TO = 10_000


@dataclass
class OperationResult:
    outcome: OperationOutcome
    status: LiveStatus | None = None
    errors: list[HiberniaError] = field(default_factory=list)
    # The workloads as the operation left them (the patch responses), for a caller that goes on.
    workloads: list[Workload] = field(default_factory=list)
    # Why the outcome is not (all) recorded, when it is not: the reconciler settles it.
    unsettled: str | None = None


@dataclass
class _Step:
    """What the operation has done so far: the workloads as the cluster answered, and records to store."""

    workloads: dict[Key, Workload]
    records: dict[Key, HibernationRecord]
    record_changes: dict[Key, RecordChange] = field(default_factory=dict)
    changed: bool = False
    unsettled: str | None = None


Plan = Callable[[Workload, HibernationRecord | None], Decision]


def check_reduce_to(reduce_to: int | None) -> None:
    if reduce_to is not None and not 1 <= reduce_to <= MAX_REDUCE_TO:
        raise InvalidInput(
            f"reduceTo is a replica count from 1 to {MAX_REDUCE_TO}; omit it to hibernate to 0.", field="reduceTo"
        )


def check_workload_names(names: Sequence[str] | None) -> None:
    """Bounds on the `workloads` input, before anything is read or written."""
    if names is None:
        return
    if not names:
        raise InvalidInput("Give at least one workload name, or omit `workloads` for all.", field="workloads")
    if len(names) > MAX_WORKLOAD_NAMES:
        raise InvalidInput(f"Give at most {MAX_WORKLOAD_NAMES} workload names.", field="workloads")
    too_long = [n for n in names if len(n) > MAX_WORKLOAD_NAME]
    if too_long:
        raise InvalidInput(
            f"Workload names are at most {MAX_WORKLOAD_NAME} characters: {some_of(too_long)}.", field="workloads"
        )


class HibernationService:
    def __init__(
        self,
        access: TargetAccess,
        leases: LeaseManager,
        clock: Callable[[], datetime] = utcnow,
        write_seconds: float = 10.0,
    ) -> None:
        self.access = access
        self.leases = leases
        self.clock = clock
        # How long a workload's write may keep retrying while only its status moves.
        self.write_seconds = write_seconds

    async def hibernate(
        self,
        app: str,
        environment: str,
        *,
        workloads: Sequence[str] | None = None,
        reduce_to: int | None = None,
        actor: str,
        cause: TransitionCause = TransitionCause.HIBERNATE,
    ) -> OperationResult:
        """To 0, or with `reduce_to` N ≥ 1 to N (reduced mode: only workloads above N scale down)."""
        check_workload_names(workloads)
        check_reduce_to(reduce_to)
        plan: Plan = _hibernate_decision if reduce_to is None else partial(_reduce_decision, reduce_to)
        target = await self.access.resolve(app, environment)
        async with self.leases.hold(target.id, target=target.label, operation="hibernate", actor=actor) as lease:
            result = await self._run(target, actor, cause, plan, names=workloads)
            if result.unsettled:
                lease.reconcile_later(why=result.unsettled)
            return result

    async def unhibernate(
        self, app: str, environment: str, *, actor: str, cause: TransitionCause = TransitionCause.UNHIBERNATE
    ) -> OperationResult:
        target = await self.access.resolve(app, environment)
        async with self.leases.hold(target.id, target=target.label, operation="unhibernate", actor=actor) as lease:
            result = await self.unhibernate_locked(target, actor, cause=cause)
            if result.unsettled:
                lease.reconcile_later(why=result.unsettled)
            return result

    async def unhibernate_locked(
        self,
        target: Target,
        actor: str,
        workloads: Sequence[Workload] | None = None,
        *,
        leave: Workload | None = None,
        cause: TransitionCause = TransitionCause.UNHIBERNATE,
    ) -> OperationResult:
        """Unhibernate while the caller already holds the lease (deploy with WAKE), maybe from its read;
        `leave` is a workload the caller wakes itself (its record stays for it to clear)."""
        return await self._run(
            target, actor, cause, _unhibernate_decision, workloads=workloads, leave=leave, waking=True
        )

    # -- the shared frame: read, change workload by workload, record what the cluster answered ----

    async def _run(
        self,
        target: Target,
        actor: str,
        cause: TransitionCause,
        plan: Plan,
        *,
        names: Sequence[str] | None = None,
        workloads: Sequence[Workload] | None = None,
        leave: Workload | None = None,
        waking: bool = False,
    ) -> OperationResult:
        try:
            gateway = await self.access.gateway(target)
            if workloads is None:
                workloads = await self.access.read_workloads(gateway, target)
        except ClusterError as error:
            return OperationResult(OperationOutcome.FAILED, errors=[cluster_error(error, target)])
        chosen = list(workloads)
        if names is not None:
            known = {w.name for w in chosen}
            unknown = [n for n in dict.fromkeys(names) if n not in known]
            if unknown:  # refused before anything is written, the audit trail included
                refused = InvalidInput(
                    f"{target.label} has no workload named {some_of(unknown)}; "
                    f"its workloads are: {some_of(sorted(known), limit=10) or 'none'}.",
                    field="workloads",
                )
                return OperationResult(OperationOutcome.FAILED, errors=[refused])
            chosen = [w for w in chosen if w.name in set(names)]
        if leave is not None:
            chosen = [w for w in chosen if (w.kind, w.name) != (leave.kind, leave.name)]
        step = _Step(
            workloads={(w.kind, w.name): w for w in workloads},
            records={(r.workload_kind, r.workload_name): r for r in await self.access.records(target)},
        )
        errors = await self._change(step, gateway, target, chosen, plan)
        if waking and not errors:
            # Records of workloads that no longer exist would wake nothing; drop them.
            gone = {k: RecordChange(delete=True) for k in step.records if k not in step.workloads}
            step.record_changes.update(gone)
        if errors:
            outcome = OperationOutcome.FAILED
        else:
            outcome = OperationOutcome.APPLIED if step.changed else OperationOutcome.UNCHANGED
        try:
            status: LiveStatus | None = await self._save(target, step, actor, cause, waking=waking)
        except Exception as error:
            if not is_unavailable(error):
                raise
            # What the cluster did stands (the outcome says it); the reconciler records it once the
            # database is back.
            status, step.unsettled = None, DATABASE_AWAY
            errors.append(not_recorded(target))
        return OperationResult(outcome, status, errors, list(step.workloads.values()), step.unsettled)

    async def _change(
        self, step: _Step, gateway: ClusterGateway, target: Target, chosen: list[Workload], plan: Plan
    ) -> list[HiberniaError]:
        """Writes the chosen workloads one by one; stops at the first that fails, keeping what was done."""
        deadline = asyncio.get_running_loop().time() + self.write_seconds
        for workload in sorted(chosen, key=lambda w: (w.kind.value, w.name)):
            key = (workload.kind, workload.name)
            decide = partial(_for_record, plan, step.records.get(key))
            try:
                written = await converge(gateway, workload, decide, deadline=deadline)
            except InvalidWorkload as error:
                return [invalid_workload_error(error)]
            except ClusterError as error:
                step.unsettled = ANSWER_LOST if isinstance(error, WriteOutcomeUnknown) else None
                return [cluster_error(error, target)]
            if written.workload is None:
                step.workloads.pop(key, None)
            else:
                step.workloads[key] = written.workload
            if written.record is not None:
                step.record_changes[key] = written.record
            step.changed = step.changed or written.changed
        return []

    async def _save(
        self, target: Target, step: _Step, actor: str, cause: TransitionCause, *, waking: bool
    ) -> LiveStatus:
        now = self.clock()
        writes = {k: (c.original_replicas, c.original_suspend) for k, c in step.record_changes.items() if not c.delete}
        deletes = {k for k, c in step.record_changes.items() if c.delete}
        async with write_transaction(self.access.session_factory) as session:
            repository = HibernationRecordRepository(session)
            await repository.delete(target.id, deletes)
            await repository.write(target.id, writes, actor=actor, at=now)
            records = await repository.for_target(target.id)
            woke = waking and step.changed
            derived = self.access.derive(
                target,
                list(step.workloads.values()),
                records,
                now=now,
                ever_deployed=bool(step.workloads) or target.row.status is not AppStatus.NOT_DEPLOYED,
                wake_started_at=now if woke else None,
            )
            return await self.access.record_status(
                session,
                target,
                derived,
                cause=cause,
                actor=actor,
                at=now,
                woke=woke,
                version=newest_version(step.workloads.values()),
            )


# -- what each operation asks of one workload (pure) -----------------------------------------------


def _for_record(plan: Plan, record: HibernationRecord | None, workload: Workload) -> Decision:
    return plan(workload, record)


def _hibernate_decision(workload: Workload, record: HibernationRecord | None) -> Decision:
    if workload.kind is WorkloadKind.CRON_JOB:
        if workload.suspended:
            original = workload.annotated_suspend
            if original is not None and (record is None or record.original_suspend != original):
                return Decision(None, RecordChange(original_suspend=original))
            return Decision(None)  # ours already, or suspended by its owner: not ours to record
        return Decision(
            {"metadata": {"annotations": {SUSPEND_ANNOTATION: "false"}}, "spec": {"suspend": True}},
            RecordChange(original_suspend=False),
        )
    annotated = workload.annotated_replicas
    if workload.desired_replicas == 0:
        if annotated is not None and annotated > 0:
            # Already hibernated (by us, Devtron or winter-soldier): the annotation is the truth.
            if record is None or record.original_replicas != annotated:
                return Decision(None, RecordChange(original_replicas=annotated))
            return Decision(None)
        if record is not None and (record.original_replicas or 0) > 0:
            # Hibernated by us but the annotation was lost: put it back from the record.
            return Decision({"metadata": {"annotations": {HIBERNATION_ANNOTATION: str(record.original_replicas)}}})
        return Decision(None)  # at 0 on purpose: nothing to hibernate, and never record 0 as an original
    # Reduced already: its original is the annotation, never the reduced count.
    keep = workload.reduced_from or workload.desired_replicas
    return Decision(
        {"metadata": {"annotations": {HIBERNATION_ANNOTATION: str(keep)}}, "spec": {"replicas": 0}},
        RecordChange(original_replicas=keep),
    )


def _reduce_decision(reduce_to: int, workload: Workload, record: HibernationRecord | None) -> Decision:
    """Reduced mode: a Deployment or StatefulSet above `reduce_to` runs `reduce_to`, its original in the
    annotation; one at or below keeps (or gets back) its own count; CronJobs are suspended."""
    if workload.kind is WorkloadKind.CRON_JOB:
        return _hibernate_decision(workload, record)
    annotated = workload.annotated_replicas
    desired = workload.desired_replicas
    if annotated is not None and annotated > 0 and (desired == 0 or annotated > desired):
        original = annotated  # hibernated or reduced already
    elif desired == 0 and record is not None and (record.original_replicas or 0) > 0:
        original = record.original_replicas or 0  # hibernated, its annotation lost
    elif desired == 0:
        return Decision(None)  # at 0 on purpose: nothing to reduce
    else:
        original = desired
    if original <= reduce_to:
        if desired == original and annotated is None:
            return Decision(None, RecordChange(delete=True) if record is not None else None)
        # Below the count already: back to its own replicas, nothing left to restore.
        return Decision(
            {"metadata": {"annotations": {HIBERNATION_ANNOTATION: None}}, "spec": {"replicas": original}},
            RecordChange(delete=True) if record is not None else None,
        )
    remember = None if record is not None and record.original_replicas == original else original
    if desired == reduce_to and annotated == original:
        return Decision(None, None if remember is None else RecordChange(original_replicas=original))
    return Decision(
        {"metadata": {"annotations": {HIBERNATION_ANNOTATION: str(original)}}, "spec": {"replicas": reduce_to}},
        RecordChange(original_replicas=original),
    )


def _unhibernate_decision(workload: Workload, record: HibernationRecord | None) -> Decision:
    forget = RecordChange(delete=True) if record is not None else None
    if workload.kind is WorkloadKind.CRON_JOB:
        annotated = workload.annotated_suspend
        original: bool | None = annotated if annotated is not None else (record.original_suspend if record else None)
        if original is None:
            return Decision(None)  # never suspended by hibernation: stays as its owner left it
        if workload.suspended == original and annotated is None:
            return Decision(None, forget)
        return Decision(
            {"metadata": {"annotations": {SUSPEND_ANNOTATION: None}}, "spec": {"suspend": original}}, forget
        )
    replicas = workload.annotated_replicas
    reduced_from = workload.reduced_from
    if reduced_from is not None:
        return Decision(
            {"metadata": {"annotations": {HIBERNATION_ANNOTATION: None}}, "spec": {"replicas": reduced_from}}, forget
        )
    restore = replicas if replicas is not None and replicas > 0 else None
    if restore is None and record is not None and (record.original_replicas or 0) > 0:
        restore = record.original_replicas
    if workload.desired_replicas > 0 or restore is None:
        # Awake already (woken outside Hibernia) or never hibernated: only clear leftovers.
        if replicas is not None:
            return Decision({"metadata": {"annotations": {HIBERNATION_ANNOTATION: None}}}, forget)
        return Decision(None, forget)
    return Decision(
        {"metadata": {"annotations": {HIBERNATION_ANNOTATION: None}}, "spec": {"replicas": restore}}, forget
    )
