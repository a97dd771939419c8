"""The defaults the API server fills in on every write, for the fields Hibernia reads."""

from __future__ import annotations

from typing import Any

from app.simulator.resources import (
    CRON_JOBS,
    DEPLOYMENTS,
    HORIZONTAL_POD_AUTOSCALERS,
    NAMESPACES,
    STATEFUL_SETS,
    ResourceType,
)


def _default(mapping: dict[str, Any], key: str, value: Any) -> None:
    if mapping.get(key) is None:
        mapping[key] = value


def _pod_spec_defaults(template: Any) -> None:
    if not isinstance(template, dict):
        return
    spec = template.get("spec")
    if not isinstance(spec, dict):
        return
    _default(spec, "restartPolicy", "Always")
    _default(spec, "terminationGracePeriodSeconds", 30)
    _default(spec, "dnsPolicy", "ClusterFirst")
    _default(spec, "schedulerName", "default-scheduler")
    for container in spec.get("containers") or []:
        if isinstance(container, dict):
            image = container.get("image")
            latest = isinstance(image, str) and (":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest"))
            _default(container, "imagePullPolicy", "Always" if latest else "IfNotPresent")
            _default(container, "terminationMessagePath", "/dev/termination-log")
            _default(container, "terminationMessagePolicy", "File")


def apply_defaults(rt: ResourceType, obj: dict[str, Any]) -> None:
    """Fill in defaults in place (idempotent)."""
    if rt is NAMESPACES:
        # The API server labels every namespace with its name and gives it the kubernetes finalizer.
        metadata = obj["metadata"]
        metadata["labels"] = {**(metadata.get("labels") or {}), "kubernetes.io/metadata.name": metadata["name"]}
        namespace_spec: dict[str, Any] = obj["spec"] if isinstance(obj.get("spec"), dict) else {}
        obj["spec"] = namespace_spec
        _default(namespace_spec, "finalizers", ["kubernetes"])
        return
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    if rt is DEPLOYMENTS:
        _default(spec, "replicas", 1)
        _default(spec, "progressDeadlineSeconds", 600)
        _default(spec, "revisionHistoryLimit", 10)
        _default(
            spec,
            "strategy",
            {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
        )
        _pod_spec_defaults(spec.get("template"))
    elif rt is STATEFUL_SETS:
        _default(spec, "replicas", 1)
        _default(spec, "podManagementPolicy", "OrderedReady")
        _default(spec, "revisionHistoryLimit", 10)
        _default(spec, "updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        _pod_spec_defaults(spec.get("template"))
    elif rt is CRON_JOBS:
        _default(spec, "suspend", False)
        _default(spec, "concurrencyPolicy", "Allow")
        _default(spec, "successfulJobsHistoryLimit", 3)
        _default(spec, "failedJobsHistoryLimit", 1)
        job_template = spec.get("jobTemplate")
        if isinstance(job_template, dict) and isinstance(job_template.get("spec"), dict):
            _pod_spec_defaults(job_template["spec"].get("template"))
    elif rt is HORIZONTAL_POD_AUTOSCALERS:
        _default(spec, "minReplicas", 1)
