"""The admin endpoints under /_simulator/: faults, controller timings, stuck workloads, request
log, reset.

Never subject to faults, never recorded in the request log. See the package docstring for the
list of endpoints and their bodies.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.simulator.faults import Faults
from app.simulator.resources import RESOURCE_TYPES
from app.simulator.state import SimulatorState


def _state(request: Request) -> SimulatorState:
    state: SimulatorState = request.app.state.simulator
    return state


def _error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    return json.loads(raw) if raw.strip() else {}


async def faults_endpoint(request: Request) -> Response:
    """GET: the current knobs. PUT: replace them all (missing knobs reset to their defaults).
    PATCH: change only the knobs given."""
    state = _state(request)
    if request.method in ("PUT", "PATCH"):
        try:
            body = await _json_body(request)
            base = state.faults.faults if request.method == "PATCH" else None
            state.faults.set(Faults.from_json(body, base))
        except (ValueError, TypeError, KeyError) as exc:
            return _error(str(exc))
    return JSONResponse(state.faults.faults.to_json())


_CONTROLLER_KNOBS = ("rollout_seconds", "status_churn_seconds")


async def controller_endpoint(request: Request) -> Response:
    """GET: the controller's timings. PUT: replace them (missing ones: as at construction).
    PATCH: change only the ones given."""
    controller = _state(request).controller
    if request.method in ("PUT", "PATCH"):
        try:
            body = await _json_body(request)
            if not isinstance(body, dict):
                raise ValueError("expected a JSON object")
            unknown = set(body) - set(_CONTROLLER_KNOBS)
            if unknown:
                raise ValueError(
                    f"unknown controller knobs: {', '.join(sorted(unknown))}; known: {', '.join(_CONTROLLER_KNOBS)}"
                )
            for name, value in body.items():
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    raise ValueError(f"{name} must be a number >= 0, got {value!r}")
            initial = dict(zip(_CONTROLLER_KNOBS, controller.initial_timings, strict=True))
            current = {name: getattr(controller, name) for name in _CONTROLLER_KNOBS}
            wanted = {**(current if request.method == "PATCH" else initial), **body}
        except (ValueError, TypeError) as exc:
            return _error(str(exc))
        controller.rollout_seconds = wanted["rollout_seconds"]
        controller.status_churn_seconds = wanted["status_churn_seconds"]
    return JSONResponse({name: getattr(controller, name) for name in _CONTROLLER_KNOBS})


async def stuck_endpoint(request: Request) -> Response:
    """GET: the stuck workloads. PUT {"workloads": ["ns/name", ...]}: replace the set."""
    state = _state(request)
    if request.method == "PUT":
        try:
            body = await _json_body(request)
            workloads = body["workloads"]
            if not isinstance(workloads, list) or not all(isinstance(w, str) and "/" in w for w in workloads):
                raise ValueError('"workloads" must be a list of "namespace/name" strings')
        except (ValueError, TypeError, KeyError) as exc:
            return _error(f'expected {{"workloads": ["namespace/name", ...]}}: {exc}')
        state.controller.set_stuck(set(workloads))
    return JSONResponse({"workloads": sorted(state.controller.stuck)})


async def requests_endpoint(request: Request) -> Response:
    """GET: the request log and counts per verb and kind. DELETE: clear the log."""
    state = _state(request)
    if request.method == "DELETE":
        state.log.clear()
    requests = state.log.requests
    return JSONResponse(
        {
            "total": len(requests),
            "counts": state.log.counts(),
            "requests": [r.to_json() for r in requests],
        }
    )


async def reset_endpoint(request: Request) -> Response:
    """POST: clear faults, stuck workloads and the request log, restore the controller's timings;
    `?objects=true` also deletes every object."""
    state = _state(request)
    state.faults.reset()
    state.controller.reset()
    state.log.clear()
    if request.query_params.get("objects") in ("true", "1"):
        state.store.clear()
    return JSONResponse({"reset": True, "objects": request.query_params.get("objects") in ("true", "1")})


async def objects_endpoint(request: Request) -> Response:
    """GET: every stored object, grouped by `plural.group`."""
    state = _state(request)
    dump: dict[str, list[dict[str, Any]]] = {}
    for rt in RESOURCE_TYPES:
        items, _, _ = state.store.list(rt, None)
        dump[rt.group_resource] = items
    return JSONResponse(dump)


def admin_routes() -> list[BaseRoute]:
    return [
        Route("/_simulator/faults", faults_endpoint, methods=["GET", "PUT", "PATCH"]),
        Route("/_simulator/controller", controller_endpoint, methods=["GET", "PUT", "PATCH"]),
        Route("/_simulator/stuck", stuck_endpoint, methods=["GET", "PUT"]),
        Route("/_simulator/requests", requests_endpoint, methods=["GET", "DELETE"]),
        Route("/_simulator/reset", reset_endpoint, methods=["POST"]),
        Route("/_simulator/objects", objects_endpoint, methods=["GET"]),
    ]
