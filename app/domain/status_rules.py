"""Derives an app environment's status from its workloads and hibernation records.

The rules are those of DESIGN.md, "Status rules". Everything here is pure: the caller reads the
cluster and the database, and passes the clock in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum

from app.domain.status import AppStatus, DerivedStatus, RecordedHibernation, WorkloadState
from app.domain.workloads import HIBERNATION_ANNOTATION, Workload, WorkloadKind

_KIND_ORDER = {kind: position for position, kind in enumerate(WorkloadKind)}


class _Condition(IntEnum):
    """One workload's own condition. Among awake workloads, the highest value decides the app's."""

    HIBERNATED = -2
    # At rest by its owner's choice: at 0 replicas without the annotation, or a CronJob suspended
    # without a hibernation record. Neither hibernated nor running.
    IDLE = -1
    HEALTHY = 0
    PROGRESSING = 1
    WAKING = 2
    # Worse than WAKING so that one failed workload is never hidden behind another still waking.
    DEGRADED = 3


_APP_STATUS = {
    _Condition.HEALTHY: AppStatus.HEALTHY,
    _Condition.PROGRESSING: AppStatus.PROGRESSING,
    _Condition.WAKING: AppStatus.WAKING,
    _Condition.DEGRADED: AppStatus.DEGRADED,
}


@dataclass(frozen=True, slots=True)
class _Assessment:
    label: str
    state: WorkloadState
    condition: _Condition
    # What a person needs to know about this workload, or None when there is nothing to say.
    note: str | None
    # At rest by its owner's choice with no hibernation record either: nothing to restore.
    owned_rest: bool = False
    # Scaled down by reduced mode: (replicas now, original replicas).
    reduced: tuple[int, int] | None = None


def is_hibernated(workload: Workload, record: RecordedHibernation | None) -> bool:
    """Whether hibernation, not its owner, put this workload to rest.

    Deployments and StatefulSets: desired replicas 0 and a hibernation annotation > 0; the record does
    not matter, so apps hibernated by Devtron or winter-soldier count too. A suspended CronJob is
    hibernated when Hibernia's suspend annotation or a hibernation record says hibernation suspended
    it; one its owner suspended is not.
    """
    if record is not None and (record.kind, record.name) != (workload.kind, workload.name):
        raise ValueError(
            f"Hibernation record for {record.kind} {record.name} passed for {workload.kind} {workload.name}"
        )
    if workload.kind is WorkloadKind.CRON_JOB:
        return workload.suspended is True and (record is not None or workload.annotated_suspend is not None)
    annotated = workload.annotated_replicas
    return workload.desired_replicas == 0 and annotated is not None and annotated > 0


DEFAULT_STATEFUL_SET_DEADLINE_SECONDS = 600


def derive_status(
    *,
    workloads: Sequence[Workload],
    ever_deployed: bool,
    hibernation: Mapping[tuple[WorkloadKind, str], RecordedHibernation],
    cluster_error: str | None = None,
    wake_started_at: datetime | None = None,
    now: datetime,
    stateful_set_deadline_seconds: int = DEFAULT_STATEFUL_SET_DEADLINE_SECONDS,
) -> DerivedStatus:
    """The status of one app environment.

    `cluster_error` is set when the cluster could not be read; the status is then UNKNOWN whatever
    else is known, because an empty workload list proves nothing. `wake_started_at` is when the
    latest unhibernate started; pass None once a later deploy superseded it, or a slow rollout of
    that deploy would be judged against the wake's deadline. `now` and `wake_started_at` must both be
    timezone-aware (or both naive). A StatefulSet has no progress condition of its own: one still
    rolling out `stateful_set_deadline_seconds` after its last spec change is stuck.
    """
    if cluster_error is not None:
        return DerivedStatus(AppStatus.UNKNOWN, f"Cluster unreachable: {cluster_error or 'no details'}", ())
    if not workloads:
        if ever_deployed:
            return DerivedStatus(
                AppStatus.MISSING,
                "Deployed before, but no Deployment, StatefulSet or CronJob of its release exists now",
                (),
            )
        return DerivedStatus(AppStatus.NOT_DEPLOYED, "Never deployed", ())

    ordered = sorted(workloads, key=lambda w: (_KIND_ORDER[w.kind], w.name))
    labels = _labels(ordered)
    assessments = [
        _assess(
            workload,
            hibernation.get((workload.kind, workload.name)),
            label=labels[workload.kind, workload.name],
            wake_started_at=wake_started_at,
            now=now,
            stateful_set_deadline=stateful_set_deadline_seconds,
        )
        for workload in ordered
    ]
    states = tuple(assessment.state for assessment in assessments)
    status, reason = _summarise(assessments)
    return DerivedStatus(status, reason, states)


def _labels(ordered: Sequence[Workload]) -> dict[tuple[WorkloadKind, str], str]:
    # Reasons name workloads by name alone, unless two kinds share a name.
    seen: set[str] = set()
    shared: set[str] = set()
    for workload in ordered:
        (shared if workload.name in seen else seen).add(workload.name)
    return {(w.kind, w.name): f"{w.kind}/{w.name}" if w.name in shared else w.name for w in ordered}


def _assess(
    workload: Workload,
    record: RecordedHibernation | None,
    *,
    label: str,
    wake_started_at: datetime | None,
    now: datetime,
    stateful_set_deadline: int,
) -> _Assessment:
    hibernated = is_hibernated(workload, record)
    state = WorkloadState(
        kind=workload.kind,
        name=workload.name,
        desired_replicas=workload.desired_replicas,
        ready_replicas=workload.ready_replicas,
        hibernated=hibernated,
        original_replicas=_original_replicas(workload, record),
        images=workload.images,
    )
    condition, note = _condition(workload, hibernated, label, wake_started_at, now, stateful_set_deadline)
    original = workload.reduced_from
    return _Assessment(
        label,
        state,
        condition,
        note,
        owned_rest=condition is _Condition.IDLE and record is None,
        reduced=None if original is None else (workload.desired_replicas, original),
    )


def _original_replicas(workload: Workload, record: RecordedHibernation | None) -> int | None:
    if workload.kind is WorkloadKind.CRON_JOB:
        return None
    annotated = workload.annotated_replicas
    if annotated is not None and annotated > 0:
        return annotated
    return record.original_replicas if record is not None else None


def _condition(
    workload: Workload,
    hibernated: bool,
    label: str,
    wake_started_at: datetime | None,
    now: datetime,
    stateful_set_deadline: int,
) -> tuple[_Condition, str | None]:
    ready, desired = workload.ready_replicas, workload.desired_replicas
    if hibernated:
        # Scaled to 0, but the old pods take their grace period to stop.
        if ready > 0:
            return _Condition.HIBERNATED, f"{label}: {_count(ready, 'pod')} still terminating"
        return _Condition.HIBERNATED, None
    if workload.kind is WorkloadKind.CRON_JOB:
        if workload.suspended:
            return _Condition.IDLE, f"{label}: suspended by its owner, not by hibernation"
        return _Condition.HEALTHY, None
    if desired == 0:
        return _Condition.IDLE, (
            f"{label}: at 0 replicas on purpose, not hibernated (no valid {HIBERNATION_ANNOTATION} annotation)"
        )

    replicas_ready = f"{ready} of {desired} replicas ready"
    if wake_started_at is not None and ready < desired:
        since = wake_started_at.strftime("%H:%M:%S")
        if workload.progress_deadline_exceeded:
            return _Condition.DEGRADED, (
                f"{label}: wake since {since} failed, rollout exceeded its progress deadline ({replicas_ready})"
            )
        deadline = workload.progress_deadline_seconds
        if now - wake_started_at > timedelta(seconds=deadline):
            return _Condition.DEGRADED, (
                f"{label}: {replicas_ready}, waking since {since}, past its {deadline}s progress deadline"
            )
        return _Condition.WAKING, f"{label}: {replicas_ready}, waking since {since}"
    if workload.progress_deadline_exceeded:
        return _Condition.DEGRADED, f"{label}: rollout exceeded its progress deadline ({replicas_ready})"

    under_way = []
    if workload.observed_generation < workload.generation:
        under_way.append(f"generation {workload.generation} not yet observed")
    if workload.updated_replicas < desired:
        under_way.append(f"{workload.updated_replicas} of {desired} replicas updated")
    if ready < desired:
        under_way.append(replicas_ready)
    if under_way:
        changed_at = workload.spec_changed_at
        if (
            workload.kind is WorkloadKind.STATEFUL_SET
            and changed_at is not None
            and now - changed_at > timedelta(seconds=stateful_set_deadline)
        ):
            return _Condition.DEGRADED, (
                f"{label}: rollout not done {stateful_set_deadline}s after its last spec change at "
                f"{changed_at.strftime('%H:%M:%S')} ({', '.join(under_way)})"
            )
        return _Condition.PROGRESSING, f"{label}: rollout under way, {', '.join(under_way)}"
    return _Condition.HEALTHY, None


def _summarise(assessments: Sequence[_Assessment]) -> tuple[AppStatus, str]:
    hibernated = [a for a in assessments if a.condition is _Condition.HIBERNATED]
    idle = [a for a in assessments if a.condition is _Condition.IDLE]
    awake = [a for a in assessments if a.condition >= _Condition.HEALTHY]
    # Worst first; sorted() is stable, so ties keep the kind-and-name order.
    troubled = sorted((a for a in awake if a.condition > _Condition.HEALTHY), key=lambda a: a.condition, reverse=True)
    troubled_notes = [a.note for a in troubled if a.note]
    idle_notes = [a.note for a in idle if a.note]

    # Reduced mode scales Deployments and StatefulSets down to a count and suspends CronJobs: with
    # nothing at 0 by hibernation, the app is REDUCED (awake, for the deploy guard), unless stuck.
    reduced = [a for a in awake if a.reduced is not None]
    only_cron_jobs_hibernated = all(a.state.kind is WorkloadKind.CRON_JOB for a in hibernated)
    if reduced and only_cron_jobs_hibernated and not any(a.condition is _Condition.DEGRADED for a in troubled):
        counts = ", ".join(f"{a.label} at {a.reduced[0]} of {a.reduced[1]}" for a in reduced if a.reduced)
        headline = f"Reduced: {counts}"
        if hibernated:
            headline += f"; suspended: {_names(hibernated)}"
        return AppStatus.REDUCED, _join([headline, *troubled_notes, *idle_notes])

    # Idle workloads count neither way: an app whose every running workload is hibernated is
    # HIBERNATING even when its owner keeps one workload at 0.
    if hibernated:
        counted = len(hibernated) + len(awake)
        if awake:
            status = AppStatus.PARTIALLY_HIBERNATED
            headline = (
                f"{len(hibernated)} of {counted} workloads hibernated: {_names(hibernated)}; awake: {_names(awake)}"
            )
        else:
            status = AppStatus.HIBERNATING
            headline = (
                f"All {counted} workloads hibernated: {_names(hibernated)}"
                if counted > 1
                else f"Workload hibernated: {_names(hibernated)}"
            )
        terminating_notes = [a.note for a in hibernated if a.note]
        return status, _join([headline, *troubled_notes, *terminating_notes, *idle_notes])

    if troubled:
        return _APP_STATUS[troubled[0].condition], _join(troubled_notes)
    if not awake:
        if all(a.owned_rest for a in idle):
            return AppStatus.STOPPED, _join(
                [f"Stopped by its owner, nothing hibernated and nothing to restore: {_names(idle)}", *idle_notes]
            )
        # An idle workload with a hibernation record lost its annotation: unhibernate restores it.
        return AppStatus.HEALTHY, _join(idle_notes)
    headline = (
        f"All {len(awake)} workloads healthy: {_names(awake)}"
        if len(awake) > 1
        else f"Workload healthy: {_names(awake)}"
    )
    return AppStatus.HEALTHY, _join([headline, *idle_notes])


def _names(assessments: Sequence[_Assessment]) -> str:
    return ", ".join(a.label for a in assessments)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _join(parts: Sequence[str]) -> str:
    return "; ".join(parts)
