"""The three patch formats the API server accepts for built-in types.

- JSON merge patch (RFC 7386, `application/merge-patch+json`): maps merge recursively, `null`
  deletes a key, any other value (lists included) replaces.
- Strategic merge patch (`application/strategic-merge-patch+json`): like a merge patch, but lists
  that Kubernetes declares with a merge key are merged element by element: `containers`,
  `initContainers`, `env`, `volumes`, `imagePullSecrets` by `name`, `ports` by `containerPort`,
  `volumeMounts` by `mountPath`, `conditions` by `type`. An element `{"<key>": ..., "$patch": "delete"}`
  removes the element; `{"$patch": "replace"}` in a map replaces the map. Other `$` directives
  (`$setElementOrder/...`, `$retainKeys`, ...) are accepted and ignored.
- JSON patch (RFC 6902, `application/json-patch+json`): add, remove, replace, move, copy, test.

`PatchFormatError` means the document itself is malformed (answered 400); `PatchConflictError`
means a well-formed patch does not apply to the object (answered 422).
"""

from __future__ import annotations

from typing import Any

from app.simulator.json_tree import clone

MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
PATCH_TYPES = (MERGE_PATCH, STRATEGIC_MERGE_PATCH, JSON_PATCH)

# Field name → merge key, for the lists of the workload types the simulator serves.
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "imagePullSecrets": "name",
    "ports": "containerPort",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "conditions": "type",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
}


class PatchFormatError(ValueError):
    """The patch document is malformed."""


class PatchConflictError(ValueError):
    """The patch is well formed but cannot be applied to this object."""


def apply_patch(content_type: str, target: dict[str, Any], patch: Any) -> dict[str, Any]:
    """Apply a patch of the given media type to a copy of `target` and return the result."""
    if content_type == MERGE_PATCH:
        if not isinstance(patch, dict):
            raise PatchFormatError("a merge patch must be a JSON object")
        result = merge_patch(target, patch)
    elif content_type == STRATEGIC_MERGE_PATCH:
        if not isinstance(patch, dict):
            raise PatchFormatError("a strategic merge patch must be a JSON object")
        result = strategic_merge_patch(target, patch)
    elif content_type == JSON_PATCH:
        if not isinstance(patch, list):
            raise PatchFormatError("a JSON patch must be a JSON array of operations")
        result = json_patch(target, patch)
    else:  # pragma: no cover - the caller checks the media type first
        raise PatchFormatError(f"unsupported patch type {content_type}")
    if not isinstance(result, dict):
        raise PatchConflictError("the patched document is not a JSON object")
    return result


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: returns a new document; neither argument is modified."""
    if not isinstance(patch, dict):
        return clone(patch)
    result: dict[str, Any] = clone(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """A strategic merge patch limited to the merge keys in `MERGE_KEYS`."""
    return _smp_value(target, patch, None)


def _smp_value(target: Any, patch: Any, field: str | None) -> Any:
    if isinstance(patch, dict):
        return _smp_map(target, patch)
    if isinstance(patch, list) and field in MERGE_KEYS and isinstance(target, list):
        return _smp_list(target, patch, MERGE_KEYS[field])
    if isinstance(patch, list) and field in MERGE_KEYS:
        return _smp_list([], patch, MERGE_KEYS[field])
    return clone(patch)


def _smp_map(target: Any, patch: dict[str, Any]) -> dict[str, Any]:
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: clone(v) for k, v in patch.items() if not k.startswith("$")}
    if directive == "delete":
        return {}
    if directive is not None:
        raise PatchFormatError(f"unknown patch directive $patch: {directive!r}")
    result: dict[str, Any] = clone(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _smp_value(result.get(key), value, key)
    return result


def _smp_list(target: list[Any], patch: list[Any], merge_key: str) -> list[Any]:
    result = clone(target)
    for item in patch:
        if not isinstance(item, dict):
            raise PatchConflictError(f"the list items merged by {merge_key!r} must be objects, got {item!r}")
        if item.get("$patch") == "replace":
            return [clone({k: v for k, v in i.items() if not k.startswith("$")}) for i in patch]
        if merge_key not in item:
            raise PatchConflictError(f"map: {item!r} does not contain declared merge key: {merge_key}")
        key_value = item[merge_key]
        position = next(
            (
                i
                for i, existing in enumerate(result)
                if isinstance(existing, dict) and existing.get(merge_key) == key_value
            ),
            None,
        )
        if item.get("$patch") == "delete":
            if position is not None:
                del result[position]
            continue
        if position is None:
            result.append(_smp_map({}, item))
        else:
            result[position] = _smp_map(result[position], item)
    return result


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise PatchFormatError(f"invalid JSON pointer {path!r}")
    if path == "":
        return []
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _parent(document: Any, parts: list[str], path: str) -> tuple[Any, str]:
    node = document
    for part in parts[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise PatchConflictError(f"doc is missing path: {path!r}")
    return node, parts[-1]


def _get(document: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        return document
    parent, last = _parent(document, parts, path)
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent[int(last)]
    raise PatchConflictError(f"doc is missing path: {path!r}")


def _remove(document: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        raise PatchConflictError("cannot remove the whole document")
    parent, last = _parent(document, parts, path)
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent.pop(int(last))
    raise PatchConflictError(f"unable to remove nonexistent key: {path!r}: missing value")


def _add(document: Any, path: str, value: Any) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent, last = _parent(document, parts, path)
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise PatchConflictError(f"add operation does not apply: index out of range in {path!r}")
    else:
        raise PatchConflictError(f"add operation does not apply: doc is missing path: {path!r}")
    return document


def json_patch(target: Any, operations: list[Any]) -> Any:
    """RFC 6902 on a copy of `target`."""
    document = clone(target)
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise PatchFormatError(f"invalid JSON patch operation {operation!r}")
        op, path = operation["op"], operation["path"]
        if op in ("add", "replace", "test") and "value" not in operation:
            raise PatchFormatError(f"JSON patch operation {op!r} needs a value")
        if op == "add":
            document = _add(document, path, clone(operation["value"]))
        elif op == "remove":
            _remove(document, path)
        elif op == "replace":
            _get(document, path)
            if _pointer(path):
                _remove(document, path)
            document = _add(document, path, clone(operation["value"]))
        elif op == "move":
            value = _remove(document, operation.get("from", ""))
            document = _add(document, path, value)
        elif op == "copy":
            value = clone(_get(document, operation.get("from", "")))
            document = _add(document, path, value)
        elif op == "test":
            if _get(document, path) != operation["value"]:
                raise PatchConflictError(f"testing value {path!r} failed: test failed")
        else:
            raise PatchFormatError(f"unknown JSON patch operation {op!r}")
    return document
