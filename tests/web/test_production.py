"""In production the page asks for a token, keeps it for the tab's session, and offers what it allows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from app.db.engine import create_session_factory
from app.services.tokens import TokenService
from app.simulator import SimulatedCluster
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.servers import ServerProcess, serving
from tests.web.browser import PageWatch, open_page
from tests.web.seeding import seed


@pytest.fixture
async def production_server(database: DatabaseUnderTest, tmp_path: Path) -> AsyncIterator[ServerProcess]:
    async with serving(database.url, tmp_path, HIBERNIA_ENV="production") as server:
        yield server


async def _token(database: DatabaseUnderTest, name: str, role: str, environments: list[str]) -> str:
    async with create_session_factory(database.engine)() as session, session.begin():
        return await TokenService(session).create(name, role, environments)


async def test_the_page_asks_for_a_token_and_keeps_it_for_the_session(
    browser: Any,
    dashboard_server: ServerProcess,
    production_server: ServerProcess,
    simulator: SimulatedCluster,
    database: DatabaseUnderTest,
) -> None:
    await seed(dashboard_server.client, simulator, hibernated=[])
    secret = await _token(database, "ci-bot", "deployer", ["dev"])
    watch = PageWatch(origin=production_server.url)
    page = await open_page(browser, production_server.url, watch)
    try:
        await page.goto("/")

        dialog = page.get_by_role("dialog", name="Sign in with an API token")
        await expect(dialog).to_contain_text("Send an API token")
        await dialog.get_by_label("API token").fill("not-a-token")
        await dialog.get_by_role("button", name="Sign in").click()
        await expect(dialog).to_contain_text("The bearer token is not valid")
        await dialog.get_by_label("API token").fill(secret)
        await dialog.get_by_role("button", name="Sign in").click()

        table = page.get_by_role("table", name="App environments")
        # A deployer limited to dev sees dev only, and may act there; no playground in production.
        await expect(table.locator('tbody tr[data-environment="dev"]')).to_have_count(3)
        await expect(table.locator("tbody tr")).to_have_count(3)
        await expect(page.get_by_text("ci-bot · deployer · dev")).to_be_visible()
        await expect(table.get_by_role("button", name="Hibernate")).to_have_count(3)
        await expect(page.get_by_role("link", name="GraphQL playground")).to_be_hidden()

        await page.reload()
        await expect(table.locator("tbody tr")).to_have_count(3)
        await expect(dialog).to_be_hidden()

        await page.get_by_role("button", name="Sign out").click()
        await expect(page.get_by_role("dialog", name="Sign in with an API token")).to_be_visible()
    finally:
        await page.context.close()
    assert watch.foreign() == []
    # The browser reports each 401 as a failed resource; nothing else may go wrong.
    assert [p for p in watch.problems if "status of 401" not in p] == []


async def test_a_viewer_token_is_offered_no_actions(
    browser: Any,
    dashboard_server: ServerProcess,
    production_server: ServerProcess,
    simulator: SimulatedCluster,
    database: DatabaseUnderTest,
) -> None:
    await seed(dashboard_server.client, simulator, hibernated=[("web", "prod")])
    secret = await _token(database, "reader", "viewer", [])
    watch = PageWatch(origin=production_server.url)
    page = await open_page(browser, production_server.url, watch)
    try:
        await page.goto("/")
        dialog = page.get_by_role("dialog", name="Sign in with an API token")
        await dialog.get_by_label("API token").fill(secret)
        await dialog.get_by_role("button", name="Sign in").click()

        table = page.get_by_role("table", name="App environments")
        await expect(table.locator("tbody tr")).to_have_count(5)
        await expect(table.get_by_role("button")).to_have_count(0)
        await expect(table.get_by_role("checkbox")).to_have_count(1)  # the disabled select-all
        await expect(page.get_by_role("checkbox", name="Select every row on this page")).to_be_disabled()
    finally:
        await page.context.close()
