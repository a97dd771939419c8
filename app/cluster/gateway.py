"""What the rest of Hibernia may ask of a Kubernetes cluster, and how that can fail.

`ClusterGateway` is the protocol; `app.cluster.kubernetes_gateway.KubernetesGateway` implements it
with kubernetes-asyncio (against a real API server or the simulator). Every method raises only the
`ClusterError` subclasses below, never a client library exception:

- `ClusterUnavailable(reason)`: connection refused or reset, timeout, 5xx after the retries, 429
  beyond the retry budget, the client-side rate limit exhausted within the call's timeout; status
  derivation turns it into UNKNOWN with the reason. `AccessDenied` (403) is one of these.
- `WriteOutcomeUnknown(reason)`, also a `ClusterUnavailable`: a write (patch or create) may have
  reached the API server, but no answer says whether it landed (a timeout or a lost connection after
  the request was sent, a 5xx other than 503). Only reading the object again tells.
- `WorkloadNotFound`: 404 on a named workload.
- `WorkloadConflict`: 409; a stale `resourceVersion` (re-read and retry) or, on create, an object
  that already exists (`already_exists=True`).
- `InvalidWorkload`: 400/422; the API server rejected the object or the patch.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from app.domain.workloads import Workload, WorkloadKind

if TYPE_CHECKING:
    from app.cluster.watching import WatchEvent


class ClusterError(Exception):
    """Base of every error a gateway raises."""


class ClusterUnavailable(ClusterError):
    """The cluster could not answer: unreachable, too slow, refusing us, or failing."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WriteOutcomeUnknown(ClusterUnavailable):
    """A write may or may not have landed: read the object back before telling anyone."""


class AccessDenied(ClusterUnavailable):
    """403: the credentials may not do this (for a list in all namespaces: they have a namespaced Role)."""


class WorkloadNotFound(ClusterError):
    def __init__(self, kind: WorkloadKind, namespace: str, name: str) -> None:
        super().__init__(f'{kind.value} "{name}" not found in namespace "{namespace}"')
        self.kind = kind
        self.namespace = namespace
        self.name = name


class WorkloadConflict(ClusterError):
    """409 from the API server. `already_exists` tells a create conflict from a stale write."""

    def __init__(
        self, kind: WorkloadKind, namespace: str, name: str, message: str = "", *, already_exists: bool = False
    ) -> None:
        default = (
            f'{kind.value} "{name}" already exists in namespace "{namespace}"'
            if already_exists
            else f'{kind.value} "{name}" in namespace "{namespace}" was modified since it was read'
        )
        super().__init__(message or default)
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.already_exists = already_exists


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One field the API server rejected (`field` is a path such as `spec.replicas`)."""

    field: str
    message: str


class InvalidWorkload(ClusterError):
    """400/422 from the API server: the object or patch is not acceptable."""

    def __init__(
        self,
        kind: WorkloadKind,
        namespace: str,
        name: str,
        message: str,
        problems: tuple[FieldProblem, ...] = (),
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.message = message
        self.problems = problems


class ClusterGateway(Protocol):
    """One Kubernetes cluster, seen through the few operations Hibernia needs."""

    async def list_workloads(self, namespace: str | None, kind: WorkloadKind, label_selector: str) -> list[Workload]:
        """The workloads of one kind in a namespace (None: in all namespaces) matching a label
        selector (`""`: all), by namespace and name."""
        ...

    async def list_versioned(
        self, namespace: str | None, kind: WorkloadKind, label_selector: str
    ) -> tuple[list[Workload], str]:
        """`list_workloads`, and the list's resourceVersion (to watch from)."""
        ...

    def watch(
        self,
        namespace: str | None,
        kind: WorkloadKind,
        label_selector: str,
        resource_version: str,
        timeout_seconds: int,
    ) -> AsyncIterator[WatchEvent]:
        """The changes after `resource_version` (bookmarks included) until the server ends the watch;
        `app.cluster.watching.WatchExpired` when that version is older than the server's history."""
        ...

    async def get_workload(self, namespace: str, kind: WorkloadKind, name: str) -> Workload: ...

    async def patch_workload(
        self,
        namespace: str,
        kind: WorkloadKind,
        name: str,
        patch: dict[str, Any],
        *,
        resource_version: str,
    ) -> Workload:
        """Apply a merge-style patch guarded by `resource_version` (stale → `WorkloadConflict`).

        Maps merge recursively and `None` deletes a key (e.g. an annotation); the containers list
        is merged by container name (see `container_image_patch`). Returns the workload as written.
        """
        ...

    async def create_deployment(
        self,
        namespace: str,
        name: str,
        release: str,
        image: str,
        replicas: int,
        container_name: str,
    ) -> Workload: ...

    async def close(self) -> None: ...


def pod_template_path(kind: WorkloadKind) -> tuple[str, ...]:
    """Where the pod template lives in a workload of this kind."""
    if kind is WorkloadKind.CRON_JOB:
        return ("spec", "jobTemplate", "spec", "template")
    return ("spec", "template")


def container_image_patch(kind: WorkloadKind, container_name: str, image: str) -> dict[str, Any]:
    """A patch setting one container's image and leaving the other containers alone."""
    patch: dict[str, Any] = {"containers": [{"name": container_name, "image": image}]}
    patch = {"spec": patch}
    for part in reversed(pod_template_path(kind)):
        patch = {part: patch}
    return patch
