"""One table per rule of DESIGN.md "Status rules"; each row is one situation an app can be in."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from app.domain.status import AppStatus, DerivedStatus, RecordedHibernation
from app.domain.status_rules import derive_status, is_hibernated
from app.domain.workloads import HIBERNATION_ANNOTATION, Workload, WorkloadKind

NOW = datetime(2024, 5, 6, 14, 5, 0, tzinfo=UTC)
DEPLOYMENT, STATEFUL_SET, CRON_JOB = WorkloadKind.DEPLOYMENT, WorkloadKind.STATEFUL_SET, WorkloadKind.CRON_JOB


def _workload(
    kind: WorkloadKind,
    name: str,
    desired: int = 3,
    *,
    ready: int | None = None,
    updated: int | None = None,
    annotation: str | None = None,
    generation: int = 1,
    observed_generation: int = 1,
    deadline_exceeded: bool = False,
    deadline_seconds: int = 600,
    changed: datetime | None = None,
) -> Workload:
    """A Deployment or StatefulSet, fully rolled out unless told otherwise."""
    return Workload(
        kind=kind,
        name=name,
        namespace="shop",
        resource_version="1",
        desired_replicas=desired,
        ready_replicas=desired if ready is None else ready,
        updated_replicas=desired if updated is None else updated,
        available_replicas=desired if ready is None else ready,
        generation=generation,
        observed_generation=observed_generation,
        annotations={} if annotation is None else {HIBERNATION_ANNOTATION: annotation},
        images=(f"registry.example/{name}:1.0",),
        progress_deadline_exceeded=deadline_exceeded,
        progress_deadline_seconds=deadline_seconds,
        spec_changed_at=changed if kind is STATEFUL_SET else None,
    )


_deployment = partial(_workload, DEPLOYMENT)
_stateful_set = partial(_workload, STATEFUL_SET)


def _hibernated(kind: WorkloadKind, name: str, original: int = 3, *, terminating: int = 0) -> Workload:
    return _workload(kind, name, 0, ready=terminating, annotation=str(original))


def _cron_job(name: str, *, suspended: bool) -> Workload:
    return Workload(
        kind=CRON_JOB,
        name=name,
        namespace="shop",
        resource_version="1",
        desired_replicas=0,
        suspended=suspended,
        images=(f"registry.example/{name}:1.0",),
    )


def _record(kind: WorkloadKind, name: str, original_replicas: int | None = 3) -> RecordedHibernation:
    cron = kind is CRON_JOB
    return RecordedHibernation(
        kind=kind,
        name=name,
        original_replicas=None if cron else original_replicas,
        original_suspend=False if cron else None,
        since=NOW - timedelta(hours=1),
        actor="ci-bot",
    )


def _records(*records: RecordedHibernation) -> dict[tuple[WorkloadKind, str], RecordedHibernation]:
    return {(record.kind, record.name): record for record in records}


def _derive(
    workloads: Sequence[Workload],
    records: Mapping[tuple[WorkloadKind, str], RecordedHibernation] | None = None,
    *,
    ever_deployed: bool = True,
    cluster_error: str | None = None,
    wake_started_at: datetime | None = None,
) -> DerivedStatus:
    return derive_status(
        workloads=workloads,
        ever_deployed=ever_deployed,
        hibernation=records or {},
        cluster_error=cluster_error,
        wake_started_at=wake_started_at,
        now=NOW,
    )


def _assert_names(reason: str, names: Sequence[str]) -> None:
    for name in names:
        assert name in reason, f"{name!r} not named in {reason!r}"


# Rule 1 and 3: nothing in the cluster.
@pytest.mark.parametrize(
    ("ever_deployed", "records", "expected"),
    [
        pytest.param(False, {}, AppStatus.NOT_DEPLOYED, id="never-deployed"),
        pytest.param(
            False,
            _records(_record(DEPLOYMENT, "api")),
            AppStatus.NOT_DEPLOYED,
            id="never-deployed-stale-record",
        ),
        pytest.param(True, {}, AppStatus.MISSING, id="deployed-then-deleted"),
        pytest.param(True, _records(_record(DEPLOYMENT, "api")), AppStatus.MISSING, id="hibernated-then-deleted"),
    ],
)
def test_no_workloads_is_not_deployed_or_missing(
    ever_deployed: bool, records: dict[tuple[WorkloadKind, str], RecordedHibernation], expected: AppStatus
) -> None:
    result = _derive([], records, ever_deployed=ever_deployed)

    assert result.status is expected
    assert result.workloads == ()
    assert result.reason


# Rule 2: a cluster error wins over every other rule, NOT_DEPLOYED included: when the cluster
# cannot be read, an empty workload list proves nothing.
@pytest.mark.parametrize(
    ("ever_deployed", "workloads"),
    [
        pytest.param(False, [], id="never-deployed"),
        pytest.param(True, [], id="deployed"),
        pytest.param(True, [_hibernated(DEPLOYMENT, "api")], id="partial-read-hibernated"),
        pytest.param(True, [_deployment("api", deadline_exceeded=True)], id="partial-read-degraded"),
    ],
)
def test_cluster_error_is_unknown(ever_deployed: bool, workloads: list[Workload]) -> None:
    result = _derive(workloads, ever_deployed=ever_deployed, cluster_error="connection refused")

    assert result.status is AppStatus.UNKNOWN
    assert result.reason == "Cluster unreachable: connection refused"
    assert result.workloads == ()


# Rule 4, per workload.
@pytest.mark.parametrize(
    ("workload", "record", "expected"),
    [
        pytest.param(_hibernated(DEPLOYMENT, "api"), None, True, id="deployment-annotated"),
        pytest.param(_hibernated(DEPLOYMENT, "api"), _record(DEPLOYMENT, "api"), True, id="deployment-both"),
        pytest.param(_hibernated(STATEFUL_SET, "db", 1), None, True, id="statefulset-annotated"),
        pytest.param(_hibernated(DEPLOYMENT, "api", terminating=2), None, True, id="pods-terminating"),
        pytest.param(_deployment("api", 0), None, False, id="zero-without-annotation"),
        pytest.param(_deployment("api", 0), _record(DEPLOYMENT, "api"), False, id="zero-record-no-annotation"),
        pytest.param(_deployment("api", 0, annotation="abc"), None, False, id="annotation-not-a-number"),
        pytest.param(_deployment("api", 0, annotation="0"), None, False, id="annotation-zero"),
        pytest.param(_deployment("api", 0, annotation="-2"), None, False, id="annotation-negative"),
        pytest.param(_deployment("api", 0, annotation=""), None, False, id="annotation-empty"),
        pytest.param(_deployment("api", 3, annotation="3"), None, False, id="annotation-kept-after-restore"),
        pytest.param(_stateful_set("db", 1, annotation="1"), None, False, id="statefulset-annotation-kept"),
        pytest.param(
            _cron_job("nightly", suspended=True),
            _record(CRON_JOB, "nightly"),
            True,
            id="cronjob-suspended-recorded",
        ),
        pytest.param(_cron_job("nightly", suspended=True), None, False, id="cronjob-suspended-by-owner"),
        pytest.param(_cron_job("nightly", suspended=False), _record(CRON_JOB, "nightly"), False, id="cronjob-resumed"),
        pytest.param(_cron_job("nightly", suspended=False), None, False, id="cronjob-running"),
    ],
)
def test_is_hibernated(workload: Workload, record: RecordedHibernation | None, expected: bool) -> None:
    assert is_hibernated(workload, record) is expected


def test_is_hibernated_rejects_a_record_of_another_workload() -> None:
    with pytest.raises(ValueError, match="worker"):
        is_hibernated(_hibernated(DEPLOYMENT, "api"), _record(DEPLOYMENT, "worker"))


# Rule 4, per app. `names` must appear in the reason.
@pytest.mark.parametrize(
    ("workloads", "records", "expected", "names"),
    [
        pytest.param([_hibernated(DEPLOYMENT, "api")], {}, AppStatus.HIBERNATING, ["api"], id="one-deployment"),
        pytest.param(
            [_hibernated(DEPLOYMENT, "api"), _hibernated(DEPLOYMENT, "worker")],
            {},
            AppStatus.HIBERNATING,
            ["All 2 workloads hibernated", "api, worker"],
            id="all-deployments",
        ),
        pytest.param([_hibernated(STATEFUL_SET, "db")], {}, AppStatus.HIBERNATING, ["db"], id="one-statefulset"),
        pytest.param(
            [
                _hibernated(DEPLOYMENT, "api"),
                _hibernated(STATEFUL_SET, "db"),
                _cron_job("nightly", suspended=True),
            ],
            _records(_record(CRON_JOB, "nightly")),
            AppStatus.HIBERNATING,
            ["All 3 workloads hibernated", "api, db, nightly"],
            id="mixed-kinds-all",
        ),
        pytest.param(
            [_hibernated(DEPLOYMENT, "api"), _deployment("web"), _hibernated(DEPLOYMENT, "worker")],
            {},
            AppStatus.PARTIALLY_HIBERNATED,
            ["2 of 3 workloads hibernated: api, worker", "web"],
            id="two-of-three",
        ),
        pytest.param(
            [_hibernated(DEPLOYMENT, "api"), _cron_job("nightly", suspended=False)],
            {},
            AppStatus.PARTIALLY_HIBERNATED,
            ["1 of 2 workloads hibernated: api", "nightly"],
            id="cronjob-still-running",
        ),
        pytest.param(
            [_hibernated(DEPLOYMENT, "api"), _cron_job("nightly", suspended=False)],
            _records(_record(CRON_JOB, "nightly")),
            AppStatus.PARTIALLY_HIBERNATED,
            ["api", "nightly"],
            id="cronjob-resumed-despite-record",
        ),
        pytest.param(
            [_deployment("api"), _cron_job("nightly", suspended=True)],
            _records(_record(CRON_JOB, "nightly")),
            AppStatus.PARTIALLY_HIBERNATED,
            ["1 of 2 workloads hibernated: nightly", "api"],
            id="only-cronjob-hibernated",
        ),
        pytest.param(
            [_hibernated(DEPLOYMENT, "api"), _stateful_set("db")],
            {},
            AppStatus.PARTIALLY_HIBERNATED,
            ["api", "db"],
            id="mixed-kinds-partial",
        ),
        pytest.param(
            [_hibernated(DEPLOYMENT, "api"), _deployment("web", ready=1)],
            {},
            AppStatus.PARTIALLY_HIBERNATED,
            ["api", "web: rollout under way"],
            id="wins-over-progressing",
        ),
        pytest.param(
            [_hibernated(DEPLOYMENT, "api"), _deployment("web", deadline_exceeded=True)],
            {},
            AppStatus.PARTIALLY_HIBERNATED,
            ["api", "web: rollout exceeded its progress deadline"],
            id="wins-over-degraded",
        ),
        # An idle workload (at 0 on purpose, or a CronJob its owner suspended) counts neither way.
        pytest.param(
            [_hibernated(DEPLOYMENT, "api"), _deployment("batch", 0)],
            {},
            AppStatus.HIBERNATING,
            ["Workload hibernated: api", "batch: at 0 replicas on purpose"],
            id="idle-deployment-not-counted",
        ),
        pytest.param(
            [_hibernated(DEPLOYMENT, "api"), _cron_job("nightly", suspended=True)],
            {},
            AppStatus.HIBERNATING,
            ["api", "nightly: suspended by its owner"],
            id="owner-suspended-cronjob-not-counted",
        ),
        pytest.param(
            [_hibernated(DEPLOYMENT, "api"), _deployment("batch", 0, annotation="0"), _deployment("web")],
            {},
            AppStatus.PARTIALLY_HIBERNATED,
            ["1 of 2 workloads hibernated: api", "web", "batch"],
            id="idle-with-invalid-annotation-not-counted",
        ),
        pytest.param(
            [_hibernated(DEPLOYMENT, "api", terminating=2), _hibernated(DEPLOYMENT, "worker")],
            {},
            AppStatus.HIBERNATING,
            ["api: 2 pods still terminating"],
            id="pods-still-terminating",
        ),
        pytest.param(
            [_hibernated(DEPLOYMENT, "api", terminating=1), _deployment("web")],
            {},
            AppStatus.PARTIALLY_HIBERNATED,
            ["api: 1 pod still terminating"],
            id="partial-pod-still-terminating",
        ),
        # The same name under two kinds is qualified so the reason stays unambiguous.
        pytest.param(
            [_hibernated(DEPLOYMENT, "api"), _cron_job("api", suspended=False)],
            {},
            AppStatus.PARTIALLY_HIBERNATED,
            ["hibernated: Deployment/api", "awake: CronJob/api"],
            id="shared-name-qualified",
        ),
    ],
)
def test_hibernation(
    workloads: list[Workload],
    records: dict[tuple[WorkloadKind, str], RecordedHibernation],
    expected: AppStatus,
    names: list[str],
) -> None:
    result = _derive(workloads, records)

    assert result.status is expected
    _assert_names(result.reason, names)


# Rule 4: every workload at 0 by its owner's choice (no annotation, no record) is STOPPED: nothing to
# restore. One at rest beside a running workload counts neither way.
@pytest.mark.parametrize(
    ("workloads", "names"),
    [
        pytest.param(
            [_deployment("api", 0)], ["Stopped by its owner", "api: at 0 replicas on purpose"], id="no-annotation"
        ),
        pytest.param([_deployment("api", 0, annotation="abc")], ["api"], id="annotation-not-a-number"),
        pytest.param([_deployment("api", 0, annotation="0")], ["api"], id="annotation-zero"),
        pytest.param([_stateful_set("db", 0)], ["db"], id="statefulset"),
        pytest.param([_cron_job("nightly", suspended=True)], ["nightly: suspended by its owner"], id="cronjob"),
        pytest.param(
            [_deployment("api", 0), _stateful_set("db", 0), _cron_job("nightly", suspended=True)],
            ["api, db, nightly"],
            id="every-kind",
        ),
    ],
)
def test_at_rest_by_its_owner_is_stopped(workloads: list[Workload], names: list[str]) -> None:
    result = _derive(workloads)

    assert result.status is AppStatus.STOPPED
    assert not any(state.hibernated for state in result.workloads)
    _assert_names(result.reason, names)


@pytest.mark.parametrize(
    ("workloads", "records", "names"),
    [
        # The annotation was lost but the record remembers the original: unhibernate restores it.
        pytest.param(
            [_deployment("api", 0)],
            _records(_record(DEPLOYMENT, "api")),
            ["api: at 0 replicas on purpose"],
            id="record-without-annotation",
        ),
        pytest.param(
            [_deployment("api"), _deployment("batch", 0)],
            {},
            ["Workload healthy: api", "batch: at 0 replicas on purpose"],
            id="beside-a-running-one",
        ),
        pytest.param([_deployment("api", 3, annotation="3")], {}, ["api"], id="annotation-kept-after-restore"),
    ],
)
def test_not_hibernated_at_rest_with_something_to_restore_or_beside_a_running_one_is_healthy(
    workloads: list[Workload], records: dict[tuple[WorkloadKind, str], RecordedHibernation], names: list[str]
) -> None:
    result = _derive(workloads, records)

    assert result.status is AppStatus.HEALTHY
    assert not any(state.hibernated for state in result.workloads)
    _assert_names(result.reason, names)


# Rule 4, reduced mode: Deployments and StatefulSets scaled down to N > 0 with their originals in the
# annotation, CronJobs suspended. Awake, but not as their owner asked.
@pytest.mark.parametrize(
    ("workloads", "records", "expected", "names"),
    [
        pytest.param(
            [_deployment("api", 1, annotation="3")], {}, AppStatus.REDUCED, ["Reduced: api at 1 of 3"], id="one"
        ),
        pytest.param(
            [_deployment("api", 1, annotation="3"), _stateful_set("db", 2, annotation="5"), _deployment("web", 1)],
            {},
            AppStatus.REDUCED,
            ["api at 1 of 3", "db at 2 of 5"],
            id="beside-one-already-at-or-below-n",
        ),
        pytest.param(
            [_deployment("api", 1, annotation="3"), _cron_job("nightly", suspended=True)],
            _records(_record(CRON_JOB, "nightly")),
            AppStatus.REDUCED,
            ["api at 1 of 3", "suspended: nightly"],
            id="cronjob-suspended",
        ),
        pytest.param(
            [_deployment("api", 1, annotation="3", ready=3)],
            {},
            AppStatus.REDUCED,
            ["api at 1 of 3"],
            id="pods-still-terminating",
        ),
        pytest.param(
            [_deployment("api", 1, annotation="3", ready=0)],
            {},
            AppStatus.REDUCED,
            ["api at 1 of 3", "api: rollout under way"],
            id="reduced-from-hibernated-starting",
        ),
        pytest.param(
            [_deployment("api", 1, annotation="3", deadline_exceeded=True)],
            {},
            AppStatus.DEGRADED,
            ["api: rollout exceeded its progress deadline"],
            id="stuck-wins",
        ),
        pytest.param(
            [_deployment("api", 1, annotation="3"), _hibernated(DEPLOYMENT, "worker")],
            {},
            AppStatus.PARTIALLY_HIBERNATED,
            ["1 of 2 workloads hibernated: worker"],
            id="beside-a-hibernated-one",
        ),
        pytest.param([_deployment("api", 3, annotation="3")], {}, AppStatus.HEALTHY, ["api"], id="original-restored"),
        pytest.param([_deployment("api", 4, annotation="3")], {}, AppStatus.HEALTHY, ["api"], id="scaled-up-by-owner"),
    ],
)
def test_reduced(
    workloads: list[Workload],
    records: dict[tuple[WorkloadKind, str], RecordedHibernation],
    expected: AppStatus,
    names: list[str],
) -> None:
    result = _derive(workloads, records)

    assert result.status is expected
    _assert_names(result.reason, names)


WAKE = NOW - timedelta(minutes=2, seconds=53)  # 14:02:07


# Rule 5.
@pytest.mark.parametrize(
    ("workloads", "wake_started_at", "expected", "names"),
    [
        pytest.param(
            [_deployment("worker", ready=1)],
            WAKE,
            AppStatus.WAKING,
            ["worker: 1 of 3 replicas ready, waking since 14:02:07"],
            id="within-deadline",
        ),
        pytest.param(
            [_stateful_set("db", ready=0)],
            WAKE,
            AppStatus.WAKING,
            ["db: 0 of 3 replicas ready"],
            id="statefulset",
        ),
        pytest.param(
            [_deployment("worker", ready=0)],
            NOW - timedelta(seconds=600),
            AppStatus.WAKING,
            ["worker"],
            id="exactly-at-deadline",
        ),
        pytest.param(
            [_deployment("worker", ready=0)],
            NOW - timedelta(seconds=601),
            AppStatus.DEGRADED,
            ["worker: 0 of 3 replicas ready", "past its 600s progress deadline"],
            id="past-deadline-no-pods",
        ),
        pytest.param(
            [_deployment("worker", ready=2)],
            NOW - timedelta(minutes=11),
            AppStatus.DEGRADED,
            ["worker: 2 of 3 replicas ready"],
            id="past-deadline-some-pods",
        ),
        pytest.param(
            [_deployment("worker", ready=0, deadline_seconds=60)],
            WAKE,
            AppStatus.DEGRADED,
            ["worker", "past its 60s progress deadline"],
            id="past-own-shorter-deadline",
        ),
        pytest.param(
            [_deployment("worker", ready=0, deadline_exceeded=True)],
            WAKE,
            AppStatus.DEGRADED,
            ["worker: wake since 14:02:07 failed"],
            id="deadline-exceeded-reported",
        ),
        pytest.param(
            [_deployment("api", ready=1), _deployment("worker", ready=0, deadline_exceeded=True)],
            WAKE,
            AppStatus.DEGRADED,
            ["worker: wake since 14:02:07 failed", "api: 1 of 3 replicas ready, waking"],
            id="failure-not-hidden-by-another-waking",
        ),
        pytest.param(
            [_deployment("api", ready=1), _deployment("worker")],
            WAKE,
            AppStatus.WAKING,
            ["api"],
            id="one-of-two-still-waking",
        ),
        pytest.param([_deployment("api")], WAKE, AppStatus.HEALTHY, ["api"], id="woken"),
        pytest.param(
            [_deployment("api"), _deployment("batch", 0)],
            WAKE,
            AppStatus.HEALTHY,
            ["api", "batch"],
            id="woken-idle",
        ),
        pytest.param(
            [_deployment("api", ready=3, updated=1)],
            WAKE,
            AppStatus.PROGRESSING,
            ["api: rollout under way"],
            id="ready-but-rollout-under-way",
        ),
        pytest.param([_deployment("api", ready=1)], None, AppStatus.PROGRESSING, ["api"], id="no-wake-is-a-rollout"),
        pytest.param(
            [_hibernated(DEPLOYMENT, "api"), _deployment("worker", ready=1)],
            WAKE,
            AppStatus.PARTIALLY_HIBERNATED,
            ["1 of 2 workloads hibernated: api", "worker: 1 of 3 replicas ready, waking since 14:02:07"],
            id="partially-woken",
        ),
    ],
)
def test_waking(
    workloads: list[Workload], wake_started_at: datetime | None, expected: AppStatus, names: list[str]
) -> None:
    result = _derive(workloads, wake_started_at=wake_started_at)

    assert result.status is expected
    _assert_names(result.reason, names)


# Rule 6.
@pytest.mark.parametrize(
    ("workloads", "names"),
    [
        pytest.param(
            [_deployment("api", ready=1, deadline_exceeded=True)],
            ["api: rollout exceeded its progress deadline"],
            id="stuck-unready",
        ),
        pytest.param(
            [_deployment("api", updated=1, deadline_exceeded=True)],
            ["api"],
            id="stuck-new-replicaset-never-ready",
        ),
        pytest.param(
            [_deployment("api", ready=1), _deployment("worker", deadline_exceeded=True)],
            ["worker: rollout exceeded its progress deadline", "api: rollout under way"],
            id="wins-over-progressing",
        ),
        pytest.param(
            [_stateful_set("db", deadline_exceeded=True), _cron_job("nightly", suspended=False)],
            ["db"],
            id="statefulset-beside-cronjob",
        ),
    ],
)
def test_stuck_rollout_is_degraded(workloads: list[Workload], names: list[str]) -> None:
    result = _derive(workloads)

    assert result.status is AppStatus.DEGRADED
    _assert_names(result.reason, names)


# Rule 6, StatefulSets: they have no progress condition; a rollout not done the deadline after the
# last spec change is stuck. The deadline is a setting (HIBERNIA_STATEFULSET_PROGRESS_DEADLINE_SECONDS).
@pytest.mark.parametrize(
    ("workload", "deadline", "expected", "names"),
    [
        pytest.param(
            _stateful_set("db", ready=1, changed=NOW - timedelta(seconds=601)),
            600,
            AppStatus.DEGRADED,
            ["db: rollout not done 600s after its last spec change at 13:54:59", "1 of 3 replicas ready"],
            id="past-deadline",
        ),
        pytest.param(
            _stateful_set("db", ready=1, changed=NOW - timedelta(seconds=600)),
            600,
            AppStatus.PROGRESSING,
            ["db: rollout under way"],
            id="exactly-at-deadline",
        ),
        pytest.param(
            _stateful_set("db", generation=2, observed_generation=1, changed=NOW - timedelta(seconds=61)),
            60,
            AppStatus.DEGRADED,
            ["db", "generation 2 not yet observed"],
            id="generation-never-observed-shorter-deadline",
        ),
        pytest.param(
            _stateful_set("db", changed=NOW - timedelta(hours=5)),
            600,
            AppStatus.HEALTHY,
            ["db"],
            id="done-long-ago",
        ),
        pytest.param(_stateful_set("db", ready=1), 600, AppStatus.PROGRESSING, ["db"], id="change-time-unknown"),
        # Deployments have their own condition; the time of a spec change does not judge them.
        pytest.param(
            _deployment("api", ready=1, changed=NOW - timedelta(hours=1)),
            600,
            AppStatus.PROGRESSING,
            ["api"],
            id="deployment-not-judged-by-it",
        ),
    ],
)
def test_stuck_statefulset_is_degraded(
    workload: Workload, deadline: int, expected: AppStatus, names: list[str]
) -> None:
    result = derive_status(
        workloads=[workload], ever_deployed=True, hibernation={}, now=NOW, stateful_set_deadline_seconds=deadline
    )

    assert result.status is expected
    _assert_names(result.reason, names)


# Rule 7.
@pytest.mark.parametrize(
    ("workloads", "names"),
    [
        pytest.param(
            [_deployment("api", generation=2, observed_generation=1)],
            ["api: rollout under way", "generation 2 not yet observed"],
            id="generation-not-observed",
        ),
        pytest.param(
            [_deployment("api", updated=1)],
            ["api: rollout under way", "1 of 3 replicas updated"],
            id="updating",
        ),
        pytest.param([_deployment("api", ready=2)], ["api: rollout under way", "2 of 3 replicas ready"], id="unready"),
        pytest.param([_stateful_set("db", ready=0)], ["db"], id="statefulset"),
        pytest.param(
            [_deployment("api"), _deployment("web", ready=1), _cron_job("nightly", suspended=False)],
            ["web"],
            id="one-of-several",
        ),
    ],
)
def test_rollout_under_way_is_progressing(workloads: list[Workload], names: list[str]) -> None:
    result = _derive(workloads)

    assert result.status is AppStatus.PROGRESSING
    _assert_names(result.reason, names)


# Rule 8.
@pytest.mark.parametrize(
    ("workloads", "ever_deployed", "names"),
    [
        pytest.param([_deployment("api")], True, ["Workload healthy: api"], id="one-deployment"),
        pytest.param(
            [_deployment("api"), _stateful_set("db"), _cron_job("nightly", suspended=False)],
            True,
            ["All 3 workloads healthy: api, db, nightly"],
            id="mixed-kinds",
        ),
        pytest.param([_deployment("api")], False, ["api"], id="deployed-outside-hibernia"),
        pytest.param([_cron_job("nightly", suspended=False)], True, ["nightly"], id="cronjob-only"),
        pytest.param([_deployment("api", ready=4, updated=3)], True, ["api"], id="scaling-down-extra-pods-terminating"),
    ],
)
def test_otherwise_healthy(workloads: list[Workload], ever_deployed: bool, names: list[str]) -> None:
    result = _derive(workloads, ever_deployed=ever_deployed)

    assert result.status is AppStatus.HEALTHY
    _assert_names(result.reason, names)


# The per-workload view returned to GraphQL.
@pytest.mark.parametrize(
    ("workload", "record", "hibernated", "original_replicas"),
    [
        pytest.param(_hibernated(DEPLOYMENT, "api", 4), None, True, 4, id="from-annotation"),
        pytest.param(
            _hibernated(DEPLOYMENT, "api", 4),
            _record(DEPLOYMENT, "api", 2),
            True,
            4,
            id="annotation-wins-over-record",
        ),
        pytest.param(
            _deployment("api", 0, annotation="abc"),
            _record(DEPLOYMENT, "api", 2),
            False,
            2,
            id="record-fallback",
        ),
        pytest.param(_deployment("api", 0), None, False, None, id="unknown"),
        pytest.param(_deployment("api", 3, annotation="3"), None, False, 3, id="annotation-kept"),
        pytest.param(_cron_job("nightly", suspended=True), _record(CRON_JOB, "nightly"), True, None, id="cronjob"),
    ],
)
def test_workload_state(
    workload: Workload, record: RecordedHibernation | None, hibernated: bool, original_replicas: int | None
) -> None:
    result = _derive([workload], _records(record) if record else {})

    (state,) = result.workloads
    assert (state.kind, state.name) == (workload.kind, workload.name)
    assert (state.desired_replicas, state.ready_replicas) == (
        workload.desired_replicas,
        workload.ready_replicas,
    )
    assert state.hibernated is hibernated
    assert state.original_replicas == original_replicas
    assert state.images == workload.images


def test_result_does_not_depend_on_input_order() -> None:
    workloads = [
        _cron_job("nightly", suspended=False),
        _hibernated(STATEFUL_SET, "db"),
        _deployment("web", ready=1),
        _hibernated(DEPLOYMENT, "worker"),
        _hibernated(DEPLOYMENT, "api"),
    ]

    results = {_derive(list(permutation)) for permutation in itertools.permutations(workloads)}

    (result,) = results
    assert [(state.kind, state.name) for state in result.workloads] == [
        (DEPLOYMENT, "api"),
        (DEPLOYMENT, "web"),
        (DEPLOYMENT, "worker"),
        (STATEFUL_SET, "db"),
        (CRON_JOB, "nightly"),
    ]
    assert result.status is AppStatus.PARTIALLY_HIBERNATED
    assert "3 of 5 workloads hibernated: api, worker, db; awake: web, nightly" in result.reason
