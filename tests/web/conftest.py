"""Browser tests: Playwright driving Debian's Chromium against real `hibernia serve` processes.

They are skipped, saying how to enable them, where Chromium (or Playwright) is missing; CI sets
HIBERNIA_REQUIRE_BROWSER=1 so a run where they did not run fails (see tests/conftest.py).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.fixtures.databases import DatabaseUnderTest
from tests.web.servers import ServerProcess, serving

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


def _missing_browser() -> str | None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return HOW_TO_ENABLE.format(path=CHROMIUM)
    if not Path(CHROMIUM).is_file():
        return HOW_TO_ENABLE.format(path=CHROMIUM)
    return None


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    missing = _missing_browser()
    if missing is not None:
        if os.environ.get("HIBERNIA_REQUIRE_BROWSER") == "1":
            pytest.fail(f"HIBERNIA_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture(scope="session")
async def dashboard_server(
    database_session: DatabaseUnderTest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServerProcess]:
    """One development server per backend for the session; each test brings its own data."""
    log = tmp_path_factory.mktemp("server") / "serve.log"
    # A 1 s refresher: changes made in the cluster behind Hibernia's back reach the recorded status.
    async with serving(database_session.url, log, HIBERNIA_STATUS_REFRESH_SECONDS="1") as server:
        yield server


@dataclass
class PageWatch:
    """Everything a page asked for and complained about, checked after each test."""

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


@pytest.fixture
def watch(dashboard_server: ServerProcess) -> PageWatch:
    """What the `page` fixture's tab requested and complained about."""
    return PageWatch(origin=dashboard_server.url)


@pytest.fixture
async def page(
    browser: Any, dashboard_server: ServerProcess, database: DatabaseUnderTest, watch: PageWatch
) -> AsyncIterator[Any]:
    """A fresh browser tab on the development server; fails the test on any script error, any
    Content-Security-Policy violation and any request to another origin."""
    tab = await open_page(browser, dashboard_server.url, watch, viewport={"width": 1280, "height": 800})
    try:
        yield tab
    finally:
        await tab.context.close()
    assert watch.foreign() == [], "the page requested another origin"
    assert watch.problems == [], watch.problems
