"""What Hibernia knows about one Kubernetes workload, independent of the client that read it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

# The annotation Devtron and winter-soldier write on a hibernated workload: its replicas before
# hibernation. Using the same key lets the three tools hibernate and wake each other's apps.
HIBERNATION_ANNOTATION = "hibernator.devtron.ai/replicas"
_DIGITS = re.compile(r"[0-9]{1,9}")
# On a CronJob suspended by hibernation: the `suspend` it had before ("false"), so the cluster itself
# says which suspension is hibernation's and what to restore, as the replicas annotation does.
SUSPEND_ANNOTATION = "hibernia.io/original-suspend"
# The label that ties a workload to a release (Helm's convention).
RELEASE_LABEL = "app.kubernetes.io/instance"


class WorkloadKind(StrEnum):
    DEPLOYMENT = "Deployment"
    STATEFUL_SET = "StatefulSet"
    CRON_JOB = "CronJob"


@dataclass(frozen=True, slots=True)
class Workload:
    """A workload as read from the cluster.

    For a CronJob the replica fields are 0 and `suspended` says whether it is suspended; for
    Deployments and StatefulSets `suspended` is None.
    """

    kind: WorkloadKind
    name: str
    namespace: str
    resource_version: str
    desired_replicas: int
    ready_replicas: int = 0
    updated_replicas: int = 0
    available_replicas: int = 0
    generation: int = 1
    observed_generation: int = 1
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    images: tuple[str, ...] = ()
    # Container names, in the same order as `images`.
    container_names: tuple[str, ...] = ()
    suspended: bool | None = None
    # True when the Progressing condition says ProgressDeadlineExceeded.
    progress_deadline_exceeded: bool = False
    progress_deadline_seconds: int = 600
    # When its spec last changed, as the API server's field managers say (status writes excluded);
    # None when it does not say. A StatefulSet has no progress condition: its deadline counts from here.
    spec_changed_at: datetime | None = None

    @property
    def release(self) -> str | None:
        return self.labels.get(RELEASE_LABEL)

    @property
    def annotated_replicas(self) -> int | None:
        """The original replicas written by hibernation, or None when absent or unreadable."""
        raw = self.annotations.get(HIBERNATION_ANNOTATION)
        # Plain ASCII digits only, as Devtron writes and reads it ("+3", " 3" or "1_000" are not valid).
        if raw is None or not _DIGITS.fullmatch(raw):
            return None
        return int(raw)

    @property
    def reduced_from(self) -> int | None:
        """The original replicas of a Deployment or StatefulSet hibernation scaled down to a count
        above 0 (reduced mode): the annotation, when it is above the replicas wanted now."""
        annotated = self.annotated_replicas
        if self.kind is WorkloadKind.CRON_JOB or annotated is None or not 0 < self.desired_replicas < annotated:
            return None
        return annotated

    @property
    def annotated_suspend(self) -> bool | None:
        """A CronJob's `suspend` before hibernation, or None when absent or unreadable."""
        return {"true": True, "false": False}.get(self.annotations.get(SUSPEND_ANNOTATION, ""))


def newest_version(workloads: Iterable[Workload]) -> int | None:
    """The newest resourceVersion among these workloads (an etcd revision), or None when there is
    none or one is not a number."""
    versions = [w.resource_version for w in workloads]
    if not versions or not all(v.isdigit() for v in versions):
        return None
    return max(int(v) for v in versions)
