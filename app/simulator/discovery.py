"""Discovery: /version, /api, /api/v1, /apis, /apis/{group} and /apis/{group}/{version}, with or
without a trailing slash (clients such as kr8s ask for `/version/`)."""

from __future__ import annotations

from typing import Any

from app.simulator.resources import RESOURCE_TYPES, ResourceType, served_groups

KUBERNETES_VERSION = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.0-hibernia-simulator",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2024-08-13T00:00:00Z",
    "goVersion": "go1.22.5",
    "compiler": "gc",
    "platform": "linux/amd64",
}

_VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]
_SUBRESOURCE_VERBS = ["get", "patch", "update"]


def _resources(group: str, version: str) -> list[dict[str, Any]]:
    resources: list[dict[str, Any]] = []
    for rt in RESOURCE_TYPES:
        if (rt.group, rt.version) != (group, version):
            continue
        resources.append(
            {
                "name": rt.plural,
                "singularName": rt.singular,
                "namespaced": rt.namespaced,
                "kind": rt.kind,
                "verbs": _VERBS,
                "shortNames": list(rt.short_names),
                **({"categories": list(rt.categories)} if rt.categories else {}),
            }
        )
        resources.append(_subresource(rt, "status", rt.kind))
        if rt.has_scale:
            resources.append({**_subresource(rt, "scale", "Scale"), "group": "autoscaling", "version": "v1"})
    return resources


def _subresource(rt: ResourceType, name: str, kind: str) -> dict[str, Any]:
    return {
        "name": f"{rt.plural}/{name}",
        "singularName": "",
        "namespaced": rt.namespaced,
        "kind": kind,
        "verbs": _SUBRESOURCE_VERBS,
    }


def _group_entry(group: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": entries, "preferredVersion": entries[0]}


def discovery_document(path: str) -> dict[str, Any] | None:
    """The discovery document served at `path`, or None when `path` is not a discovery path."""
    path = path.rstrip("/") or "/"
    groups = served_groups()
    if path == "/version":
        return KUBERNETES_VERSION
    if path == "/api":
        return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
    if path == "/api/v1":
        return {"kind": "APIResourceList", "groupVersion": "v1", "resources": _resources("", "v1")}
    if path == "/apis":
        return {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [_group_entry(group, versions) for group, versions in groups.items()],
        }
    parts = path.strip("/").split("/")
    if parts[0] != "apis" or len(parts) not in (2, 3) or parts[1] not in groups:
        return None
    group = parts[1]
    if len(parts) == 2:
        return {"kind": "APIGroup", "apiVersion": "v1", **_group_entry(group, groups[group])}
    if parts[2] not in groups[group]:
        return None
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{parts[2]}",
        "resources": _resources(group, parts[2]),
    }
