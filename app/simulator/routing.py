"""Which resource, object and verb a Kubernetes API request is about.

Paths, as the API server serves them (`/api/v1` for the core group, `/apis/{group}/{version}` for
the others):

    {base}/{plural}                                   GET list or watch, POST create (cluster-scoped)
    {base}/namespaces/{ns}/{plural}                   GET list or watch, POST create
    {base}/{plural}                                   GET list or watch in all namespaces (namespaced)
    {base}/namespaces/{ns}/{plural}/{name}[/{sub}]    GET, PUT, PATCH, DELETE (no DELETE on a sub)
    {base}/{plural}/{name}[/{sub}]                    the same, for a cluster-scoped resource

`?watch=1` (or `true`) on a list path makes it a watch. Subresources are `status` (every kind) and
`scale` (Deployments and StatefulSets).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.simulator import errors
from app.simulator.resources import ResourceType, resource_for_path


@dataclass(frozen=True, slots=True)
class ApiRoute:
    """One request: `verb` as the request log names it (get, list, watch, create, update, patch,
    delete); `namespace` is None for a cluster-scoped object or a list in all namespaces."""

    verb: str
    resource: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None

    @property
    def store_namespace(self) -> str:
        """The namespace part of the object's key in the store ("" for cluster-scoped objects)."""
        return self.namespace or ""


def _split(path: str) -> tuple[str, str, list[str]] | None:
    parts = [part for part in path.split("/") if part]
    if len(parts) >= 3 and parts[0] == "api":
        return "", parts[1], parts[2:]
    if len(parts) >= 4 and parts[0] == "apis":
        return parts[1], parts[2], parts[3:]
    return None


def route(method: str, path: str, watch: bool = False) -> ApiRoute:
    """The route of a request, or the `ApiError` the API server answers (404, 405)."""
    split = _split(path)
    if split is None:
        raise errors.path_not_found()
    group, version, rest = split
    namespace: str | None = None
    if rest[0] == "namespaces" and len(rest) >= 3 and not (len(rest) == 3 and rest[2] in ("status", "finalize")):
        namespace, rest = rest[1], rest[2:]
    if len(rest) > 3:
        raise errors.path_not_found()
    rt = resource_for_path(group, version, rest[0])
    if rt is None:
        raise errors.path_not_found()
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else None
    if namespace is not None and not rt.namespaced:
        raise errors.path_not_found()
    if name is not None and namespace is None and rt.namespaced:
        raise errors.path_not_found()
    if subresource not in (None, "status") and not (subresource == "scale" and rt.has_scale):
        raise errors.path_not_found()
    if name is None:
        verbs = {"GET": "watch" if watch else "list", "POST": "create"}
    else:
        verbs = {"GET": "get", "PUT": "update", "PATCH": "patch"}
        if subresource is None:
            verbs["DELETE"] = "delete"
    verb = verbs.get(method)
    if verb is None or (verb == "create" and namespace is None and rt.namespaced):
        raise errors.method_not_allowed()
    return ApiRoute(verb, rt, namespace, name, subresource)
