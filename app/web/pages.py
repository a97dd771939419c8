"""Routes of the page: the same HTML shell at every page's URL, the static files, the playground."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC = Path(__file__).with_name("static")
# Every page of the dashboard is the one shell; its modules route on the path (history API).
PAGE_PATHS = ("/", "/apps/{app}/{environment}")


class _RevalidatedStaticFiles(StaticFiles):
    """Files the browser revalidates at each use (a 304 while unchanged): after an upgrade it never
    mixes modules of two releases, as heuristic caching on Last-Modified could."""

    def file_response(
        self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["cache-control"] = "no-cache"
        return response


@cache
def _html(name: str) -> bytes:
    return (STATIC / name).read_bytes()


async def _dashboard(_request: Request) -> Response:
    return HTMLResponse(_html("index.html"), headers={"cache-control": "no-cache"})


def playground_page() -> Response:
    """GraphiQL from this package's files (the GraphQL view serves it to browsers, outside production)."""
    return HTMLResponse(_html("playground.html"), headers={"cache-control": "no-cache"})


def web_routes() -> list[BaseRoute]:
    return [
        *(Route(path, _dashboard, methods=["GET", "HEAD"]) for path in PAGE_PATHS),
        Mount("/static", _RevalidatedStaticFiles(directory=STATIC), name="static"),
    ]
