"""Browser tests: Playwright driving Debian's Chromium against real `hibernia serve` processes.

They are skipped, saying how to enable them, where Chromium (or Playwright) is missing; CI sets
HIBERNIA_REQUIRE_BROWSER=1 so a run where they did not run fails (see tests/conftest.py).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BACKENDS, _skip_without_postgres
from tests.fixtures.databases import DatabaseUnderTest, fresh_database
from tests.fixtures.servers import ServerProcess, serving
from tests.web.browser import CHROMIUM, CHROMIUM_FLAGS, PageWatch, missing_browser, open_page


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    missing = missing_browser()
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


@pytest.fixture(scope="session", params=BACKENDS)
async def database_session(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[DatabaseUnderTest]:
    """The browser tests' own database per backend (overriding the suite's): the server processes
    they start never share an SQLite file, and its write lock, with the tests that run in process."""
    _skip_without_postgres(request.param)
    async with fresh_database(request.param, tmp_path_factory.mktemp("web-db")) as database:
        yield database


@pytest.fixture(scope="session")
async def shared_server(
    database_session: DatabaseUnderTest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServerProcess]:
    """One development server per backend for the session; each test brings its own data. Its
    refresher and its watches are off: it records only what the tests ask of it, and never wins the
    observer election from an `own_server` test's server (which then would not push what it saw)."""
    async with serving(
        database_session.url, tmp_path_factory.mktemp("server"), HIBERNIA_WATCH_CLUSTERS="false"
    ) as server:
        yield server


@pytest.fixture
async def dashboard_server(
    request: pytest.FixtureRequest, shared_server: ServerProcess, database: DatabaseUnderTest, tmp_path: Path
) -> AsyncIterator[ServerProcess]:
    """The shared server, or, for a test marked `own_server`, a server of its own with a 1 s
    refresher: a test that waits for changes the cluster makes after the page acted (a wake that
    completes) or behind Hibernia's back. Its own, because tests empty the database between them
    and SQLite then hands out transition ids from 1 again, which a running server's feed already
    delivered (it remembers ids so as to push each once), and because on SQLite a server pushes only
    the transitions it recorded itself, so no other server may be observing the same database."""
    if request.node.get_closest_marker("own_server") is None:
        yield shared_server
        return
    async with serving(database.url, tmp_path, HIBERNIA_STATUS_REFRESH_SECONDS="1") as server:
        yield server


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
