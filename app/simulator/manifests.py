"""Builders of the manifests the simulator is seeded with (plain dicts, as the API takes them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.domain.workloads import HIBERNATION_ANNOTATION, RELEASE_LABEL

NAME_LABEL = "app.kubernetes.io/name"


def _metadata(
    namespace: str,
    name: str,
    release: str | None,
    annotations: Mapping[str, str] | None,
    labels: Mapping[str, str] | None,
) -> dict[str, Any]:
    all_labels = {NAME_LABEL: name}
    if release is not None:
        all_labels[RELEASE_LABEL] = release
    all_labels.update(labels or {})
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "labels": all_labels}
    if annotations:
        metadata["annotations"] = dict(annotations)
    return metadata


def _hibernation(
    replicas: int, annotations: Mapping[str, str] | None, hibernated_from: int | None
) -> tuple[int, dict[str, str]]:
    merged = dict(annotations or {})
    if hibernated_from is None:
        return replicas, merged
    merged[HIBERNATION_ANNOTATION] = str(hibernated_from)
    return 0, merged


def _pod_template(name: str, release: str | None, image: str, container_name: str | None) -> dict[str, Any]:
    labels = {NAME_LABEL: name}
    if release is not None:
        labels[RELEASE_LABEL] = release
    return {
        "metadata": {"labels": labels},
        "spec": {"containers": [{"name": container_name or name, "image": image}]},
    }


def deployment_manifest(
    namespace: str,
    name: str,
    release: str | None,
    replicas: int = 1,
    image: str = "nginx:1.27",
    *,
    container_name: str | None = None,
    annotations: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    hibernated_from: int | None = None,
) -> dict[str, Any]:
    """A Deployment labelled with `release` (None: no release label); with `hibernated_from=N` it is
    stored hibernated: 0 replicas and the hibernation annotation saying N (`replicas` is then ignored)."""
    replicas, merged = _hibernation(replicas, annotations, hibernated_from)
    template = _pod_template(name, release, image, container_name)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(namespace, name, release, merged, labels),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(template["metadata"]["labels"])},
            "template": template,
        },
    }


def statefulset_manifest(
    namespace: str,
    name: str,
    release: str | None,
    replicas: int = 1,
    image: str = "postgres:16",
    *,
    container_name: str | None = None,
    annotations: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    hibernated_from: int | None = None,
) -> dict[str, Any]:
    replicas, merged = _hibernation(replicas, annotations, hibernated_from)
    template = _pod_template(name, release, image, container_name)
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _metadata(namespace, name, release, merged, labels),
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "selector": {"matchLabels": dict(template["metadata"]["labels"])},
            "template": template,
        },
    }


def cronjob_manifest(
    namespace: str,
    name: str,
    release: str | None,
    image: str = "busybox:1.36",
    *,
    schedule: str = "*/15 * * * *",
    suspend: bool = False,
    container_name: str | None = None,
    annotations: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    template = _pod_template(name, release, image, container_name)
    template["spec"]["restartPolicy"] = "OnFailure"
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": _metadata(namespace, name, release, annotations, labels),
        "spec": {"schedule": schedule, "suspend": suspend, "jobTemplate": {"spec": {"template": template}}},
    }


def hpa_manifest(
    namespace: str,
    name: str,
    target_name: str,
    *,
    target_kind: str = "Deployment",
    min_replicas: int = 1,
    max_replicas: int = 5,
    release: str | None = None,
    cpu_utilization: int = 80,
) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _metadata(namespace, name, target_name if release is None else release, None, None),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": target_kind, "name": target_name},
            "minReplicas": min_replicas,
            "maxReplicas": max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": cpu_utilization},
                    },
                }
            ],
        },
    }
