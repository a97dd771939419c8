"""How messages name what they are about: a few values, never an unbounded list."""

from __future__ import annotations

from collections.abc import Iterable

MAX_LISTED = 5
MAX_VALUE_CHARS = 60


def quoted(value: str) -> str:
    """One value as a message shows it: quoted, cut short when long."""
    if len(value) > MAX_VALUE_CHARS:
        value = value[: MAX_VALUE_CHARS - 1] + "…"
    return f"'{value}'"


def some_of(values: Iterable[str], *, limit: int = MAX_LISTED) -> str:
    """ "'a', 'b' and 'c'", or "'a', 'b', 'c', 'd', 'e' and 39,995 more": bounded whatever is given."""
    items = list(values)
    shown = [quoted(v) for v in items[:limit]]
    rest = len(items) - len(shown)
    if rest > 0:
        return f"{', '.join(shown)} and {rest:,} more"
    if len(shown) <= 1:
        return "".join(shown)
    return f"{', '.join(shown[:-1])} and {shown[-1]}"
