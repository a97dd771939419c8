"""What a request may carry, checked on decoded values before anything runs.

Every string of a request (variables, and the string literals of the document, escapes decoded)
is checked here, so a NUL written as `\\u0000` in JSON, `\\u{0}` in GraphQL or `%00` in a GET is
refused alike, while the six harmless characters `\\u0000` inside a search string pass. PostgreSQL
text cannot hold NUL, lone surrogates cannot be encoded, and control characters have no business in
names, images or filters. JSON bodies nest at most `MAX_JSON_DEPTH` levels.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from app.domain.wording import some_of

MAX_BODY_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 64
MAX_STRING_CHARS = 65536  # the largest legitimate input is a CA certificate bundle
MAX_KEY_CHARS = 256

# C0 controls but tab, line feed and carriage return; DEL; lone UTF-16 surrogates.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


class BadRequest(Exception):
    """The request cannot run; `status` is the HTTP status, `code` the error code clients branch on."""

    def __init__(self, message: str, *, status: int = 400, code: str = "INVALID_INPUT") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


def decode_json(body: bytes) -> Any:
    """The JSON document of a body, refused (BadRequest) when not UTF-8 JSON or nested too deep."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The request body is not UTF-8.") from None
    try:
        document = json.loads(text)
    except RecursionError:
        raise BadRequest(f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels.") from None
    except ValueError as error:
        raise BadRequest(f"The request body is not valid JSON: {error}.") from None
    if _depth_over(document, MAX_JSON_DEPTH):
        raise BadRequest(f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels.")
    return document


def _depth_over(document: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            if depth > limit:
                return True
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            if depth > limit:
                return True
            stack.extend((v, depth + 1) for v in value)
    return False


def check_strings(strings: Iterable[str], where: str) -> None:
    """Refuses strings holding NUL, other control characters or lone surrogates, or too long."""
    bad: list[str] = []
    long: list[str] = []
    for value in strings:
        if len(value) > MAX_STRING_CHARS:
            long.append(value[:20])
        elif _FORBIDDEN.search(value):
            bad.append(_FORBIDDEN.sub("\N{REPLACEMENT CHARACTER}", value))
    if long:
        raise BadRequest(f"Strings in {where} are at most {MAX_STRING_CHARS:,} characters; {some_of(long)} are longer.")
    if bad:
        raise BadRequest(
            f"Strings in {where} must not contain NUL (\\u0000), other control characters or lone surrogates: "
            f"{some_of(bad)}."
        )


def strings_in(value: Any) -> Iterable[str]:
    """Every string of a decoded JSON value, object keys included."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            for key, child in item.items():
                yield str(key)
                stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)
