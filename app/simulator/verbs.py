"""Serving each verb of a routed Kubernetes API request from the store: get, list, watch, create,
update, patch and delete, with the query parameters the API server takes for them.

- Lists take `labelSelector`, `fieldSelector`, `limit` and `continue`.
- Reads (get, list, watch) answer a `Table` when the Accept header asks for one (`tables`).
- Writes take `dryRun=All` (checked and answered, nothing stored) and `fieldValidation`
  (`Strict`, `Warn` or `Ignore`: what to do with fields the kind's schema does not know).
- PATCH takes merge, strategic-merge and JSON patches (`patches`); server-side apply is not served.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from app.simulator import errors
from app.simulator.errors import ApiError
from app.simulator.field_validation import FieldValidation, unknown_fields
from app.simulator.patches import JSON_PATCH, PATCH_TYPES
from app.simulator.routing import ApiRoute
from app.simulator.scale import get_scale, patch_scale, replace_scale
from app.simulator.selectors import (
    FieldSelector,
    LabelSelector,
    SelectorError,
    parse_field_selector,
    parse_label_selector,
)
from app.simulator.state import SimulatorState
from app.simulator.tables import table_version, to_table
from app.simulator.watches import error_line, parse_watch_request

_TABLE_MEDIA_TYPE = "application/json;as=Table;v={version};g=meta.k8s.io"


async def read_json(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        raise errors.bad_request("the request body is empty")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise errors.bad_request(f"the body of the request could not be decoded as JSON: {exc}") from exc


def _selectors(request: Request) -> tuple[LabelSelector | None, FieldSelector | None]:
    params = request.query_params
    try:
        labels = parse_label_selector(params.get("labelSelector")) if params.get("labelSelector") else None
        fields = parse_field_selector(params.get("fieldSelector")) if params.get("fieldSelector") else None
    except SelectorError as exc:
        raise errors.bad_request(str(exc)) from exc
    return labels, fields


def _json(
    body: dict[str, Any], status: int = 200, *, media_type: str = "application/json", warnings: list[str] | None = None
) -> Response:
    # Warnings as the API server sends them: one `299 - "<text>"` value per warning, the text a
    # quoted-string (RFC 9110: backslash escapes).
    quoted = [w.replace("\\", "\\\\").replace('"', '\\"') for w in warnings or []]
    headers = {"Warning": ", ".join(f'299 - "{w}"' for w in quoted)} if quoted else None
    return JSONResponse(body, status_code=status, media_type=media_type, headers=headers)


def _list(state: SimulatorState, route: ApiRoute, request: Request, table: str | None) -> Response:
    params = request.query_params
    labels, fields = _selectors(request)
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
    metadata: dict[str, Any] = {"resourceVersion": resource_version}
    if token:
        metadata["continue"] = token
    if table:
        body = to_table(route.resource, stored, table, params.get("includeObject"), metadata)
        return _json(body, media_type=_TABLE_MEDIA_TYPE.format(version=table))
    # The API server leaves kind and apiVersion out of list items. Shallow copies: the stored
    # objects are only read from here on, by the JSON encoder, before any other request runs.
    items = [{k: v for k, v in item.items() if k not in ("kind", "apiVersion")} for item in stored]
    return _json(
        {
            "kind": route.resource.list_kind,
            "apiVersion": route.resource.api_version,
            "metadata": metadata,
            "items": items,
        }
    )


def _watch(state: SimulatorState, route: ApiRoute, request: Request, table: str | None) -> Response:
    labels, fields = _selectors(request)
    watch = parse_watch_request(route.resource, route.namespace, dict(request.query_params), labels, fields)
    media_type = _TABLE_MEDIA_TYPE.format(version=table) if table else "application/json"
    peer = request.scope.get("client")
    try:
        watcher = state.watches.open_watch(watch, lambda: state.connections.close(peer))
    except ApiError as exc:
        # The API server answers 200 and sends the failure as the only event.
        return Response(error_line(exc), media_type=media_type)
    first = True
    include_object = request.query_params.get("includeObject")

    def render(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        nonlocal first
        if not table:
            return obj
        columns, first = first, False
        return to_table(route.resource, [obj], table, include_object, with_columns=columns)

    async def held_stream() -> AsyncIterator[bytes]:
        with state.connections.held(peer):
            async for line in state.watches.stream(watcher, render, lambda: state.faults.faults.outage):
                yield line

    return StreamingResponse(held_stream(), media_type=media_type)


def _dry_run(request: Request, verb: str) -> bool:
    """`dryRun=All`, or the 422 the API server answers for its options (`PatchOptions`, ...)."""
    values = request.query_params.getlist("dryRun")
    for value in values:
        if value != "All":
            options = f"{verb.capitalize()}Options"
            cause = errors.Cause(
                "dryRun", f'Unsupported value: "{value}": supported values: "All"', "FieldValueNotSupported"
            )
            raise errors.invalid(f"{options}.meta.k8s.io", "meta.k8s.io", options, "", [cause])
    return bool(values)


def _validation(request: Request, route: ApiRoute, body: Any) -> list[str]:
    """Warnings for unknown fields under `fieldValidation=Warn`; 400 under `Strict`."""
    directive = FieldValidation.parse(request.query_params.get("fieldValidation"))
    if directive is FieldValidation.IGNORE or route.subresource == "scale":
        return []
    unknown = unknown_fields(route.resource, body)
    if unknown and directive is FieldValidation.STRICT:
        kind, version = route.resource.kind, route.resource.version
        detail = ", ".join(f'unknown field "{path}"' for path in unknown)
        raise errors.bad_request(
            f'{kind} in version "{version}" cannot be handled as a {kind}: strict decoding error: {detail}'
        )
    return [f'unknown field "{path}"' for path in unknown]


async def serve(state: SimulatorState, route: ApiRoute, request: Request) -> Response:
    """The answer to a routed request (raises `ApiError` for failures the API server answers)."""
    store, rt, ns, name, sub = state.store, route.resource, route.store_namespace, route.name, route.subresource
    readable = route.verb in ("get", "list", "watch") and sub is None
    table = table_version(request.headers.get("accept")) if readable else None
    if route.verb == "list":
        return _list(state, route, request, table)
    if route.verb == "watch":
        return _watch(state, route, request, table)
    if route.verb == "get":
        assert name is not None
        if sub == "scale":
            return _json(get_scale(store, rt, ns, name))
        obj = store.get(rt, ns, name)
        if table:
            body = to_table(
                rt,
                [obj],
                table,
                request.query_params.get("includeObject"),
                {"resourceVersion": obj["metadata"]["resourceVersion"]},
            )
            return _json(body, media_type=_TABLE_MEDIA_TYPE.format(version=table))
        return _json(obj)
    dry_run = _dry_run(request, route.verb)
    if route.verb == "delete":
        assert name is not None
        options = await read_json(request) if (await request.body()).strip() else None
        if isinstance(options, dict) and options.get("dryRun"):
            dry_run = dry_run or options["dryRun"] == ["All"]
        return _json(store.delete(rt, ns, name, options, dry_run=dry_run))
    body = await read_json(request)
    if route.verb == "create":
        warnings = _validation(request, route, body)
        return _json(store.create(rt, ns, body, dry_run=dry_run), 201, warnings=warnings)
    assert name is not None
    if route.verb == "update":
        warnings = _validation(request, route, body)
        if sub == "scale":
            return _json(replace_scale(store, rt, ns, name, body, dry_run=dry_run))
        if sub == "status":
            return _json(store.replace_status(rt, ns, name, body, dry_run=dry_run), warnings=warnings)
        return _json(store.replace(rt, ns, name, body, dry_run=dry_run), warnings=warnings)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in PATCH_TYPES:
        raise errors.unsupported_media_type(content_type)
    if sub == "scale":
        return _json(patch_scale(store, rt, ns, name, content_type, body, dry_run=dry_run))
    warnings = _validation(request, route, body) if content_type != JSON_PATCH else []
    patched = store.patch(rt, ns, name, content_type, body, status_only=sub == "status", dry_run=dry_run)
    return _json(patched, warnings=warnings)
