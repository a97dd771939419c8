"""The status vocabulary of an app environment, and the values its derivation works with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.domain.workloads import WorkloadKind


class AppStatus(StrEnum):
    NOT_DEPLOYED = "NOT_DEPLOYED"
    HEALTHY = "HEALTHY"
    PROGRESSING = "PROGRESSING"
    DEGRADED = "DEGRADED"
    MISSING = "MISSING"
    HIBERNATING = "HIBERNATING"
    PARTIALLY_HIBERNATED = "PARTIALLY_HIBERNATED"
    WAKING = "WAKING"
    # Scaled-down workloads at a count above 0 (reduced mode), their originals kept to restore.
    REDUCED = "REDUCED"
    # Every workload at 0 replicas by its owner's choice: nothing hibernated, nothing to restore.
    STOPPED = "STOPPED"
    UNKNOWN = "UNKNOWN"


HIBERNATED_STATUSES = frozenset({AppStatus.HIBERNATING, AppStatus.PARTIALLY_HIBERNATED})


@dataclass(frozen=True, slots=True)
class RecordedHibernation:
    """What the database remembers hibernation changed on one workload."""

    kind: WorkloadKind
    name: str
    # Deployments and StatefulSets: the replicas to restore. None for CronJobs.
    original_replicas: int | None
    # CronJobs: the `suspend` value to restore. None for Deployments and StatefulSets.
    original_suspend: bool | None
    since: datetime
    actor: str


@dataclass(frozen=True, slots=True)
class WorkloadState:
    """One workload as the status derivation sees it."""

    kind: WorkloadKind
    name: str
    desired_replicas: int
    ready_replicas: int
    hibernated: bool
    # What unhibernate would restore: the annotation, else the database record. None when neither
    # knows, and always None for CronJobs (they restore `suspend`, not replicas).
    original_replicas: int | None
    images: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DerivedStatus:
    status: AppStatus
    # Why, in words a person understands; names the workloads concerned.
    reason: str
    # Sorted by kind (Deployment, StatefulSet, CronJob) then name.
    workloads: tuple[WorkloadState, ...]
