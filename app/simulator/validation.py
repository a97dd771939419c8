"""What the API server checks before it stores an object: decoding (400) and validation (422).

`check_types` mirrors the decoder: a field of the wrong JSON type (a number where a string is
expected, as in an annotation value written as 3 instead of "3") is a 400 BadRequest, exactly like
the Go decoder's `cannot unmarshal` error. `validate` mirrors the validation of the served kinds and
returns `Cause`s that the store turns into a 422 Invalid.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeGuard

from app.simulator.errors import ApiError, Cause, bad_request
from app.simulator.resources import (
    CRON_JOBS,
    DEPLOYMENTS,
    HORIZONTAL_POD_AUTOSCALERS,
    NAMESPACES,
    STATEFUL_SETS,
    ResourceType,
)
from app.simulator.selectors import (
    SelectorError,
    check_label_key,
    check_label_value,
    selector_from_spec,
)

_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _decode_error(rt: ResourceType, value: Any, go_field: str, go_type: str) -> ApiError:
    return bad_request(
        f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: json: cannot unmarshal '
        f"{_json_type(value)} into Go struct field {go_field} of type {go_type}"
    )


def _pod_template_path(rt: ResourceType) -> tuple[str, ...]:
    if rt is CRON_JOBS:
        return ("spec", "jobTemplate", "spec", "template")
    return ("spec", "template")


def _dig(obj: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = obj
    for part in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def check_types(rt: ResourceType, obj: Any) -> None:
    """Raise 400 BadRequest where the Go decoder would fail on `obj`."""
    if not isinstance(obj, dict):
        raise bad_request(f"the body of the request was not a JSON object: {_json_type(obj)}")
    metadata = obj.get("metadata", {})
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise _decode_error(rt, metadata, f"{rt.kind}.metadata", "v1.ObjectMeta")
    for field in ("name", "namespace", "generateName", "resourceVersion"):
        if field in metadata and metadata[field] is not None and not isinstance(metadata[field], str):
            raise _decode_error(rt, metadata[field], f"ObjectMeta.metadata.{field}", "string")
    for field in ("labels", "annotations"):
        mapping = metadata.get(field)
        if mapping is None:
            continue
        if not isinstance(mapping, dict):
            raise _decode_error(rt, mapping, f"ObjectMeta.metadata.{field}", "map[string]string")
        for value in mapping.values():
            if not isinstance(value, str):
                raise _decode_error(rt, value, f"ObjectMeta.metadata.{field}", "string")
    spec = obj.get("spec")
    if spec is not None and not isinstance(spec, dict):
        raise _decode_error(rt, spec, f"{rt.kind}.spec", f"v{rt.version[-1]}.{rt.kind}Spec")
    if isinstance(spec, dict):
        for field in ("replicas", "minReplicas", "maxReplicas", "progressDeadlineSeconds"):
            value = spec.get(field)
            if value is not None and not is_int(value):
                raise _decode_error(rt, value, f"{rt.kind}Spec.spec.{field}", "int32")
        if "suspend" in spec and spec["suspend"] is not None and not isinstance(spec["suspend"], bool):
            raise _decode_error(rt, spec["suspend"], f"{rt.kind}Spec.spec.suspend", "bool")
    template = _dig(obj, _pod_template_path(rt))
    containers = _dig(template, ("spec", "containers")) if isinstance(template, Mapping) else None
    if containers is not None and not isinstance(containers, list):
        raise _decode_error(rt, containers, "PodSpec.spec.template.spec.containers", "[]v1.Container")


def _check_name(name: Any, max_length: int) -> list[Cause]:
    if not name:
        return [Cause("metadata.name", "Required value: name or generateName is required", "FieldValueRequired")]
    if len(name) > max_length:
        return [Cause("metadata.name", f'Invalid value: "{name}": must be no more than {max_length} characters')]
    if not _DNS_SUBDOMAIN.fullmatch(name):
        return [
            Cause(
                "metadata.name",
                f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric '
                "characters, '-' or '.', and must start and end with an alphanumeric character",
            )
        ]
    return []


def _check_namespace_name(name: Any) -> list[Cause]:
    if not name:
        return [Cause("metadata.name", "Required value: name or generateName is required", "FieldValueRequired")]
    if len(name) > 63 or not _DNS_LABEL.fullmatch(name):
        return [
            Cause(
                "metadata.name",
                f'Invalid value: "{name}": a lowercase RFC 1123 label must consist of lower case alphanumeric '
                "characters or '-', and must start and end with an alphanumeric character",
            )
        ]
    return []


def _check_labels(labels: Mapping[str, str], field: str) -> list[Cause]:
    causes: list[Cause] = []
    for key, value in labels.items():
        try:
            check_label_key(key)
        except SelectorError:
            causes.append(
                Cause(f"{field}", f'Invalid value: "{key}": name part must consist of alphanumeric characters')
            )
            continue
        try:
            check_label_value(value)
        except SelectorError:
            causes.append(
                Cause(
                    f"{field}",
                    f'Invalid value: "{value}": a valid label must be an empty string or '
                    "consist of alphanumeric characters, '-', '_' or '.'",
                )
            )
    return causes


def _check_pod_template(template: Any, field: str) -> list[Cause]:
    containers = _dig(template, ("spec", "containers")) if isinstance(template, Mapping) else None
    if not containers:
        return [Cause(f"{field}.spec.containers", "Required value", "FieldValueRequired")]
    causes: list[Cause] = []
    seen: set[str] = set()
    for index, container in enumerate(containers):
        where = f"{field}.spec.containers[{index}]"
        if not isinstance(container, dict):
            causes.append(Cause(where, "Invalid value: a container must be an object"))
            continue
        name = container.get("name")
        if not name:
            causes.append(Cause(f"{where}.name", "Required value", "FieldValueRequired"))
        elif not isinstance(name, str) or not _DNS_LABEL.fullmatch(name) or len(name) > 63:
            causes.append(
                Cause(
                    f"{where}.name",
                    f'Invalid value: "{name}": a lowercase RFC 1123 label must consist '
                    "of lower case alphanumeric characters or '-'",
                )
            )
        elif name in seen:
            causes.append(Cause(f"{where}.name", f'Duplicate value: "{name}"', "FieldValueDuplicate"))
        else:
            seen.add(name)
        image = container.get("image")
        if not image or not isinstance(image, str) or image != image.strip():
            causes.append(Cause(f"{where}.image", "Required value", "FieldValueRequired"))
    return causes


def _check_non_negative(spec: Mapping[str, Any], field: str) -> list[Cause]:
    value = spec.get(field)
    if is_int(value) and value < 0:
        return [Cause(f"spec.{field}", f"Invalid value: {value}: must be greater than or equal to 0")]
    return []


def _check_selector(obj: Mapping[str, Any], rt: ResourceType) -> list[Cause]:
    selector = _dig(obj, ("spec", "selector"))
    if not isinstance(selector, Mapping) or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        if selector is None:
            return [Cause("spec.selector", "Required value", "FieldValueRequired")]
        return [Cause("spec.selector", f"Invalid value: {selector}: empty selector is invalid for {rt.singular}")]
    template_labels = _dig(obj, ("spec", "template", "metadata", "labels")) or {}
    if not selector_from_spec(selector).matches(template_labels):
        return [
            Cause(
                "spec.template.metadata.labels",
                f"Invalid value: {dict(template_labels)}: `selector` does not match template `labels`",
            )
        ]
    return []


def validate(rt: ResourceType, obj: Mapping[str, Any], old: Mapping[str, Any] | None = None) -> list[Cause]:
    """Causes that make `obj` invalid (empty when valid). `old` is the stored object on update."""
    metadata = obj.get("metadata") or {}
    if rt is NAMESPACES:
        return _check_namespace_name(metadata.get("name")) + _check_labels(
            metadata.get("labels") or {}, "metadata.labels"
        )
    causes = _check_name(metadata.get("name"), 52 if rt is CRON_JOBS else 253)
    causes += _check_labels(metadata.get("labels") or {}, "metadata.labels")
    spec = obj.get("spec")
    if not isinstance(spec, Mapping):
        return [*causes, Cause("spec", "Required value", "FieldValueRequired")]
    if rt in (DEPLOYMENTS, STATEFUL_SETS):
        causes += _check_non_negative(spec, "replicas")
        causes += _check_selector(obj, rt)
        causes += _check_pod_template(spec.get("template"), "spec.template")
        if old is not None and _dig(old, ("spec", "selector")) != spec.get("selector"):
            causes.append(Cause("spec.selector", f"Invalid value: {spec.get('selector')}: field is immutable"))
        deadline = spec.get("progressDeadlineSeconds")
        if rt is DEPLOYMENTS and is_int(deadline) and deadline <= 0:
            causes.append(Cause("spec.progressDeadlineSeconds", f"Invalid value: {deadline}: must be greater than 0"))
    elif rt is CRON_JOBS:
        if not spec.get("schedule"):
            causes.append(Cause("spec.schedule", "Required value", "FieldValueRequired"))
        causes += _check_pod_template(_dig(obj, _pod_template_path(rt)), "spec.jobTemplate.spec.template")
    elif rt is HORIZONTAL_POD_AUTOSCALERS:
        target = spec.get("scaleTargetRef")
        if not isinstance(target, Mapping) or not target.get("kind"):
            causes.append(Cause("spec.scaleTargetRef.kind", "Required value", "FieldValueRequired"))
        if not isinstance(target, Mapping) or not target.get("name"):
            causes.append(Cause("spec.scaleTargetRef.name", "Required value", "FieldValueRequired"))
        maximum = spec.get("maxReplicas")
        minimum = spec.get("minReplicas", 1)
        if not is_int(maximum) or maximum < 1:
            causes.append(Cause("spec.maxReplicas", f"Invalid value: {maximum}: must be greater than or equal to 1"))
        elif is_int(minimum) and minimum > maximum:
            causes.append(
                Cause("spec.minReplicas", f"Invalid value: {minimum}: must be less than or equal to maxReplicas")
            )
        if is_int(minimum) and minimum < 1:
            causes.append(Cause("spec.minReplicas", f"Invalid value: {minimum}: must be greater than or equal to 1"))
    return causes
