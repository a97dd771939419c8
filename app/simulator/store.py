"""The simulator's object store: the API server's storage semantics without etcd.

Every write goes through `ObjectStore._commit`, which applies defaults, validates, bumps the global
`resourceVersion` counter (a decimal string, strictly increasing across all kinds, like etcd's
revision), bumps `metadata.generation` when the spec changed, and tells the subscribers (the
controller) what changed. Reads return deep copies: a caller can never mutate stored state.

Preconditions are the real ones: an update whose body carries `metadata.resourceVersion` different
from the stored one, or a patch that results in such a `resourceVersion`, fails with 409 Conflict.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.simulator import errors
from app.simulator.defaults import apply_defaults
from app.simulator.json_tree import clone
from app.simulator.patches import PatchConflictError, PatchFormatError, apply_patch
from app.simulator.resources import RESOURCE_TYPES, ResourceType
from app.simulator.selectors import (
    FieldSelector,
    LabelSelector,
    format_label_selector,
    selector_from_spec,
)
from app.simulator.validation import check_types, is_int, validate

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One committed write. `obj` is None for a deletion."""

    resource: ResourceType
    namespace: str
    name: str
    obj: dict[str, Any] | None
    spec_changed: bool
    by_controller: bool


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _metadata(obj: dict[str, Any]) -> dict[str, Any]:
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
        obj["metadata"] = metadata
    return metadata


class ObjectStore:
    """All objects of the served kinds, keyed by resource type, namespace and name."""

    def __init__(self) -> None:
        self._objects: dict[ResourceType, dict[Key, dict[str, Any]]] = {rt: {} for rt in RESOURCE_TYPES}
        self._revision = 0
        self._listeners: list[Callable[[ChangeEvent], None]] = []

    # ---- observation -------------------------------------------------------------------------

    @property
    def resource_version(self) -> str:
        """The current global revision, as a list's `metadata.resourceVersion` reports it."""
        return str(self._revision)

    def subscribe(self, listener: Callable[[ChangeEvent], None]) -> None:
        """Call `listener` after every committed write (synchronously, in the writer's task)."""
        self._listeners.append(listener)

    def clear(self) -> None:
        """Delete every object (the revision counter keeps increasing, as etcd's does)."""
        for objects in self._objects.values():
            objects.clear()

    def keys(self, rt: ResourceType) -> list[Key]:
        return sorted(self._objects[rt])

    # ---- reads -------------------------------------------------------------------------------

    def _stored(self, rt: ResourceType, namespace: str, name: str) -> dict[str, Any]:
        obj = self._objects[rt].get((namespace, name))
        if obj is None:
            raise errors.not_found(rt, name)
        return obj

    def get(self, rt: ResourceType, namespace: str, name: str) -> dict[str, Any]:
        return clone(self._stored(rt, namespace, name))

    def find(self, rt: ResourceType, namespace: str, name: str) -> dict[str, Any] | None:
        obj = self._objects[rt].get((namespace, name))
        return clone(obj) if obj is not None else None

    def list(
        self,
        rt: ResourceType,
        namespace: str | None,
        label_selector: LabelSelector | None = None,
        field_selector: FieldSelector | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
        *,
        copies: bool = True,
    ) -> tuple[list[dict[str, Any]], str, str | None]:
        """Matching objects in key order, the list's resourceVersion and the continue token.

        With `copies=False` the stored objects themselves come back, for a caller that only reads
        them (the API serialising a list): copying every object made a large LIST twice as slow.
        """
        start_after: Key | None = None
        if continue_token:
            try:
                decoded = json.loads(base64.urlsafe_b64decode(continue_token.encode()))
                start_after = (str(decoded["start"][0]), str(decoded["start"][1]))
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                raise errors.bad_request(f"continue key is not valid: {exc}") from exc
        items: list[dict[str, Any]] = []
        next_token: str | None = None
        for key in sorted(self._objects[rt]):
            if namespace is not None and key[0] != namespace:
                continue
            if start_after is not None and key <= start_after:
                continue
            obj = self._objects[rt][key]
            metadata = obj["metadata"]
            if label_selector is not None and not label_selector.matches(metadata.get("labels") or {}):
                continue
            if field_selector is not None and not field_selector.matches(
                {"metadata.name": key[1], "metadata.namespace": key[0]}
            ):
                continue
            if limit is not None and len(items) >= limit:
                last = items[-1]["metadata"]
                next_token = base64.urlsafe_b64encode(
                    json.dumps({"start": [last["namespace"], last["name"]]}).encode()
                ).decode()
                break
            items.append(clone(obj) if copies else obj)
        return items, self.resource_version, next_token

    # ---- writes ------------------------------------------------------------------------------

    def _commit(
        self,
        rt: ResourceType,
        namespace: str,
        new: dict[str, Any],
        old: dict[str, Any] | None,
        *,
        by_controller: bool = False,
        status_only: bool = False,
    ) -> dict[str, Any]:
        name = new["metadata"]["name"]
        new["apiVersion"] = rt.api_version
        new["kind"] = rt.kind
        apply_defaults(rt, new)
        causes = validate(rt, new, None if old is None or status_only else old)
        if causes:
            raise errors.invalid_object(rt, name, causes)
        spec_changed = old is None or old.get("spec") != new.get("spec")
        metadata = new["metadata"]
        if old is None:
            metadata["generation"] = 1
        elif spec_changed and not status_only:
            metadata["generation"] = int(old["metadata"].get("generation", 1)) + 1
        else:
            metadata["generation"] = old["metadata"].get("generation", 1)
        self._revision += 1
        metadata["resourceVersion"] = str(self._revision)
        self._objects[rt][(namespace, name)] = new
        event = ChangeEvent(rt, namespace, name, clone(new), spec_changed, by_controller)
        for listener in list(self._listeners):
            listener(event)
        return clone(new)

    @staticmethod
    def _check_identity(rt: ResourceType, body: dict[str, Any], namespace: str, name: str) -> None:
        metadata = _metadata(body)
        if metadata.get("name") not in (None, "", name):
            raise errors.bad_request(
                f"the name of the object ({metadata['name']}) does not match the name on the URL ({name})"
            )
        if metadata.get("namespace") not in (None, "", namespace):
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        metadata["name"] = name
        metadata["namespace"] = namespace

    @staticmethod
    def _check_precondition(rt: ResourceType, body: dict[str, Any], stored: dict[str, Any]) -> None:
        wanted = _metadata(body).get("resourceVersion")
        if wanted not in (None, "") and wanted != stored["metadata"]["resourceVersion"]:
            raise errors.conflict(rt, stored["metadata"]["name"])

    def create(self, rt: ResourceType, namespace: str, body: Any) -> dict[str, Any]:
        check_types(rt, body)
        obj = clone(body)
        metadata = _metadata(obj)
        if metadata.get("namespace") not in (None, "", namespace):
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        if not metadata.get("name") and metadata.get("generateName"):
            metadata["name"] = f"{metadata['generateName']}{secrets.token_hex(3)[:5]}"
        name = metadata.get("name") or ""
        if not name:
            causes = validate(rt, {**obj, "metadata": {**metadata, "name": ""}})
            raise errors.invalid_object(rt, "", causes)
        if (namespace, name) in self._objects[rt]:
            raise errors.already_exists(rt, name)
        metadata["namespace"] = namespace
        metadata["uid"] = str(uuid.uuid4())
        metadata["creationTimestamp"] = _now()
        for field in ("resourceVersion", "deletionTimestamp", "managedFields", "selfLink"):
            metadata.pop(field, None)
        obj["status"] = {}
        return self._commit(rt, namespace, obj, None)

    def _updated_object(self, stored: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        """`new` with the server-owned metadata of `stored`."""
        metadata = _metadata(new)
        for field in ("uid", "creationTimestamp", "generation"):
            if field in stored["metadata"]:
                metadata[field] = stored["metadata"][field]
        metadata.pop("managedFields", None)
        return new

    def replace(self, rt: ResourceType, namespace: str, name: str, body: Any) -> dict[str, Any]:
        """PUT on the main resource: the status is kept from the stored object."""
        check_types(rt, body)
        stored = self._stored(rt, namespace, name)
        new = clone(body)
        self._check_identity(rt, new, namespace, name)
        self._check_precondition(rt, new, stored)
        new = self._updated_object(stored, new)
        new["status"] = clone(stored.get("status", {}))
        return self._commit(rt, namespace, new, stored)

    def replace_status(self, rt: ResourceType, namespace: str, name: str, body: Any) -> dict[str, Any]:
        """PUT on /status: only the status changes."""
        check_types(rt, body)
        stored = self._stored(rt, namespace, name)
        incoming = clone(body)
        self._check_identity(rt, incoming, namespace, name)
        self._check_precondition(rt, incoming, stored)
        new = clone(stored)
        new["status"] = incoming.get("status") or {}
        return self._commit(rt, namespace, new, stored, status_only=True)

    def patch(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        content_type: str,
        patch: Any,
        *,
        status_only: bool = False,
    ) -> dict[str, Any]:
        stored = self._stored(rt, namespace, name)
        try:
            patched = apply_patch(content_type, stored, patch)
        except PatchFormatError as exc:
            raise errors.bad_request(str(exc)) from exc
        except PatchConflictError as exc:
            raise errors.invalid_object(rt, name, [errors.Cause("", str(exc))]) from exc
        check_types(rt, patched)
        self._check_identity(rt, patched, namespace, name)
        self._check_precondition(rt, patched, stored)
        if status_only:
            new = clone(stored)
            new["status"] = patched.get("status") or {}
        else:
            new = self._updated_object(stored, patched)
            new["status"] = clone(stored.get("status", {}))
        return self._commit(rt, namespace, new, stored, status_only=status_only)

    def delete(self, rt: ResourceType, namespace: str, name: str, options: Any = None) -> dict[str, Any]:
        stored = self._stored(rt, namespace, name)
        preconditions = options.get("preconditions") if isinstance(options, dict) else None
        if isinstance(preconditions, dict):
            if preconditions.get("resourceVersion") not in (None, stored["metadata"]["resourceVersion"]):
                raise errors.conflict(rt, name)
            if preconditions.get("uid") not in (None, stored["metadata"]["uid"]):
                raise errors.conflict(rt, name)
        del self._objects[rt][(namespace, name)]
        self._revision += 1
        event = ChangeEvent(rt, namespace, name, None, True, False)
        for listener in list(self._listeners):
            listener(event)
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {"name": name, "group": rt.group, "kind": rt.plural, "uid": stored["metadata"]["uid"]},
        }

    # ---- the scale subresource ---------------------------------------------------------------

    @staticmethod
    def scale_of(obj: dict[str, Any]) -> dict[str, Any]:
        """The autoscaling/v1 Scale view of a Deployment or StatefulSet."""
        metadata = obj["metadata"]
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                "name": metadata["name"],
                "namespace": metadata["namespace"],
                "uid": metadata["uid"],
                "resourceVersion": metadata["resourceVersion"],
                "creationTimestamp": metadata["creationTimestamp"],
            },
            "spec": {"replicas": spec.get("replicas", 0)},
            "status": {
                "replicas": status.get("replicas", 0),
                "selector": format_label_selector(selector_from_spec(spec.get("selector"))),
            },
        }

    def _require_scale(self, rt: ResourceType) -> None:
        if not rt.has_scale:
            raise errors.path_not_found()

    def get_scale(self, rt: ResourceType, namespace: str, name: str) -> dict[str, Any]:
        self._require_scale(rt)
        return self.scale_of(self._stored(rt, namespace, name))

    def _write_scale(self, rt: ResourceType, namespace: str, name: str, scale: Any) -> dict[str, Any]:
        stored = self._stored(rt, namespace, name)
        if not isinstance(scale, dict):
            raise errors.bad_request("the body of the request was not a JSON object")
        metadata = _metadata(scale)
        if metadata.get("name") not in (None, "", name):
            raise errors.bad_request(
                f"the name of the object ({metadata['name']}) does not match the name on the URL ({name})"
            )
        self._check_precondition(rt, scale, stored)
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
        return self.scale_of(self._commit(rt, namespace, new, stored))

    def replace_scale(self, rt: ResourceType, namespace: str, name: str, body: Any) -> dict[str, Any]:
        self._require_scale(rt)
        return self._write_scale(rt, namespace, name, clone(body))

    def patch_scale(self, rt: ResourceType, namespace: str, name: str, content_type: str, patch: Any) -> dict[str, Any]:
        self._require_scale(rt)
        current = self.scale_of(self._stored(rt, namespace, name))
        try:
            patched = apply_patch(content_type, current, patch)
        except PatchFormatError as exc:
            raise errors.bad_request(str(exc)) from exc
        except PatchConflictError as exc:
            raise errors.invalid(
                "Scale.autoscaling", "autoscaling", "Scale", name, [errors.Cause("", str(exc))]
            ) from exc
        return self._write_scale(rt, namespace, name, patched)

    # ---- controller writes -------------------------------------------------------------------

    def write_status(self, rt: ResourceType, namespace: str, name: str, status: dict[str, Any]) -> dict[str, Any]:
        """Replace the status unconditionally, as a controller does (no event for the controller)."""
        stored = self._stored(rt, namespace, name)
        new = clone(stored)
        new["status"] = clone(status)
        return self._commit(rt, namespace, new, stored, by_controller=True, status_only=True)

    def write_spec_field(self, rt: ResourceType, namespace: str, name: str, field: str, value: Any) -> dict[str, Any]:
        """Set one spec field as a controller does (the HPA setting replicas)."""
        stored = self._stored(rt, namespace, name)
        new = clone(stored)
        new.setdefault("spec", {})[field] = value
        return self._commit(rt, namespace, new, stored, by_controller=True)
