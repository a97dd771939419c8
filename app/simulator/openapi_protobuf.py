"""/openapi/v2 in protobuf, for kubectl versions before 1.27, which read only that form.

The message is gnostic's `openapi.v2.Document` (github.com/google/gnostic-models,
openapiv2/OpenAPIv2.proto), written here with the protobuf wire format directly for the fields
Kubernetes clients read: the swagger version, info, the paths with their operations, parameters,
responses and vendor extensions, and the definitions (schemas with `$ref`, type, format,
description, required, enum, default, items, properties, additionalProperties, allOf,
readOnly and `x-` extensions, whose values are carried as YAML, of which JSON is a subset).
"""

from __future__ import annotations

import json
import struct
from functools import cache
from typing import Any

# What the API server answers; clients ask for ...spec.v2@v1.0+protobuf, which Go cannot parse as
# a Content-Type ("@" is no token character).
MEDIA_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"

_VARINT, _FIXED64, _BYTES = 0, 1, 2


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return _varint(field << 3 | wire_type)


def _bytes(field: int, payload: bytes) -> bytes:
    return _key(field, _BYTES) + _varint(len(payload)) + payload


def _string(field: int, value: str) -> bytes:
    return _bytes(field, value.encode()) if value else b""


def _bool(field: int, value: bool) -> bytes:
    return _key(field, _VARINT) + _varint(1) if value else b""


def _int(field: int, value: int) -> bytes:
    return _key(field, _VARINT) + _varint(value) if value else b""


def _double(field: int, value: float) -> bytes:
    return _key(field, _FIXED64) + struct.pack("<d", float(value)) if value else b""


def _any(field: int, value: Any) -> bytes:
    """An `openapi.v2.Any`: the value as YAML (field 2)."""
    return _bytes(field, _string(2, json.dumps(value)))


def _extensions(field: int, node: dict[str, Any]) -> bytes:
    """`repeated NamedAny vendor_extension`: every `x-` key."""
    return b"".join(
        _bytes(field, _string(1, key) + _any(2, value)) for key, value in node.items() if key.startswith("x-")
    )


def schema(node: dict[str, Any]) -> bytes:
    """An `openapi.v2.Schema`."""
    out = [
        _string(1, node.get("$ref", "")),
        _string(2, node.get("format", "")),
        _string(3, node.get("title", "")),
        _string(4, node.get("description", "")),
        _any(5, node["default"]) if "default" in node else b"",
        _double(6, node.get("multipleOf", 0)),
        _double(7, node.get("maximum", 0)),
        _bool(8, node.get("exclusiveMaximum", False)),
        _double(9, node.get("minimum", 0)),
        _bool(10, node.get("exclusiveMinimum", False)),
        _int(11, node.get("maxLength", 0)),
        _int(12, node.get("minLength", 0)),
        _string(13, node.get("pattern", "")),
        _int(14, node.get("maxItems", 0)),
        _int(15, node.get("minItems", 0)),
        _bool(16, node.get("uniqueItems", False)),
        _int(17, node.get("maxProperties", 0)),
        _int(18, node.get("minProperties", 0)),
        *(_string(19, name) for name in node.get("required", [])),
        *(_any(20, value) for value in node.get("enum", [])),
    ]
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        out.append(_bytes(21, _bytes(1, schema(extra))))
    elif isinstance(extra, bool):
        out.append(_bytes(21, _key(2, _VARINT) + _varint(int(extra))))
    kinds = node.get("type")
    if kinds:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        out.append(_bytes(22, b"".join(_string(1, kind) for kind in kinds)))
    items = node.get("items")
    if items:
        items = [items] if isinstance(items, dict) else items
        out.append(_bytes(23, b"".join(_bytes(1, schema(item)) for item in items)))
    out += [_bytes(24, schema(part)) for part in node.get("allOf", [])]
    properties = node.get("properties")
    if properties:
        named = b"".join(_bytes(1, _string(1, name) + _bytes(2, schema(value))) for name, value in properties.items())
        out.append(_bytes(25, named))
    out += [_bool(27, node.get("readOnly", False)), _extensions(31, node)]
    return b"".join(out)


def _parameter(node: dict[str, Any]) -> bytes:
    """An `openapi.v2.ParametersItem` holding a body, query or path parameter."""
    if node["in"] == "body":
        body = (
            _string(1, node.get("description", ""))
            + _string(2, node["name"])
            + _string(3, "body")
            + _bool(4, node.get("required", False))
            + _bytes(5, schema(node["schema"]))
        )
        parameter = _bytes(1, body)
    else:
        common = (
            _bool(1, node.get("required", False)) + _string(2, node["in"]) + _string(3, node.get("description", ""))
        )
        common += _string(4, node["name"])
        if node["in"] == "path":
            sub_schema = _bytes(4, common + _string(5, node.get("type", "string")))
        else:
            sub_schema = _bytes(
                3, common + _string(6, node.get("type", "string")) + _bool(20, node.get("uniqueItems", False))
            )
        parameter = _bytes(2, sub_schema)
    return _bytes(1, parameter)


def _operation(node: dict[str, Any]) -> bytes:
    responses = b"".join(
        _bytes(
            1,
            _string(1, code)
            + _bytes(
                2, _bytes(1, _string(1, answer.get("description", "")) + _bytes(2, _bytes(1, schema(answer["schema"]))))
            ),
        )
        for code, answer in node.get("responses", {}).items()
    )
    return b"".join(
        [
            *(_string(1, tag) for tag in node.get("tags", [])),
            _string(5, node.get("operationId", "")),
            *(_string(6, media) for media in node.get("produces", [])),
            *(_string(7, media) for media in node.get("consumes", [])),
            *(_bytes(8, _parameter(parameter)) for parameter in node.get("parameters", [])),
            _bytes(9, responses),
            _extensions(13, node),
        ]
    )


_METHODS = {"get": 2, "put": 3, "post": 4, "delete": 5, "patch": 8}


def _path_item(node: dict[str, Any]) -> bytes:
    out = [_bytes(field, _operation(node[method])) for method, field in _METHODS.items() if method in node]
    out += [_bytes(9, _parameter(parameter)) for parameter in node.get("parameters", [])]
    return b"".join(out)


@cache
def encode_document(document_json: bytes) -> bytes:
    """The `openapi.v2.Document` of an OpenAPI v2 JSON document."""
    document = json.loads(document_json)
    info = document.get("info", {})
    paths = b"".join(
        _bytes(2, _string(1, path) + _bytes(2, _path_item(item))) for path, item in document.get("paths", {}).items()
    )
    definitions = b"".join(
        _bytes(1, _string(1, name) + _bytes(2, schema(value)))
        for name, value in document.get("definitions", {}).items()
    )
    return (
        _string(1, document.get("swagger", "2.0"))
        + _bytes(2, _string(1, info.get("title", "")) + _string(2, info.get("version", "")))
        + _bytes(8, paths)
        + _bytes(9, definitions)
    )
