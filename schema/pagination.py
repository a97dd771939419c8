"""Relay cursor connections: `first` 1..100, opaque cursors, pageInfo and a lazily counted totalCount."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Generic, TypeVar

import strawberry
from strawberry.dataloader import DataLoader

from app.db.pagination import CursorKey, Page, PageRequest
from app.domain.errors import InvalidInput

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

NodeT = TypeVar("NodeT")


@strawberry.type(description="Where a page sits in the whole list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when another page follows this one.")
    has_previous_page: bool = strawberry.field(description="True when this page was asked for with `after`.")
    start_cursor: str | None = strawberry.field(description="The cursor of the first row of this page.")
    end_cursor: str | None = strawberry.field(
        description="The cursor of the last row; pass it as `after` for the next page."
    )


@strawberry.type(description="One row of a page, with its cursor.")
class Edge(Generic[NodeT]):
    node: NodeT = strawberry.field(description="The row.")
    cursor: str = strawberry.field(description="Opaque position of this row; pass it as `after`.")


@strawberry.type(description="A page of a list, in Relay connection form.")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = strawberry.field(description="The rows of this page with their cursors.")
    page_info: PageInfo = strawberry.field(description="Paging information.")
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="The rows of this page, without cursors.")
    def nodes(self) -> list[NodeT]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="How many rows match the filter in all pages (counted only when asked).")
    async def total_count(self) -> int:
        return await self.count()


def page_request(first: int, after: str | None, ordering: str) -> PageRequest:
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise InvalidInput(f"`first` must be between 1 and {MAX_PAGE_SIZE}; got {first}.", field="first")
    return PageRequest(first=first, after=None if after is None else decode_cursor(after, ordering))


def encode_cursor(key: CursorKey, ordering: str) -> str:
    raw = json.dumps([ordering, list(key)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, ordering: str) -> CursorKey:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        stored_ordering, key = data
        if not isinstance(key, list):
            raise ValueError
    except (ValueError, TypeError, UnicodeDecodeError):
        raise InvalidInput(
            "`after` is not a cursor this API issued; pass an `endCursor` from a previous page.",
            field="after",
        ) from None
    if stored_ordering != ordering:
        raise InvalidInput(
            "`after` comes from a list with another order or type; start again without `after`.",
            field="after",
        )
    return tuple(key)


def connection(
    page: Page[Any],
    to_node: Callable[[Any], NodeT],
    ordering: str,
    count: Callable[[], Awaitable[int]],
) -> Connection[NodeT]:
    edges = [Edge(node=to_node(row), cursor=encode_cursor(key, ordering)) for row, key in page.items]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        count=count,
    )


def before_id(request: PageRequest) -> int | None:
    """The row id a newest-first page of history starts below (its cursor is the last row's id)."""
    if request.after is None:
        return None
    if len(request.after) != 1 or type(request.after[0]) is not int or not 0 < request.after[0] < 2**63:
        raise InvalidInput("`after` is not a cursor this API issued.", field="after")
    return request.after[0]


async def history_connection(
    parent_id: int,
    first: int,
    after: str | None,
    ordering: str,
    pages: DataLoader[tuple[int, int, int | None], list[Any]],
    counts: DataLoader[int, int],
    to_node: Callable[[Any], NodeT],
) -> Connection[NodeT]:
    """A newest-first page of a parent's history rows (cursor: the row id), batched across parents."""
    request = page_request(first, after, ordering)
    before = before_id(request)
    rows = await pages.load((parent_id, request.first, before))
    page = Page(
        items=[(row, (row.id,)) for row in rows[: request.first]],
        has_next_page=len(rows) > request.first,
        has_previous_page=before is not None,
    )
    return connection(page, to_node, ordering, lambda: counts.load(parent_id))


def node_keys(node_ids: Iterable[str]) -> list[int]:
    """Database ids from global-id payloads; a malformed one becomes -1, which matches no row."""
    keys = []
    for raw in node_ids:
        key = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else -1
        keys.append(key)
    return keys
