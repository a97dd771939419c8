"""Routes of the page: the same HTML shell at every page's URL, the static files, the playground."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).with_name("static")
# Every page of the dashboard is the one shell; its modules route on the path (history API).
PAGE_PATHS = ("/", "/apps/{app}/{environment}")


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
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
