"""Label and field selectors, parsed and matched as the Kubernetes API server does.

Label selector grammar (`labelSelector=`): comma-separated requirements, each one of
`key`, `!key`, `key=value`, `key==value`, `key!=value`, `key in (v1,v2)`, `key notin (v1,v2)`,
`key>N`, `key<N`. `!=` and `notin` also match objects without the key, like the real server.
Field selectors (`fieldSelector=`) support `metadata.name` and `metadata.namespace` (and a
namespace's `status.phase`) with `=`, `==` and `!=`. Parse errors raise `SelectorError`, which the
API answers with 400 BadRequest.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.simulator.resources import NAMESPACES, ResourceType


class SelectorError(ValueError):
    """The selector string cannot be parsed."""


class Operator(StrEnum):
    EXISTS = "exists"
    DOES_NOT_EXIST = "!"
    EQUALS = "="
    NOT_EQUALS = "!="
    IN = "in"
    NOT_IN = "notin"
    GREATER_THAN = ">"
    LESS_THAN = "<"


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        match self.operator:
            case Operator.EXISTS:
                return present
            case Operator.DOES_NOT_EXIST:
                return not present
            case Operator.EQUALS | Operator.IN:
                return present and value in self.values
            case Operator.NOT_EQUALS | Operator.NOT_IN:
                return not present or value not in self.values
            case Operator.GREATER_THAN | Operator.LESS_THAN:
                if value is None:
                    return False
                try:
                    number = int(value)
                except ValueError:
                    return False
                bound = int(self.values[0])
                return number > bound if self.operator is Operator.GREATER_THAN else number < bound


@dataclass(frozen=True, slots=True)
class LabelSelector:
    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)


_TOKEN = re.compile(r"\s*(?:(?P<op>!=|==|=|!|\(|\)|,|>|<)|(?P<ident>[^\s!=(),<>]+))")
_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
_LABEL_NAME = re.compile(_NAME)
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None:
            raise SelectorError(f"unable to parse requirement: unexpected character at {position} in {text!r}")
        if match.group("op") is not None:
            tokens.append(("op", match.group("op")))
        else:
            tokens.append(("ident", match.group("ident")))
        position = match.end()
    return tokens


def check_label_key(key: str) -> None:
    prefix, _, name = key.rpartition("/")
    if "/" in key and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix)):
        raise SelectorError(
            f"unable to parse requirement: invalid label key {key!r}: prefix part must be a DNS subdomain"
        )
    if not name or len(name) > 63 or not _LABEL_NAME.fullmatch(name):
        raise SelectorError(
            f"unable to parse requirement: invalid label key {key!r}: name part must consist of alphanumeric "
            "characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        )


def check_label_value(value: str) -> None:
    if value and (len(value) > 63 or not _LABEL_NAME.fullmatch(value)):
        raise SelectorError(
            f"unable to parse requirement: invalid label value: {value!r}: a valid label must be an empty string "
            "or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
            "character"
        )


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.position = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise SelectorError(f"unable to parse requirement: unexpected end of selector {self.text!r}")
        self.position += 1
        return token

    def expect_ident(self, what: str) -> str:
        kind, value = self.take()
        if kind != "ident":
            raise SelectorError(f"unable to parse requirement: found {value!r}, expected: {what}")
        return value

    def expect_op(self, op: str) -> None:
        _, value = self.take()
        if value != op:
            raise SelectorError(f"unable to parse requirement: found {value!r}, expected: {op!r}")

    def at_boundary(self) -> bool:
        token = self.peek()
        return token is None or token == ("op", ",")

    def parse(self) -> LabelSelector:
        requirements: list[Requirement] = []
        if not self.tokens:
            return LabelSelector()
        while True:
            requirements.append(self.requirement())
            token = self.peek()
            if token is None:
                break
            if token != ("op", ","):
                raise SelectorError(f"unable to parse requirement: found {token[1]!r}, expected: ','")
            self.take()
        return LabelSelector(tuple(requirements))

    def requirement(self) -> Requirement:
        if self.peek() == ("op", "!"):
            self.take()
            key = self.expect_ident("label key")
            check_label_key(key)
            return Requirement(key, Operator.DOES_NOT_EXIST)
        key = self.expect_ident("label key")
        check_label_key(key)
        if self.at_boundary():
            return Requirement(key, Operator.EXISTS)
        kind, value = self.take()
        if kind == "op" and value in ("=", "==", "!="):
            operator = Operator.NOT_EQUALS if value == "!=" else Operator.EQUALS
            label_value = "" if self.at_boundary() else self.expect_ident("label value")
            check_label_value(label_value)
            return Requirement(key, operator, (label_value,))
        if kind == "op" and value in (">", "<"):
            bound = self.expect_ident("an integer")
            if not re.fullmatch(r"-?\d+", bound):
                raise SelectorError(
                    f"unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer: {bound!r}"
                )
            return Requirement(key, Operator.GREATER_THAN if value == ">" else Operator.LESS_THAN, (bound,))
        if kind == "ident" and value in ("in", "notin"):
            self.expect_op("(")
            values: list[str] = []
            while True:
                token = self.peek()
                if token == ("op", ")"):
                    self.take()
                    break
                if token == ("op", ","):
                    # An empty value, as in `key in (a,,b)` or `key in (,a)`.
                    values.append("")
                    self.take()
                    continue
                item = self.expect_ident("label value")
                check_label_value(item)
                values.append(item)
                after = self.take()
                if after == ("op", ")"):
                    break
                if after != ("op", ","):
                    raise SelectorError(f"unable to parse requirement: found {after[1]!r}, expected: ',' or ')'")
            if not values:
                raise SelectorError(
                    "unable to parse requirement: for 'in', 'notin' operators, values set can't be empty"
                )
            return Requirement(key, Operator.IN if value == "in" else Operator.NOT_IN, tuple(values))
        raise SelectorError(f"unable to parse requirement: found {value!r}, expected: in, notin, =, ==, !=, gt, lt")


def parse_label_selector(text: str | None) -> LabelSelector:
    """Parse a `labelSelector` query value; empty or None selects everything."""
    if not text or not text.strip():
        return LabelSelector()
    return _Parser(text).parse()


@dataclass(frozen=True, slots=True)
class FieldRequirement:
    field: str
    value: str
    negated: bool

    def matches(self, fields: Mapping[str, str]) -> bool:
        equal = fields.get(self.field) == self.value
        return not equal if self.negated else equal


@dataclass(frozen=True, slots=True)
class FieldSelector:
    requirements: tuple[FieldRequirement, ...] = ()

    def matches(self, fields: Mapping[str, str]) -> bool:
        return all(r.matches(fields) for r in self.requirements)


SUPPORTED_FIELDS = ("metadata.name", "metadata.namespace")


def parse_field_selector(text: str | None) -> FieldSelector:
    """Parse a `fieldSelector` query value (only metadata.name and metadata.namespace are known)."""
    if not text or not text.strip():
        return FieldSelector()
    requirements: list[FieldRequirement] = []
    for part in text.split(","):
        match = re.fullmatch(r"\s*([^=!\s]+)\s*(!=|==|=)\s*(\S*)\s*", part)
        if match is None:
            raise SelectorError(f"invalid selector: {text!r}; can't understand {part!r}")
        field, op, value = match.groups()
        if field not in SUPPORTED_FIELDS:
            raise SelectorError(f'"{field}" is not a known field selector: only "metadata.name", "metadata.namespace"')
        requirements.append(FieldRequirement(field, value, op == "!="))
    return FieldSelector(tuple(requirements))


def selector_from_spec(selector: Mapping[str, object] | None) -> LabelSelector:
    """The `LabelSelector` of a `spec.selector` object (`matchLabels` and `matchExpressions`)."""
    if not selector:
        return LabelSelector()
    requirements: list[Requirement] = []
    match_labels = selector.get("matchLabels")
    if isinstance(match_labels, Mapping):
        for key, value in match_labels.items():
            requirements.append(Requirement(str(key), Operator.EQUALS, (str(value),)))
    expressions = selector.get("matchExpressions")
    operators = {
        "In": Operator.IN,
        "NotIn": Operator.NOT_IN,
        "Exists": Operator.EXISTS,
        "DoesNotExist": Operator.DOES_NOT_EXIST,
    }
    if isinstance(expressions, list):
        for expression in expressions:
            if not isinstance(expression, Mapping):
                continue
            operator = operators.get(str(expression.get("operator")))
            if operator is None:
                continue
            values = expression.get("values")
            requirements.append(
                Requirement(
                    str(expression.get("key")),
                    operator,
                    tuple(str(v) for v in values) if isinstance(values, list) else (),
                )
            )
    return LabelSelector(tuple(requirements))


def format_label_selector(selector: LabelSelector) -> str:
    """The string form of a selector, as `Scale.status.selector` carries it."""
    parts: list[str] = []
    for r in sorted(selector.requirements, key=lambda r: r.key):
        match r.operator:
            case Operator.EXISTS:
                parts.append(r.key)
            case Operator.DOES_NOT_EXIST:
                parts.append(f"!{r.key}")
            case Operator.EQUALS:
                parts.append(f"{r.key}={r.values[0]}")
            case Operator.NOT_EQUALS:
                parts.append(f"{r.key}!={r.values[0]}")
            case Operator.IN | Operator.NOT_IN:
                parts.append(f"{r.key} {r.operator.value} ({','.join(sorted(r.values))})")
            case Operator.GREATER_THAN | Operator.LESS_THAN:
                parts.append(f"{r.key}{r.operator.value}{r.values[0]}")
    return ",".join(parts)


def selectable_fields(rt: ResourceType, obj: dict[str, Any]) -> dict[str, str]:
    """The fields a field selector may name, for one stored object."""
    metadata = obj["metadata"]
    fields = {"metadata.name": metadata["name"], "metadata.namespace": metadata.get("namespace", "")}
    if rt is NAMESPACES:
        fields["status.phase"] = str((obj.get("status") or {}).get("phase", ""))
    return fields
