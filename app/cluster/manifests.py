"""Kubernetes JSON to `Workload`, and the Deployment Hibernia creates on a first deploy.

The gateway asks kubernetes-asyncio for raw JSON (`_preload_content=False`) and converts it here:
the client's model deserialisation is by far the slowest part of a LIST.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.cluster.gateway import pod_template_path
from app.domain.workloads import RELEASE_LABEL, Workload, WorkloadKind

NAME_LABEL = "app.kubernetes.io/name"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"


def _int(value: Any, default: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        return default
    return value


def is_map(value: Any) -> bool:
    # JSON gives dicts: checked first, as the Mapping ABC check costs ten times more (every list
    # item goes through here a dozen times).
    return type(value) is dict or isinstance(value, Mapping)


def _string_map(value: Any) -> dict[str, str]:
    if not is_map(value):
        return {}
    return {str(k): str(v) for k, v in value.items() if v is not None}


def _dig(obj: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not is_map(obj):
            return None
        obj = obj.get(part)
    return obj


def _spec_changed_at(metadata: Mapping[str, Any]) -> datetime | None:
    """The latest time a field manager wrote anything but the status, or None when none says."""
    latest: datetime | None = None
    for entry in metadata.get("managedFields") or ():
        if not is_map(entry) or entry.get("subresource") == "status" or not isinstance(entry.get("time"), str):
            continue
        try:
            at = datetime.fromisoformat(entry["time"])
        except ValueError:
            continue
        if at.tzinfo is not None and (latest is None or at > latest):
            latest = at
    return latest


def workload_from_manifest(kind: WorkloadKind, obj: Mapping[str, Any]) -> Workload:
    """A `Workload` from the JSON of a Deployment, StatefulSet or CronJob (list items included)."""
    metadata = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    containers = _dig(obj, (*pod_template_path(kind), "spec", "containers")) or []
    containers = [c for c in containers if is_map(c)]
    images = tuple(str(c.get("image") or "") for c in containers)
    generation = _int(metadata.get("generation"), 1)
    common: dict[str, Any] = {
        "kind": kind,
        "name": str(metadata.get("name", "")),
        "namespace": str(metadata.get("namespace", "")),
        "resource_version": str(metadata.get("resourceVersion", "")),
        "generation": generation,
        "labels": _string_map(metadata.get("labels")),
        "annotations": _string_map(metadata.get("annotations")),
        "images": images,
        "container_names": tuple(str(c.get("name") or "") for c in containers if is_map(c) and c.get("image")),
    }
    if kind is WorkloadKind.CRON_JOB:
        # A CronJob has no rollout: it is always "observed".
        return Workload(
            desired_replicas=0,
            observed_generation=generation,
            suspended=spec.get("suspend") is True,
            **common,
        )
    progressing = next(
        (c for c in status.get("conditions") or [] if is_map(c) and c.get("type") == "Progressing"),
        None,
    )
    return Workload(
        desired_replicas=_int(spec.get("replicas"), 1),
        ready_replicas=_int(status.get("readyReplicas"), 0),
        updated_replicas=_int(status.get("updatedReplicas"), 0),
        available_replicas=_int(status.get("availableReplicas"), 0),
        observed_generation=_int(status.get("observedGeneration"), 0),
        progress_deadline_exceeded=progressing is not None and progressing.get("reason") == "ProgressDeadlineExceeded",
        progress_deadline_seconds=_int(spec.get("progressDeadlineSeconds"), 600),
        spec_changed_at=_spec_changed_at(metadata) if kind is WorkloadKind.STATEFUL_SET else None,
        **common,
    )


def deployment_manifest(
    namespace: str, name: str, release: str, image: str, replicas: int, container_name: str
) -> dict[str, Any]:
    """The Deployment Hibernia creates on an app environment's first deploy."""
    selector = {RELEASE_LABEL: release, NAME_LABEL: name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {**selector, MANAGED_BY_LABEL: "hibernia"},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(selector)},
            "template": {
                "metadata": {"labels": dict(selector)},
                "spec": {"containers": [{"name": container_name, "image": image}]},
            },
        },
    }
