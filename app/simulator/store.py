"""The simulator's object store: the API server's storage semantics without etcd.

Every write goes through `ObjectStore.commit`, which applies defaults, validates, bumps the global
`resourceVersion` counter (a decimal string, strictly increasing across all kinds, like etcd's
revision), bumps `metadata.generation` when the spec changed, and tells the subscribers (the
controller, the watch history) what changed. Reads return deep copies: a caller can never mutate
stored state.

Preconditions are the real ones: an update whose body carries `metadata.resourceVersion` different
from the stored one, or a patch that results in such a `resourceVersion`, fails with 409 Conflict.

Dry runs (`dry_run=True`, the API's `dryRun=All`) go through every check and answer the object as
it would be stored, but store nothing, bump no revision and tell no subscriber: a dry-run create
answers no `resourceVersion`, a dry-run update the stored one.

Namespaces are objects too (cluster-scoped, keyed by `("", name)`): creating an object in a
namespace that does not exist creates the namespace, as if it had been created first, and deleting
a namespace deletes everything in it (at once; a real cluster takes a while).
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.simulator import errors
from app.simulator.defaults import apply_defaults
from app.simulator.json_tree import clone
from app.simulator.patches import PatchConflictError, PatchFormatError, apply_patch
from app.simulator.resources import NAMESPACES, RESOURCE_TYPES, ResourceType
from app.simulator.selectors import FieldSelector, LabelSelector, selectable_fields
from app.simulator.validation import check_types, validate

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One committed write: `obj` is the object as stored (None for a deletion), `old` as it was
    before (None for a creation); `resource_version` is the revision of the write."""

    resource: ResourceType
    namespace: str
    name: str
    obj: dict[str, Any] | None
    old: dict[str, Any] | None
    resource_version: int
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
        self._pending: deque[ChangeEvent] = deque()
        self._notifying = False

    # ---- observation -------------------------------------------------------------------------

    @property
    def resource_version(self) -> str:
        """The current global revision, as a list's `metadata.resourceVersion` reports it."""
        return str(self._revision)

    @property
    def revision(self) -> int:
        return self._revision

    def subscribe(self, listener: Callable[[ChangeEvent], None]) -> None:
        """Call `listener` after every committed write (synchronously, in the writer's task)."""
        self._listeners.append(listener)

    def _notify(self, event: ChangeEvent) -> None:
        # Listeners write too (the controller answers a spec change with a status write): their
        # events wait until every listener has seen the current one, so that every listener sees
        # the events in revision order, as a watch must.
        self._pending.append(event)
        if self._notifying:
            return
        self._notifying = True
        try:
            while self._pending:
                current = self._pending.popleft()
                for listener in list(self._listeners):
                    listener(current)
        finally:
            self._notifying = False

    def clear(self) -> None:
        """Delete every object, namespaces included, without events. The clearing takes a revision
        of its own (the counter only ever increases, as etcd's does), so that no resourceVersion
        read before it can pass for one read after."""
        for objects in self._objects.values():
            objects.clear()
        self._revision += 1

    def keys(self, rt: ResourceType) -> list[Key]:
        return sorted(self._objects[rt])

    # ---- reads -------------------------------------------------------------------------------

    def stored(self, rt: ResourceType, namespace: str, name: str) -> dict[str, Any]:
        """The stored object itself, for callers that only read it; 404 `ApiError` when absent."""
        obj = self._objects[rt].get((namespace, name))
        if obj is None:
            raise errors.not_found(rt, name)
        return obj

    def get(self, rt: ResourceType, namespace: str, name: str) -> dict[str, Any]:
        return clone(self.stored(rt, namespace, name))

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
            if label_selector is not None and not label_selector.matches(obj["metadata"].get("labels") or {}):
                continue
            if field_selector is not None and not field_selector.matches(selectable_fields(rt, obj)):
                continue
            if limit is not None and len(items) >= limit:
                last = items[-1]["metadata"]
                next_token = base64.urlsafe_b64encode(
                    json.dumps({"start": [last.get("namespace", ""), last["name"]]}).encode()
                ).decode()
                break
            items.append(clone(obj) if copies else obj)
        return items, self.resource_version, next_token

    # ---- writes ------------------------------------------------------------------------------

    def commit(
        self,
        rt: ResourceType,
        namespace: str,
        new: dict[str, Any],
        old: dict[str, Any] | None,
        *,
        by_controller: bool = False,
        status_only: bool = False,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Default, validate and store `new` (replacing `old`); returns a copy of what was stored."""
        name = new["metadata"]["name"]
        new["apiVersion"] = rt.api_version
        new["kind"] = rt.kind
        apply_defaults(rt, new)
        causes = validate(rt, new, None if old is None or status_only else old)
        if causes:
            raise errors.invalid_object(rt, name, causes)
        spec_changed = old is None or old.get("spec") != new.get("spec")
        metadata = new["metadata"]
        if not rt.has_generation:
            metadata.pop("generation", None)
        elif old is None:
            metadata["generation"] = 1
        elif spec_changed and not status_only:
            metadata["generation"] = int(old["metadata"].get("generation", 1)) + 1
        else:
            metadata["generation"] = old["metadata"].get("generation", 1)
        if rt.has_generation and spec_changed and not status_only:
            # As an API server does, the time of the latest spec write (Hibernia reads a StatefulSet's
            # progress from it); a single entry stands for every manager.
            metadata["managedFields"] = [
                {
                    "manager": "hibernia-simulator",
                    "operation": "Update",
                    "apiVersion": rt.api_version,
                    "time": _now(),
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:spec": {}},
                }
            ]
        elif old is not None and "managedFields" in old["metadata"]:
            metadata["managedFields"] = clone(old["metadata"]["managedFields"])
        if dry_run:
            if old is not None:
                metadata["resourceVersion"] = old["metadata"]["resourceVersion"]
            return clone(new)
        if rt.namespaced:
            self._ensure_namespace(namespace)
        self._revision += 1
        metadata["resourceVersion"] = str(self._revision)
        self._objects[rt][(namespace, name)] = new
        self._notify(ChangeEvent(rt, namespace, name, clone(new), old, self._revision, spec_changed, by_controller))
        return clone(new)

    def _ensure_namespace(self, namespace: str) -> None:
        if ("", namespace) not in self._objects[NAMESPACES]:
            self.create(NAMESPACES, "", {"metadata": {"name": namespace}})

    @staticmethod
    def check_identity(rt: ResourceType, body: dict[str, Any], namespace: str, name: str) -> None:
        """The body names the object of the URL (or nothing); 400 otherwise."""
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
        if rt.namespaced:
            metadata["namespace"] = namespace
        else:
            metadata.pop("namespace", None)

    @staticmethod
    def check_precondition(rt: ResourceType, body: dict[str, Any], stored: dict[str, Any]) -> None:
        """409 Conflict when the body carries a `resourceVersion` other than the stored one."""
        wanted = _metadata(body).get("resourceVersion")
        if wanted not in (None, "") and wanted != stored["metadata"]["resourceVersion"]:
            raise errors.conflict(rt, stored["metadata"]["name"])

    def create(self, rt: ResourceType, namespace: str, body: Any, *, dry_run: bool = False) -> dict[str, Any]:
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
        if rt.namespaced:
            metadata["namespace"] = namespace
        else:
            metadata.pop("namespace", None)
        metadata["uid"] = str(uuid.uuid4())
        metadata["creationTimestamp"] = _now()
        for field in ("resourceVersion", "deletionTimestamp", "managedFields", "selfLink"):
            metadata.pop(field, None)
        obj["status"] = {"phase": "Active"} if rt is NAMESPACES else {}
        return self.commit(rt, namespace, obj, None, dry_run=dry_run)

    @staticmethod
    def _updated_object(stored: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        """`new` with the server-owned metadata of `stored`."""
        metadata = _metadata(new)
        for field in ("uid", "creationTimestamp", "generation"):
            if field in stored["metadata"]:
                metadata[field] = stored["metadata"][field]
        metadata.pop("managedFields", None)
        return new

    def replace(
        self, rt: ResourceType, namespace: str, name: str, body: Any, *, dry_run: bool = False
    ) -> dict[str, Any]:
        """PUT on the main resource: the status is kept from the stored object."""
        check_types(rt, body)
        stored = self.stored(rt, namespace, name)
        new = clone(body)
        self.check_identity(rt, new, namespace, name)
        self.check_precondition(rt, new, stored)
        new = self._updated_object(stored, new)
        new["status"] = clone(stored.get("status", {}))
        return self.commit(rt, namespace, new, stored, dry_run=dry_run)

    def replace_status(
        self, rt: ResourceType, namespace: str, name: str, body: Any, *, dry_run: bool = False
    ) -> dict[str, Any]:
        """PUT on /status: only the status changes."""
        check_types(rt, body)
        stored = self.stored(rt, namespace, name)
        incoming = clone(body)
        self.check_identity(rt, incoming, namespace, name)
        self.check_precondition(rt, incoming, stored)
        new = clone(stored)
        new["status"] = incoming.get("status") or {}
        return self.commit(rt, namespace, new, stored, status_only=True, dry_run=dry_run)

    def patch(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        content_type: str,
        patch: Any,
        *,
        status_only: bool = False,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        stored = self.stored(rt, namespace, name)
        try:
            patched = apply_patch(content_type, stored, patch)
        except PatchFormatError as exc:
            raise errors.bad_request(str(exc)) from exc
        except PatchConflictError as exc:
            raise errors.invalid_object(rt, name, [errors.Cause("", str(exc))]) from exc
        check_types(rt, patched)
        self.check_identity(rt, patched, namespace, name)
        self.check_precondition(rt, patched, stored)
        if status_only:
            new = clone(stored)
            new["status"] = patched.get("status") or {}
        else:
            new = self._updated_object(stored, patched)
            new["status"] = clone(stored.get("status", {}))
        return self.commit(rt, namespace, new, stored, status_only=status_only, dry_run=dry_run)

    def delete(
        self, rt: ResourceType, namespace: str, name: str, options: Any = None, *, dry_run: bool = False
    ) -> dict[str, Any]:
        stored = self.stored(rt, namespace, name)
        preconditions = options.get("preconditions") if isinstance(options, dict) else None
        if isinstance(preconditions, dict):
            if preconditions.get("resourceVersion") not in (None, stored["metadata"]["resourceVersion"]):
                raise errors.conflict(rt, name)
            if preconditions.get("uid") not in (None, stored["metadata"]["uid"]):
                raise errors.conflict(rt, name)
        answer = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {"name": name, "group": rt.group, "kind": rt.plural, "uid": stored["metadata"]["uid"]},
        }
        if dry_run:
            return answer
        if rt is NAMESPACES:
            for contained in RESOURCE_TYPES:
                if contained.namespaced:
                    for key in [key for key in self._objects[contained] if key[0] == name]:
                        self.delete(contained, *key)
        del self._objects[rt][(namespace, name)]
        self._revision += 1
        # The DELETED event carries the object's last state at the revision of its deletion.
        gone = clone(stored)
        gone["metadata"]["resourceVersion"] = str(self._revision)
        self._notify(ChangeEvent(rt, namespace, name, None, gone, self._revision, True, False))
        return answer

    # ---- controller writes -------------------------------------------------------------------

    def write_status(self, rt: ResourceType, namespace: str, name: str, status: dict[str, Any]) -> dict[str, Any]:
        """Replace the status unconditionally, as a controller does."""
        stored = self.stored(rt, namespace, name)
        new = clone(stored)
        new["status"] = clone(status)
        return self.commit(rt, namespace, new, stored, by_controller=True, status_only=True)

    def write_spec_field(self, rt: ResourceType, namespace: str, name: str, field: str, value: Any) -> dict[str, Any]:
        """Set one spec field as a controller does (the HPA setting replicas)."""
        stored = self.stored(rt, namespace, name)
        new = clone(stored)
        new.setdefault("spec", {})[field] = value
        return self.commit(rt, namespace, new, stored, by_controller=True)
