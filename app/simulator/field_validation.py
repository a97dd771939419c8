"""Server-side field validation (`?fieldValidation=`), against the kinds' OpenAPI schemas.

A write whose body has fields its kind does not know (a typo such as `imagePullPolicyy`) is, by
the directive: `Strict` → 400 BadRequest, `strict decoding error: unknown field "spec.x"`;
`Warn` (the API server's default) → stored, with a `Warning` header naming the fields; `Ignore`
→ stored silently. Patches are checked as the partial objects they are (their `$` directives
are not fields); JSON patches are not checked.
"""

from __future__ import annotations

import enum
from typing import Any

from app.simulator import errors
from app.simulator.openapi import definition_name, definitions
from app.simulator.resources import ResourceType


class FieldValidation(enum.Enum):
    IGNORE = "Ignore"
    WARN = "Warn"
    STRICT = "Strict"

    @classmethod
    def parse(cls, value: str | None) -> FieldValidation:
        if not value:
            return cls.WARN
        for directive in cls:
            if directive.value == value:
                return directive
        raise errors.bad_request(
            f'fieldValidation: Invalid value: "{value}": fieldValidation must be one of Ignore, Warn, Strict'
        )


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = definitions()[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _walk(schema: dict[str, Any], value: Any, path: str, unknown: list[str]) -> None:
    schema = _resolve(schema)
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return
    if isinstance(value, dict):
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key.startswith("$") or item is None:
                continue
            where = f"{path}.{key}" if path else key
            if properties is not None and key in properties:
                _walk(properties[key], item, where, unknown)
            elif isinstance(extra, dict):
                _walk(extra, item, where, unknown)
            elif properties is not None:
                unknown.append(where)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            _walk(schema["items"], item, f"{path}[{index}]", unknown)


def unknown_fields(rt: ResourceType, body: Any) -> list[str]:
    """The paths of the fields in `body` (an object or a merge patch of one) that its kind does
    not define, e.g. `spec.template.spec.containers[0].imagez`."""
    unknown: list[str] = []
    _walk(definitions()[definition_name(rt)], body, "", unknown)
    return unknown
