"""The HTTP face of the simulator: the Kubernetes REST paths, verbs and `Status` answers.

Served paths (namespaced and all-namespaces lists, like the real API server):

    /apis/{group}/{version}/namespaces/{ns}/{plural}                   GET list, POST create
    /apis/{group}/{version}/{plural}                                    GET list (all namespaces)
    /apis/{group}/{version}/namespaces/{ns}/{plural}/{name}            GET, PUT, PATCH, DELETE
    /apis/{group}/{version}/namespaces/{ns}/{plural}/{name}/status     GET, PUT, PATCH
    /apis/{group}/{version}/namespaces/{ns}/{plural}/{name}/scale      GET, PUT, PATCH (autoscaling/v1 Scale)
    /api, /api/v1, /apis, /apis/{group}, /apis/{group}/{version}, /version, /healthz, /readyz, /livez

for apps/v1 deployments and statefulsets, batch/v1 cronjobs and autoscaling/v2
horizontalpodautoscalers. Lists take `labelSelector`, `fieldSelector`, `limit` and `continue`.
PATCH takes merge, strategic-merge and JSON patches. Watches and server-side apply are not served.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from app.simulator import errors
from app.simulator.admin import admin_routes
from app.simulator.connections import ConnectionReset
from app.simulator.errors import ApiError
from app.simulator.faults import Answer, FaultDecision
from app.simulator.patches import PATCH_TYPES
from app.simulator.recording import APPLIED_UNANSWERED, CLIENT_GONE, CONNECTION_RESET, RecordedRequest
from app.simulator.resources import RESOURCE_TYPES, ResourceType, resource_for_path, served_groups
from app.simulator.selectors import SelectorError, parse_field_selector, parse_label_selector
from app.simulator.state import SimulatorState

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

_RESOURCE_PATH = re.compile(
    r"^/apis/(?P<group>[^/]+)/(?P<version>[^/]+)"
    r"(?:/namespaces/(?P<namespace>[^/]+))?"
    r"/(?P<plural>[^/]+)(?:/(?P<name>[^/]+)(?:/(?P<subresource>[^/]+))?)?/?$"
)


@dataclass(frozen=True, slots=True)
class ApiRoute:
    verb: str
    resource: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None


def _status_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.status_body(), status_code=error.code, headers=error.headers)


def _route(method: str, path: str) -> ApiRoute:
    match = _RESOURCE_PATH.match(path)
    if match is None:
        raise errors.path_not_found()
    rt = resource_for_path(match["group"], match["version"], match["plural"])
    if rt is None:
        raise errors.path_not_found()
    namespace, name, subresource = match["namespace"], match["name"], match["subresource"]
    if name is None:
        verbs = {"GET": "list", "POST": "create"}
    else:
        verbs = {"GET": "get", "PUT": "update", "PATCH": "patch"}
        if subresource is None:
            verbs["DELETE"] = "delete"
    if name is not None and namespace is None:
        raise errors.path_not_found()
    if subresource not in (None, "status", "scale"):
        raise errors.path_not_found()
    verb = verbs.get(method)
    if verb is None or (verb == "create" and namespace is None):
        raise errors.method_not_allowed()
    return ApiRoute(verb, rt, namespace, name, subresource)


def _discovery(path: str) -> dict[str, Any] | None:
    groups = served_groups()
    if path == "/version":
        return KUBERNETES_VERSION
    if path == "/api":
        return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
    if path == "/api/v1":
        return {"kind": "APIResourceList", "groupVersion": "v1", "resources": []}

    def group_entry(group: str) -> dict[str, Any]:
        versions = [{"groupVersion": f"{group}/{v}", "version": v} for v in groups[group]]
        return {"name": group, "versions": versions, "preferredVersion": versions[0]}

    if path == "/apis":
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [group_entry(g) for g in groups]}
    parts = path.strip("/").split("/")
    if len(parts) == 2 and parts[1] in groups:
        return {"kind": "APIGroup", "apiVersion": "v1", **group_entry(parts[1])}
    if len(parts) == 3 and parts[1] in groups and parts[2] in groups[parts[1]]:
        resources: list[dict[str, Any]] = []
        for rt in RESOURCE_TYPES:
            if (rt.group, rt.version) != (parts[1], parts[2]):
                continue
            resources.append(
                {
                    "name": rt.plural,
                    "singularName": rt.singular,
                    "namespaced": True,
                    "kind": rt.kind,
                    "verbs": ["create", "delete", "get", "list", "patch", "update"],
                    "shortNames": list(rt.short_names),
                }
            )
            resources.append(
                {
                    "name": f"{rt.plural}/status",
                    "singularName": "",
                    "namespaced": True,
                    "kind": rt.kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
            if rt.has_scale:
                resources.append(
                    {
                        "name": f"{rt.plural}/scale",
                        "singularName": "",
                        "namespaced": True,
                        "kind": "Scale",
                        "group": "autoscaling",
                        "version": "v1",
                        "verbs": ["get", "patch", "update"],
                    }
                )
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{parts[1]}/{parts[2]}",
            "resources": resources,
        }
    return None


async def _read_json(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        raise errors.bad_request("the request body is empty")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise errors.bad_request(f"the body of the request could not be decoded as JSON: {exc}") from exc


async def _sleep_unless_disconnected(request: Request, seconds: float) -> bool:
    """Sleep; True if the client went away first (the answer is then never sent)."""
    await request.body()  # consume the body so the next receive() reports a disconnect
    sleeper = asyncio.ensure_future(asyncio.sleep(seconds))
    listener = asyncio.ensure_future(request.receive())
    try:
        done, _ = await asyncio.wait({sleeper, listener}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sleeper, listener):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    if listener in done and not listener.cancelled() and listener.exception() is None:
        return bool(listener.result().get("type") == "http.disconnect")
    return False


def _list_response(state: SimulatorState, route: ApiRoute, request: Request) -> dict[str, Any]:
    params = request.query_params
    if params.get("watch") in ("true", "1"):
        raise errors.bad_request("watch is not supported by the Hibernia cluster simulator")
    try:
        labels = parse_label_selector(params.get("labelSelector"))
        fields = parse_field_selector(params.get("fieldSelector"))
    except SelectorError as exc:
        raise errors.bad_request(str(exc)) from exc
    limit: int | None = None
    if params.get("limit"):
        try:
            limit = int(params["limit"])
        except ValueError as exc:
            raise errors.bad_request(f"limit must be an integer: {params['limit']!r}") from exc
        if limit <= 0:
            limit = None
    stored, resource_version, token = state.store.list(
        route.resource, route.namespace, labels, fields, limit, params.get("continue"), copies=False
    )
    # The API server leaves kind and apiVersion out of list items. Shallow copies: the stored
    # objects are only read from here on, by the JSON encoder, before any other request runs.
    items = [{k: v for k, v in item.items() if k not in ("kind", "apiVersion")} for item in stored]
    metadata: dict[str, Any] = {"resourceVersion": resource_version}
    if token:
        metadata["continue"] = token
    return {
        "kind": route.resource.list_kind,
        "apiVersion": route.resource.api_version,
        "metadata": metadata,
        "items": items,
    }


async def _serve(state: SimulatorState, route: ApiRoute, request: Request) -> tuple[int, dict[str, Any]]:
    store, rt, ns, name, sub = state.store, route.resource, route.namespace, route.name, route.subresource
    if route.verb == "list":
        return 200, _list_response(state, route, request)
    if route.verb == "create":
        assert ns is not None
        return 201, store.create(rt, ns, await _read_json(request))
    assert ns is not None and name is not None
    if route.verb == "get":
        return 200, store.get_scale(rt, ns, name) if sub == "scale" else store.get(rt, ns, name)
    if route.verb == "delete":
        options = await _read_json(request) if (await request.body()).strip() else None
        return 200, store.delete(rt, ns, name, options)
    body = await _read_json(request)
    if route.verb == "update":
        if sub == "scale":
            return 200, store.replace_scale(rt, ns, name, body)
        if sub == "status":
            return 200, store.replace_status(rt, ns, name, body)
        return 200, store.replace(rt, ns, name, body)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in PATCH_TYPES:
        raise errors.unsupported_media_type(content_type)
    if sub == "scale":
        return 200, store.patch_scale(rt, ns, name, content_type, body)
    return 200, store.patch(rt, ns, name, content_type, body, status_only=sub == "status")


async def _target_name(route: ApiRoute, request: Request) -> str:
    """The name of the object a write is about: from the path, or a create's body."""
    if route.name is not None:
        return route.name
    try:
        body = json.loads(await request.body())
    except ValueError:
        return ""
    metadata = body.get("metadata") if isinstance(body, dict) else None
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) else ""


async def _kubernetes_endpoint(request: Request) -> Response:
    state: SimulatorState = request.app.state.simulator
    path = request.url.path
    if path in ("/healthz", "/readyz", "/livez"):
        return PlainTextResponse("ok")
    route: ApiRoute | None = None
    status = 500
    try:
        try:
            discovery = _discovery(path) if request.method == "GET" else None
            if discovery is None:
                route = _route(request.method, path)
        except ApiError as exc:
            status = exc.code
            return _status_response(exc)
        verb = route.verb if route else "discovery"
        namespace = route.namespace if route else None
        if state.faults.faults.outage:
            decision = FaultDecision(
                error=errors.service_unavailable("the API server is unavailable (simulated outage)")
            )
        elif state.token is not None and request.headers.get("authorization") != f"Bearer {state.token}":
            decision = FaultDecision(error=errors.unauthorized())
        else:
            decision = state.faults.decide(verb, namespace, route.resource if route else None)
        if decision.delay > 0 and await _sleep_unless_disconnected(request, decision.delay):
            status = CLIENT_GONE
            return Response(status_code=CLIENT_GONE)
        if decision.reset:
            status = CONNECTION_RESET
            return ConnectionReset(state.connections)
        if decision.error is not None:
            status = decision.error.code
            return _status_response(decision.error)
        if route is None:
            status = 200
            return JSONResponse(discovery)
        if decision.conflict:
            error = errors.conflict(route.resource, await _target_name(route, request))
            status = error.code
            return _status_response(error)
        response: Response
        try:
            status, answer = await _serve(state, route, request)
            response = JSONResponse(answer, status_code=status)
        except ApiError as exc:
            status = exc.code
            response = _status_response(exc)
        applied = 200 <= status < 300
        if decision.answer is Answer.DROPPED:
            status = APPLIED_UNANSWERED if applied else CONNECTION_RESET
            return ConnectionReset(state.connections)
        if decision.answer is Answer.LATE and await _sleep_unless_disconnected(request, decision.hold_seconds):
            status = APPLIED_UNANSWERED if applied else CLIENT_GONE
        return response
    finally:
        state.log.append(
            RecordedRequest(
                method=request.method,
                path=path,
                verb=route.verb if route else "discovery",
                kind=route.resource.kind if route else None,
                namespace=route.namespace if route else None,
                name=route.name if route else None,
                subresource=route.subresource if route else None,
                label_selector=request.query_params.get("labelSelector"),
                status=status,
            )
        )


def build_app(state: SimulatorState) -> Starlette:
    """The ASGI application: admin endpoints under /_simulator/, everything else Kubernetes."""
    app = Starlette(
        routes=[
            *admin_routes(),
            Route(
                "/{path:path}",
                _kubernetes_endpoint,
                methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            ),
        ]
    )
    app.state.simulator = state
    return app
