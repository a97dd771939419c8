"""The OpenAPI documents: /openapi/v2 and /openapi/v3 (its index and one document per group-version).

The schemas are the API server's own (Kubernetes v1.31, in `openapi_definitions.json.gz`; see
`tests/simulator/openapi_source.py` for where they come from), so kubectl finds the patch strategies
and merge keys of `kubectl apply`/`kubectl diff` and the descriptions of `kubectl explain`. The
paths list every verb served with its query parameters; writes declare `dryRun` and
`fieldValidation`, which tells kubectl that the server validates fields itself (`verbs`
implements it with `field_validation`), so kubectl sends `fieldValidation=Strict` instead of
validating client-side.

/openapi/v2 is JSON, or protobuf when asked for (`openapi_protobuf`): kubectl before 1.27 reads
only that form, later versions only when /openapi/v3 fails.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from app.simulator.discovery import KUBERNETES_VERSION
from app.simulator.resources import RESOURCE_TYPES, ResourceType

_DEFINITIONS_FILE = Path(__file__).with_name("openapi_definitions.json.gz")
_META = "io.k8s.apimachinery.pkg.apis.meta.v1"
_PATCH_TYPES = ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"]
_QUERY = {
    "dryRun": "When present, indicates that modifications should not be persisted. Valid values: All.",
    "fieldManager": "A name associated with the actor or entity that is making these changes.",
    "fieldValidation": "How the server handles unknown fields in the request body: Ignore, Warn or Strict.",
    "labelSelector": "A selector to restrict the list of returned objects by their labels.",
    "fieldSelector": "A selector to restrict the list of returned objects by their fields.",
    "limit": "The maximum number of responses to return for a list call.",
    "continue": "The continue option should be set when retrieving more results from the server.",
    "resourceVersion": "Where a list or watch starts; see the API concepts.",
    "timeoutSeconds": "Timeout for the list/watch call.",
    "watch": "Watch for changes to the described resources: a stream of add, update and remove notifications.",
    "allowWatchBookmarks": "Requests watch events with type BOOKMARK.",
    "sendInitialEvents": "With watch=true, the stream begins with synthetic events for the current objects.",
    "pretty": "If 'true', then the output is pretty printed.",
}


@cache
def definitions() -> dict[str, Any]:
    """Definition name → OpenAPI v2 schema (with `#/definitions/` references)."""
    loaded: dict[str, Any] = json.loads(gzip.decompress(_DEFINITIONS_FILE.read_bytes()))
    return loaded


def definition_name(rt: ResourceType) -> str:
    """`io.k8s.api.apps.v1.Deployment` for the Deployment type."""
    for name, schema in definitions().items():
        for gvk in schema.get("x-kubernetes-group-version-kind", []):
            if (gvk["group"], gvk["version"], gvk["kind"]) == (rt.group, rt.version, rt.kind):
                return name
    raise KeyError(rt.kind)


def _closure(names: list[str]) -> list[str]:
    seen: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            pending.extend(_references(definitions()[name]))
    return sorted(seen)


def _references(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"].rsplit("/", 1)[-1]] if isinstance(node.get("$ref"), str) else []
        for value in node.values():
            found += _references(value)
        return found
    if isinstance(node, list):
        return [name for value in node for name in _references(value)]
    return []


def _rewrite_refs(node: Any, prefix: str) -> Any:
    if isinstance(node, dict):
        return {
            key: (prefix + value.rsplit("/", 1)[-1] if key == "$ref" else _rewrite_refs(value, prefix))
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(value, prefix) for value in node]
    return node


def _operation_id(action: str, rt: ResourceType, namespaced: bool, suffix: str = "") -> str:
    group = "".join(part.capitalize() for part in (rt.group or "core").split("."))
    scope = "Namespaced" if namespaced and rt.namespaced else ""
    return f"{action}{group}{rt.version.capitalize()}{scope}{rt.kind}{suffix}"


def _operations(rt: ResourceType) -> dict[str, dict[str, dict[str, Any]]]:
    """Path → method → (action, response definition, query parameters, extra) for one resource type."""
    kind = definition_name(rt)
    list_kind = definition_name_of_list(kind)
    base = rt.base_path
    scoped = f"{base}/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"{base}/{rt.plural}"
    reads = ["labelSelector", "fieldSelector", "limit", "continue", "resourceVersion", "timeoutSeconds", "watch"]
    writes = ["dryRun", "fieldManager", "fieldValidation"]
    paths: dict[str, dict[str, dict[str, Any]]] = {
        scoped: {
            "get": {
                "action": "list",
                "id": "list",
                "schema": list_kind,
                "query": [*reads, "allowWatchBookmarks", "sendInitialEvents"],
            },
            "post": {"action": "post", "id": "create", "schema": kind, "query": writes, "body": kind},
        },
        f"{scoped}/{{name}}": {
            "get": {"action": "get", "id": "read", "schema": kind, "query": []},
            "put": {"action": "put", "id": "replace", "schema": kind, "query": writes, "body": kind},
            "patch": {"action": "patch", "id": "patch", "schema": kind, "query": writes, "body": f"{_META}.Patch"},
            "delete": {
                "action": "delete",
                "id": "delete",
                "schema": f"{_META}.Status",
                "query": ["dryRun"],
                "body": f"{_META}.DeleteOptions",
            },
        },
        f"{scoped}/{{name}}/status": {
            "get": {"action": "get", "id": "read", "suffix": "Status", "schema": kind, "query": []},
            "put": {
                "action": "put",
                "id": "replace",
                "suffix": "Status",
                "schema": kind,
                "query": writes,
                "body": kind,
            },
            "patch": {
                "action": "patch",
                "id": "patch",
                "suffix": "Status",
                "schema": kind,
                "query": writes,
                "body": f"{_META}.Patch",
            },
        },
    }
    if rt.namespaced:
        paths[f"{base}/{rt.plural}"] = {
            "get": {
                "action": "list",
                "id": "list",
                "suffix": "ForAllNamespaces",
                "schema": list_kind,
                "query": [*reads, "allowWatchBookmarks"],
            },
        }
    if rt.has_scale:
        scale = "io.k8s.api.autoscaling.v1.Scale"
        paths[f"{scoped}/{{name}}/scale"] = {
            "get": {
                "action": "get",
                "id": "read",
                "suffix": "Scale",
                "schema": scale,
                "query": [],
                "gvk": ("autoscaling", "v1", "Scale"),
            },
            "put": {
                "action": "put",
                "id": "replace",
                "suffix": "Scale",
                "schema": scale,
                "query": writes,
                "body": scale,
                "gvk": ("autoscaling", "v1", "Scale"),
            },
            "patch": {
                "action": "patch",
                "id": "patch",
                "suffix": "Scale",
                "schema": scale,
                "query": writes,
                "body": f"{_META}.Patch",
                "gvk": ("autoscaling", "v1", "Scale"),
            },
        }
    return paths


def definition_name_of_list(kind_definition: str) -> str:
    return f"{kind_definition}List"


def _path_parameters(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def _operation(rt: ResourceType, path: str, method: str, spec: dict[str, Any], v3: bool) -> dict[str, Any]:
    prefix = "#/components/schemas/" if v3 else "#/definitions/"
    group, version, kind = spec.get("gvk", (rt.group, rt.version, rt.kind))
    namespaced = "{namespace}" in path
    operation: dict[str, Any] = {
        "operationId": _operation_id(spec["id"], rt, namespaced, spec.get("suffix", "")),
        "tags": [f"{rt.group or 'core'}_{rt.version}"],
        "x-kubernetes-action": spec["action"],
        "x-kubernetes-group-version-kind": {"group": group, "version": version, "kind": kind},
    }
    parameters = []
    for name in spec["query"]:
        parameter: dict[str, Any] = {"name": name, "in": "query", "description": _QUERY[name], "uniqueItems": True}
        if v3:
            parameter["schema"] = {
                "type": "boolean" if name in ("watch", "allowWatchBookmarks", "sendInitialEvents") else "string"
            }
        else:
            parameter["type"] = "boolean" if name in ("watch", "allowWatchBookmarks", "sendInitialEvents") else "string"
        parameters.append(parameter)
    body = spec.get("body")
    media = _PATCH_TYPES if method == "patch" else ["application/json"]
    if body and v3:
        operation["requestBody"] = {
            "content": {m: {"schema": {"$ref": prefix + body}} for m in media},
            "required": method != "delete",
        }
    elif body:
        parameters.append(
            {"name": "body", "in": "body", "required": method != "delete", "schema": {"$ref": prefix + body}}
        )
        operation["consumes"] = media
    if parameters:
        operation["parameters"] = parameters
    if v3:
        operation["responses"] = {
            "200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": prefix + spec["schema"]}}}}
        }
    else:
        operation["produces"] = ["application/json"]
        operation["responses"] = {"200": {"description": "OK", "schema": {"$ref": prefix + spec["schema"]}}}
    return operation


def _paths(types: list[ResourceType], v3: bool) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for rt in types:
        for path, methods in _operations(rt).items():
            item: dict[str, Any] = {method: _operation(rt, path, method, spec, v3) for method, spec in methods.items()}
            item["parameters"] = [
                {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "description": f"{name} of the object",
                    **({"schema": {"type": "string"}} if v3 else {"type": "string"}),
                }
                for name in _path_parameters(path)
            ]
            paths[path] = item
    return paths


@cache
def v2_document() -> bytes:
    document = {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION["gitVersion"]},
        "paths": _paths(list(RESOURCE_TYPES), v3=False),
        "definitions": definitions(),
    }
    return json.dumps(document, separators=(",", ":")).encode()


def _group_versions() -> dict[str, list[ResourceType]]:
    grouped: dict[str, list[ResourceType]] = {}
    for rt in RESOURCE_TYPES:
        key = f"apis/{rt.group}/{rt.version}" if rt.group else f"api/{rt.version}"
        grouped.setdefault(key, []).append(rt)
    return grouped


@cache
def v3_document(group_version: str) -> bytes | None:
    """The OpenAPI v3 document of `api/v1` or `apis/{group}/{version}`, or None."""
    types = _group_versions().get(group_version)
    if types is None:
        return None
    roots = [definition_name(rt) for rt in types]
    roots += [definition_name_of_list(name) for name in roots]
    roots += [f"{_META}.Status", f"{_META}.DeleteOptions", f"{_META}.Patch"]
    if any(rt.has_scale for rt in types):
        roots.append("io.k8s.api.autoscaling.v1.Scale")
    schemas = {name: _rewrite_refs(definitions()[name], "#/components/schemas/") for name in _closure(roots)}
    document = {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION["gitVersion"]},
        "paths": _paths(types, v3=True),
        "components": {"schemas": schemas},
    }
    return json.dumps(document, separators=(",", ":")).encode()


@cache
def v3_index() -> bytes:
    paths = {}
    for group_version in _group_versions():
        document = v3_document(group_version)
        assert document is not None
        digest = hashlib.sha512(document).hexdigest().upper()
        paths[group_version] = {"serverRelativeURL": f"/openapi/v3/{group_version}?hash={digest}"}
    return json.dumps({"paths": paths}, separators=(",", ":")).encode()


def openapi_document(path: str) -> bytes | None:
    """The OpenAPI document served at `path` (JSON), or None when `path` is not one."""
    path = path.rstrip("/")
    if path == "/openapi/v2":
        return v2_document()
    if path == "/openapi/v3":
        return v3_index()
    if path.startswith("/openapi/v3/"):
        return v3_document(path.removeprefix("/openapi/v3/"))
    return None
