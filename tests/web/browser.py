"""What the browser tests share: Chromium's whereabouts and a watched tab."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

CHROMIUM = os.environ.get("HIBERNIA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HOW_TO_ENABLE = (
    "the browser tests need Chromium at {path} and the dev dependencies (playwright): "
    "`apt-get install -y chromium` (or set HIBERNIA_CHROMIUM), then `make test`"
)


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return HOW_TO_ENABLE.format(path=CHROMIUM)
    if not Path(CHROMIUM).is_file():
        return HOW_TO_ENABLE.format(path=CHROMIUM)
    return None


@dataclass
class PageWatch:
    """Everything a tab asked for and complained about, checked after each test."""

    origin: str
    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def foreign(self) -> list[str]:
        own = urlsplit(self.origin)
        return [
            url
            for url in self.requests
            if not url.startswith("data:") and (urlsplit(url).scheme, urlsplit(url).netloc) != (own.scheme, own.netloc)
        ]

    def graphql_posts(self) -> int:
        return sum(1 for url in self.requests if urlsplit(url).path == "/graphql")


async def open_page(browser: Any, origin: str, watch: PageWatch, **context_options: Any) -> Any:
    """A tab in a fresh browser context (no cache, no storage) whose requests and errors `watch` records."""
    context = await browser.new_context(base_url=origin, **context_options)
    page = await context.new_page()
    page.on("request", lambda request: watch.requests.append(request.url))
    page.on("pageerror", lambda error: watch.problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            watch.problems.append(f"console {message.type}: {message.text}") if message.type == "error" else None
        ),
    )
    return page
