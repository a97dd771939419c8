"""Keyset pagination: pages stay exact and stable while rows are added or removed between requests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import ColumnElement, Select, and_, literal, tuple_
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.types import TypeDecorator

T = TypeVar("T")
CursorKey = tuple[Any, ...]


class SortDirection(StrEnum):
    ASC = "ASC"
    DESC = "DESC"


@dataclass(frozen=True, slots=True)
class PageRequest:
    first: int
    after: CursorKey | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[tuple[T, CursorKey]]
    has_next_page: bool
    has_previous_page: bool


def _after_condition(
    columns: Sequence[InstrumentedAttribute[Any]], key: CursorKey, direction: SortDirection
) -> ColumnElement[bool]:
    # A row-value comparison (PostgreSQL, and SQLite >= 3.15) walks the composite index directly.
    if len(columns) == 1:
        single: ColumnElement[bool] = columns[0] > key[0] if direction is SortDirection.ASC else columns[0] < key[0]
        return single
    left, right = tuple_(*columns), tuple_(*(literal(v, c.type) for v, c in zip(key, columns, strict=True)))
    condition: ColumnElement[bool] = left > right if direction is SortDirection.ASC else left < right
    # The row comparison is exact but, when its columns span tables, no index can serve it; the
    # implied bound on the leading column can, so the scan starts at the cursor, not at the top.
    leading: ColumnElement[bool] = columns[0] >= key[0] if direction is SortDirection.ASC else columns[0] <= key[0]
    return and_(leading, condition)


def paginate(
    query: Select[Any],
    columns: Sequence[InstrumentedAttribute[Any]],
    direction: SortDirection,
    request: PageRequest,
) -> Select[Any]:
    """Orders `query` by `columns` (the last one unique), starts after the cursor, fetches one extra row."""
    if request.after is not None:
        query = query.where(_after_condition(columns, request.after, direction))
    order = [c.asc() if direction is SortDirection.ASC else c.desc() for c in columns]
    return query.order_by(*order).limit(request.first + 1)


def build_page(rows: Sequence[T], keys: Sequence[CursorKey], request: PageRequest) -> Page[T]:
    has_next = len(rows) > request.first
    return Page(
        items=list(zip(rows[: request.first], keys[: request.first], strict=True)),
        has_next_page=has_next,
        has_previous_page=request.after is not None,
    )


def key_value(value: Any) -> Any:
    """A cursor-safe representation of one sort value (datetimes as ISO strings)."""
    return value.isoformat() if isinstance(value, datetime) else value


def parse_key_value(column: InstrumentedAttribute[Any], value: Any) -> Any:
    python_type: type[Any] | None
    column_type = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
    try:
        python_type = cast(type[Any], column_type.python_type)
    except NotImplementedError:
        python_type = None
    if python_type is datetime and isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("cursor datetimes carry a timezone")
        return parsed
    if python_type is not None and (not isinstance(value, python_type) or isinstance(value, bool)):
        raise ValueError(f"cursor value {value!r} does not fit column {column.key}")
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        raise ValueError("cursor integer out of range")
    if isinstance(value, str) and ("\x00" in value or len(value) > 1024):
        raise ValueError("cursor text not acceptable")
    return value
