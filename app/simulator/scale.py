"""The `scale` subresource (autoscaling/v1 `Scale`) of Deployments and StatefulSets.

Reading it shows `spec.replicas`, `status.replicas` and the label selector; writing it (PUT or
PATCH, with `resourceVersion` preconditions and dry runs) changes only the workload's
`spec.replicas`.
"""

from __future__ import annotations

from typing import Any

from app.simulator import errors
from app.simulator.json_tree import clone
from app.simulator.patches import PatchConflictError, PatchFormatError, apply_patch
from app.simulator.resources import ResourceType
from app.simulator.selectors import format_label_selector, selector_from_spec
from app.simulator.store import ObjectStore
from app.simulator.validation import is_int


def scale_of(obj: dict[str, Any]) -> dict[str, Any]:
    """The autoscaling/v1 Scale view of a Deployment or StatefulSet."""
    metadata = obj["metadata"]
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    scale_metadata = {
        "name": metadata["name"],
        "namespace": metadata["namespace"],
        "uid": metadata["uid"],
        "creationTimestamp": metadata["creationTimestamp"],
    }
    if "resourceVersion" in metadata:
        scale_metadata["resourceVersion"] = metadata["resourceVersion"]
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": scale_metadata,
        "spec": {"replicas": spec.get("replicas", 0)},
        "status": {
            "replicas": status.get("replicas", 0),
            "selector": format_label_selector(selector_from_spec(spec.get("selector"))),
        },
    }


def _require_scale(rt: ResourceType) -> None:
    if not rt.has_scale:
        raise errors.path_not_found()


def get_scale(store: ObjectStore, rt: ResourceType, namespace: str, name: str) -> dict[str, Any]:
    _require_scale(rt)
    return scale_of(store.stored(rt, namespace, name))


def _write_scale(
    store: ObjectStore, rt: ResourceType, namespace: str, name: str, scale: Any, dry_run: bool
) -> dict[str, Any]:
    stored = store.stored(rt, namespace, name)
    if not isinstance(scale, dict):
        raise errors.bad_request("the body of the request was not a JSON object")
    metadata: dict[str, Any] = scale["metadata"] if isinstance(scale.get("metadata"), dict) else {}
    if metadata.get("name") not in (None, "", name):
        raise errors.bad_request(
            f"the name of the object ({metadata['name']}) does not match the name on the URL ({name})"
        )
    store.check_precondition(rt, scale, stored)
    replicas = (scale.get("spec") or {}).get("replicas", 0)
    if not is_int(replicas):
        raise errors.bad_request(
            'Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal '
            "into Go struct field ScaleSpec.spec.replicas of type int32"
        )
    if replicas < 0:
        raise errors.invalid(
            "Scale.autoscaling",
            "autoscaling",
            "Scale",
            name,
            [errors.Cause("spec.replicas", f"Invalid value: {replicas}: must be greater than or equal to 0")],
        )
    new = clone(stored)
    new["spec"]["replicas"] = replicas
    return scale_of(store.commit(rt, namespace, new, stored, dry_run=dry_run))


def replace_scale(
    store: ObjectStore, rt: ResourceType, namespace: str, name: str, body: Any, *, dry_run: bool = False
) -> dict[str, Any]:
    _require_scale(rt)
    return _write_scale(store, rt, namespace, name, clone(body), dry_run)


def patch_scale(
    store: ObjectStore,
    rt: ResourceType,
    namespace: str,
    name: str,
    content_type: str,
    patch: Any,
    *,
    dry_run: bool = False,
) -> dict[str, Any]:
    _require_scale(rt)
    current = scale_of(store.stored(rt, namespace, name))
    try:
        patched = apply_patch(content_type, current, patch)
    except PatchFormatError as exc:
        raise errors.bad_request(str(exc)) from exc
    except PatchConflictError as exc:
        raise errors.invalid("Scale.autoscaling", "autoscaling", "Scale", name, [errors.Cause("", str(exc))]) from exc
    return _write_scale(store, rt, namespace, name, patched, dry_run)
