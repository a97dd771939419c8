"""The admin endpoints under /_simulator/: faults, controller timings, watches, stuck workloads,
request log, reset.

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


_WATCH_KNOBS = ("bookmark_seconds", "max_pending", "history_size")


def _watch_settings(state: SimulatorState) -> dict[str, Any]:
    hub = state.watches
    return {
        "open": hub.open,
        "bookmark_seconds": hub.bookmark_seconds,
        "max_pending": hub.max_pending,
        "history_size": hub.history.capacity,
        "oldest": {rt.group_resource: str(hub.history.oldest(rt)) for rt in RESOURCE_TYPES},
    }


async def watches_endpoint(request: Request) -> Response:
    """GET: open watches and their settings. PATCH: change `bookmark_seconds` (float > 0),
    `max_pending` (int >= 1: events buffered per watcher before it is ended) or `history_size`
    (int >= 1: events kept per kind for watches that resume)."""
    state = _state(request)
    if request.method == "PATCH":
        try:
            body = await _json_body(request)
            if not isinstance(body, dict):
                raise ValueError("expected a JSON object")
            unknown = set(body) - set(_WATCH_KNOBS)
            if unknown:
                raise ValueError(f"unknown watch knobs: {', '.join(sorted(unknown))}; known: {', '.join(_WATCH_KNOBS)}")
            bookmark = body.get("bookmark_seconds", state.watches.bookmark_seconds)
            if isinstance(bookmark, bool) or not isinstance(bookmark, int | float) or bookmark <= 0:
                raise ValueError(f"bookmark_seconds must be a number > 0, got {bookmark!r}")
            for name in ("max_pending", "history_size"):
                value = body.get(name, 1)
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
        except ValueError as exc:
            return _error(str(exc))
        state.watches.bookmark_seconds = float(bookmark)
        state.watches.max_pending = int(body.get("max_pending", state.watches.max_pending))
        state.watches.history.capacity = int(body.get("history_size", state.watches.history.capacity))
    return JSONResponse(_watch_settings(state))


async def drop_watches_endpoint(request: Request) -> Response:
    """POST: end every open watch; their clients see the stream end."""
    return JSONResponse({"dropped": _state(request).watches.drop_all()})


async def forget_history_endpoint(request: Request) -> Response:
    """POST: forget the watch history: a watch from an earlier resourceVersion gets 410 Expired."""
    state = _state(request)
    state.watches.history.forget()
    return JSONResponse(_watch_settings(state))


async def access_endpoint(request: Request) -> Response:
    """GET: the extra tokens and what is forbidden to each. PUT {"tokens": {"<token>": ["patch
    deployments", ...]}}: replace them."""
    state: SimulatorState = request.app.state.simulator
    if request.method == "PUT":
        body = await request.json()
        tokens = body.get("tokens") if isinstance(body, dict) else None
        if not isinstance(tokens, dict) or not all(
            isinstance(rules, list) and all(isinstance(rule, str) for rule in rules) for rules in tokens.values()
        ):
            return JSONResponse({"error": '"tokens" must map tokens to lists of "verb resource"'}, status_code=400)
        state.access.reset()
        for token, rules in tokens.items():
            state.access.grant(str(token), rules)
    return JSONResponse(state.access.as_json())


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
    objects = request.query_params.get("objects") in ("true", "1")
    _state(request).reset(objects=objects)
    return JSONResponse({"reset": True, "objects": objects})


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
        Route("/_simulator/watches", watches_endpoint, methods=["GET", "PATCH"]),
        Route("/_simulator/watches/drop", drop_watches_endpoint, methods=["POST"]),
        Route("/_simulator/watches/forget", forget_history_endpoint, methods=["POST"]),
        Route("/_simulator/stuck", stuck_endpoint, methods=["GET", "PUT"]),
        Route("/_simulator/access", access_endpoint, methods=["GET", "PUT"]),
        Route("/_simulator/requests", requests_endpoint, methods=["GET", "DELETE"]),
        Route("/_simulator/reset", reset_endpoint, methods=["POST"]),
        Route("/_simulator/objects", objects_endpoint, methods=["GET"]),
    ]
