"""The Table format: what `kubectl get` asks for and prints.

A read (get, list or watch) whose `Accept` header asks for
`application/json;as=Table;g=meta.k8s.io;v=v1` (or `v=v1beta1`, which older kubectl versions list
too) is answered with a `meta.k8s.io` `Table`: the columns of the kind as the API server's printers
define them (priority 1 columns are those `-o wide` adds) and one row per object, whose `object` is
the object's `PartialObjectMetadata` (`?includeObject=Object`: the whole object; `None`: nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from app.simulator.resources import (
    CRON_JOBS,
    DEPLOYMENTS,
    HORIZONTAL_POD_AUTOSCALERS,
    NAMESPACES,
    STATEFUL_SETS,
    ResourceType,
)
from app.simulator.selectors import format_label_selector, selector_from_spec

Cells = Callable[[dict[str, Any]], list[Any]]

_NAME = ("Name", "string", "name", "Name must be unique within a namespace.", 0)
_AGE = (
    "Age",
    "string",
    "",
    "CreationTimestamp is a timestamp representing the server time when this object was created.",
    0,
)
_CONTAINERS = ("Containers", "string", "", "Names of each container in the template.", 1)
_IMAGES = ("Images", "string", "", "Images referenced by each container in the template.", 1)
_SELECTOR = ("Selector", "string", "", "Label selector for pods.", 1)

_COLUMNS: dict[ResourceType, tuple[tuple[str, str, str, str, int], ...]] = {
    DEPLOYMENTS: (
        _NAME,
        ("Ready", "string", "", "Number of the pod with ready state", 0),
        (
            "Up-to-date",
            "integer",
            "",
            "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
            0,
        ),
        (
            "Available",
            "integer",
            "",
            "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
            0,
        ),
        _AGE,
        _CONTAINERS,
        _IMAGES,
        _SELECTOR,
    ),
    STATEFUL_SETS: (
        _NAME,
        ("Ready", "string", "", "Number of the pod with ready state", 0),
        _AGE,
        _CONTAINERS,
        _IMAGES,
    ),
    CRON_JOBS: (
        _NAME,
        ("Schedule", "string", "", "The schedule in Cron format.", 0),
        ("Timezone", "string", "", "The time zone name for the given schedule.", 0),
        ("Suspend", "boolean", "", "This flag tells the controller to suspend subsequent executions.", 0),
        ("Active", "integer", "", "A list of pointers to currently running jobs.", 0),
        ("Last Schedule", "string", "", "Information when was the last time the job was successfully scheduled.", 0),
        _AGE,
        _CONTAINERS,
        _IMAGES,
        _SELECTOR,
    ),
    HORIZONTAL_POD_AUTOSCALERS: (
        _NAME,
        ("Reference", "string", "", "reference to the target of the HPA", 0),
        ("Targets", "string", "", "the current and desired metric values", 0),
        ("MinPods", "string", "", "lower limit for the number of pods", 0),
        ("MaxPods", "integer", "", "upper limit for the number of pods", 0),
        ("Replicas", "integer", "", "current number of replicas of pods managed by this autoscaler", 0),
        _AGE,
    ),
    NAMESPACES: (
        _NAME,
        ("Status", "string", "", "The status of the namespace", 0),
        _AGE,
    ),
}


def human_duration(seconds: float) -> str:
    """A duration as kubectl prints ages (apimachinery's `duration.HumanDuration`)."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y{days}d" if days else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def _since(timestamp: Any) -> str:
    if not isinstance(timestamp, str) or not timestamp:
        return "<unknown>"
    try:
        then = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return "<unknown>"
    return human_duration((datetime.now(UTC) - then).total_seconds())


def _pod_template(obj: dict[str, Any], rt: ResourceType) -> tuple[str, str]:
    spec = obj.get("spec") or {}
    if rt is CRON_JOBS:
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    names = ",".join(str(c.get("name", "")) for c in containers if isinstance(c, dict))
    images = ",".join(str(c.get("image", "")) for c in containers if isinstance(c, dict))
    return names, images


def _selector(obj: dict[str, Any]) -> str:
    selector = (obj.get("spec") or {}).get("selector")
    return format_label_selector(selector_from_spec(selector)) if selector else "<none>"


def _cells(rt: ResourceType, obj: dict[str, Any]) -> list[Any]:
    metadata, spec, status = obj["metadata"], obj.get("spec") or {}, obj.get("status") or {}
    name, age = metadata["name"], _since(metadata.get("creationTimestamp"))
    if rt is NAMESPACES:
        return [name, status.get("phase", ""), age]
    if rt is HORIZONTAL_POD_AUTOSCALERS:
        ref = spec.get("scaleTargetRef") or {}
        targets = []
        for metric in spec.get("metrics") or []:
            resource = (metric or {}).get("resource") or {}
            utilization = (resource.get("target") or {}).get("averageUtilization")
            if utilization is not None:
                targets.append(f"{resource.get('name')}: <unknown>/{utilization}%")
        return [
            name,
            f"{ref.get('kind', '')}/{ref.get('name', '')}",
            ", ".join(targets) or "<none>",
            str(spec.get("minReplicas", 1)),
            spec.get("maxReplicas", 0),
            status.get("currentReplicas", 0),
            age,
        ]
    containers, images = _pod_template(obj, rt)
    ready = f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}"
    if rt is DEPLOYMENTS:
        updated, available = status.get("updatedReplicas", 0), status.get("availableReplicas", 0)
        return [name, ready, updated, available, age, containers, images, _selector(obj)]
    if rt is STATEFUL_SETS:
        return [name, ready, age, containers, images]
    return [
        name,
        spec.get("schedule", ""),
        spec.get("timeZone") or "<none>",
        bool(spec.get("suspend", False)),
        len(status.get("active") or []),
        _since(status["lastScheduleTime"]) if status.get("lastScheduleTime") else "<none>",
        age,
        containers,
        images,
        "<none>",
    ]


def table_version(accept: str | None) -> str | None:
    """`v1` or `v1beta1` when the Accept header's first media type that we serve is a Table."""
    for media_range in (accept or "").split(","):
        parts = [part.strip() for part in media_range.split(";")]
        params = dict(part.split("=", 1) for part in parts[1:] if "=" in part)
        if parts[0] not in ("application/json", "*/*", "application/*"):
            continue
        if params.get("as") == "Table" and params.get("g") == "meta.k8s.io" and params.get("v") in ("v1", "v1beta1"):
            return params["v"]
        if "as" not in params:
            return None
    return None


def _row_object(obj: dict[str, Any], include: str, version: str) -> dict[str, Any] | None:
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": f"meta.k8s.io/{version}", "metadata": obj["metadata"]}


def to_table(
    rt: ResourceType,
    objects: list[dict[str, Any]],
    version: str,
    include_object: str | None,
    metadata: dict[str, Any] | None = None,
    *,
    with_columns: bool = True,
) -> dict[str, Any]:
    """A Table of `objects` (`with_columns=False` leaves the column definitions out, as in the
    watch events after the first)."""
    include = include_object or "Metadata"
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": _cells(rt, obj)}
        row_object = _row_object(obj, include, version)
        if row_object is not None:
            row["object"] = row_object
        rows.append(row)
    columns = [
        {"name": name, "type": kind, "format": fmt, "description": description, "priority": priority}
        for name, kind, fmt, description, priority in _COLUMNS[rt]
    ]
    return {
        "kind": "Table",
        "apiVersion": f"meta.k8s.io/{version}",
        "metadata": metadata or {},
        "columnDefinitions": columns if with_columns else [],
        "rows": rows,
    }
