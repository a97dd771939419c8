"""The HTTP face of the simulator: faults, authentication, the request log, and dispatch.

Every request other than the admin endpoints under /_simulator/ and the health probes goes
through `_kubernetes_endpoint`: it is routed (`routing`, `discovery`, `openapi`), meets the
faults in force (`faults`), is served (`verbs`) and recorded in the request log (`recording`).

Served: /version, /api, /api/v1, /apis, /apis/{group}[/{version}] (discovery), /openapi/v2,
/openapi/v3[/...], /healthz, /readyz, /livez, and for core/v1 namespaces, apps/v1 deployments and
statefulsets, batch/v1 cronjobs and autoscaling/v2 horizontalpodautoscalers: get, list, watch,
create, update, patch and delete, with the `status` and `scale` subresources.
"""

from __future__ import annotations

import asyncio
import contextlib

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from app.simulator import errors
from app.simulator.access import SSAR_PATH, access_review, bearer
from app.simulator.admin import admin_routes
from app.simulator.connections import ConnectionReset
from app.simulator.discovery import discovery_document
from app.simulator.errors import ApiError
from app.simulator.faults import Answer, FaultDecision
from app.simulator.openapi import openapi_document
from app.simulator.openapi_protobuf import MEDIA_TYPE as PROTOBUF_OPENAPI
from app.simulator.openapi_protobuf import encode_document
from app.simulator.recording import APPLIED_UNANSWERED, CLIENT_GONE, CONNECTION_RESET, RecordedRequest
from app.simulator.routing import ApiRoute, route
from app.simulator.state import SimulatorState
from app.simulator.verbs import serve


def _status_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.status_body(), status_code=error.code, headers=error.headers)


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


async def _target_name(api_route: ApiRoute, request: Request) -> str:
    """The name of the object a write is about: from the path, or a create's body."""
    if api_route.name is not None:
        return api_route.name
    try:
        body = await request.json()
    except ValueError:
        return ""
    metadata = body.get("metadata") if isinstance(body, dict) else None
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) else ""


def _prefers_protobuf(accept: str) -> bool:
    """Whether the Accept header lists the protobuf form of OpenAPI v2 before any JSON."""
    for media_range in accept.split(","):
        media_type = media_range.split(";")[0].strip()
        if media_type.startswith("application/com.github.proto-openapi.spec.v2"):
            return True
        if media_type in ("application/json", "*/*"):
            return False
    return False


def _document(request: Request) -> Response | None:
    """A discovery or OpenAPI document, when the request is for one."""
    if request.method != "GET":
        return None
    discovery = discovery_document(request.url.path)
    if discovery is not None:
        return JSONResponse(discovery)
    openapi = openapi_document(request.url.path)
    if openapi is not None:
        if request.url.path.rstrip("/") == "/openapi/v2" and _prefers_protobuf(request.headers.get("accept", "")):
            return Response(encode_document(openapi), media_type=PROTOBUF_OPENAPI)
        return Response(openapi, media_type="application/json")
    if request.url.path.rstrip("/").startswith("/openapi/"):
        raise errors.path_not_found()
    return None


async def _kubernetes_endpoint(request: Request) -> Response:
    state: SimulatorState = request.app.state.simulator
    path = request.url.path
    if path in ("/healthz", "/readyz", "/livez"):
        return PlainTextResponse("ok")
    api_route: ApiRoute | None = None
    status = 500
    if path.rstrip("/") == SSAR_PATH and request.method == "POST":
        return await _access_review(state, request)
    try:
        try:
            document = _document(request)
            if document is None:
                watch = request.query_params.get("watch") in ("1", "true", "True")
                api_route = route(request.method, path, watch)
        except ApiError as exc:
            status = exc.code
            return _status_response(exc)
        verb = api_route.verb if api_route else "discovery"
        namespace = api_route.namespace if api_route else None
        if state.faults.faults.outage:
            decision = FaultDecision(
                error=errors.service_unavailable("the API server is unavailable (simulated outage)")
            )
        elif not state.authenticated(bearer(request.headers.get("authorization"))):
            decision = FaultDecision(error=errors.unauthorized())
        elif api_route is not None and not state.access.allows(
            bearer(request.headers.get("authorization")), verb, api_route.resource.plural
        ):
            decision = FaultDecision(error=errors.forbidden(api_route.resource, verb, namespace))
        else:
            decision = state.faults.decide(verb, namespace, api_route.resource if api_route else None)
        if decision.delay > 0 and await _sleep_unless_disconnected(request, decision.delay):
            status = CLIENT_GONE
            return Response(status_code=CLIENT_GONE)
        if decision.reset:
            status = CONNECTION_RESET
            return ConnectionReset(state.connections)
        if decision.error is not None:
            status = decision.error.code
            return _status_response(decision.error)
        if api_route is None:
            assert document is not None
            status = 200
            return document
        if decision.conflict:
            error = errors.conflict(api_route.resource, await _target_name(api_route, request))
            status = error.code
            return _status_response(error)
        response: Response
        try:
            response = await serve(state, api_route, request)
        except ApiError as exc:
            response = _status_response(exc)
        status = response.status_code
        applied = 200 <= status < 300
        if decision.answer is Answer.DROPPED:
            status = APPLIED_UNANSWERED if applied else CONNECTION_RESET
            return ConnectionReset(state.connections)
        if decision.answer is Answer.LATE:
            with state.connections.held(request.scope.get("client")):
                if await _sleep_unless_disconnected(request, decision.hold_seconds):
                    status = APPLIED_UNANSWERED if applied else CLIENT_GONE
        return response
    finally:
        state.log.append(_recorded(request, api_route, status))


async def _access_review(state: SimulatorState, request: Request) -> Response:
    token = bearer(request.headers.get("authorization"))
    status = 201
    try:
        if state.faults.faults.outage:
            raise errors.service_unavailable("the API server is unavailable (simulated outage)")
        if not state.authenticated(token):
            raise errors.unauthorized()
        try:
            body = await request.json()
        except ValueError:
            raise errors.bad_request("the body is not JSON") from None
        return JSONResponse(access_review(state.access, token, body), status_code=201)
    except ApiError as exc:
        status = exc.code
        return _status_response(exc)
    finally:
        state.log.append(
            RecordedRequest(
                method="POST",
                path=request.url.path,
                verb="create",
                kind="SelfSubjectAccessReview",
                namespace=None,
                name=None,
                subresource=None,
                label_selector=None,
                status=status,
            )
        )


def _recorded(request: Request, api_route: ApiRoute | None, status: int) -> RecordedRequest:
    return RecordedRequest(
        method=request.method,
        path=request.url.path,
        verb=api_route.verb if api_route else "discovery",
        kind=api_route.resource.kind if api_route else None,
        namespace=api_route.namespace if api_route else None,
        name=api_route.name if api_route else None,
        subresource=api_route.subresource if api_route else None,
        label_selector=request.query_params.get("labelSelector"),
        status=status,
    )


def build_app(state: SimulatorState) -> Starlette:
    """The ASGI application: admin endpoints under /_simulator/, everything else Kubernetes."""
    app = Starlette(
        routes=[
            *admin_routes(),
            Route("/{path:path}", _kubernetes_endpoint, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        ]
    )
    app.state.simulator = state
    return app
