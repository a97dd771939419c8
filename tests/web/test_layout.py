"""Paging through the overview, a phone-width screen, and a server whose hibernation check is off."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from app.simulator import SimulatedCluster
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.servers import ServerProcess, serving
from tests.schema.live_helpers import add_app, add_environment, register_simulator
from tests.web.browser import PageWatch, open_page
from tests.web.seeding import seed


async def test_pages_of_a_hundred_rows(page: Any, dashboard_server: ServerProcess, simulator: SimulatedCluster) -> None:
    graphql = dashboard_server.client
    await register_simulator(graphql, simulator)
    for environment in ("dev", "staging", "prod"):
        await add_environment(graphql, environment, f"ns-{environment}")
    for number in range(40):  # 120 app environments
        await add_app(graphql, f"app-{number:02d}", ["dev", "staging", "prod"])
    table = page.get_by_role("table", name="App environments")

    await page.goto("/")
    await expect(table.locator("tbody tr")).to_have_count(100)
    await expect(page.get_by_text("Showing 100 of 120 app environments")).to_be_visible()
    await expect(page.get_by_role("button", name="First page")).to_be_hidden()

    await page.get_by_role("button", name="Next page").click()
    await expect(table.locator("tbody tr")).to_have_count(20)
    await expect(page).to_have_url(re.compile(r"\?after="))
    await expect(page.get_by_role("button", name="Next page")).to_be_hidden()

    await page.go_back()
    await expect(table.locator("tbody tr")).to_have_count(100)
    await page.go_forward()
    await expect(table.locator("tbody tr")).to_have_count(20)
    await page.get_by_role("button", name="First page").click()
    await expect(table.locator("tbody tr")).to_have_count(100)


async def test_a_phone_width_screen_needs_no_sideways_scrolling(
    browser: Any, dashboard_server: ServerProcess, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await seed(dashboard_server.client, simulator, hibernated=[("web", "prod")])
    watch = PageWatch(origin=dashboard_server.url)
    phone = await open_page(browser, dashboard_server.url, watch, viewport={"width": 390, "height": 844})
    try:
        await phone.goto("/")
        row = phone.get_by_role("table", name="App environments").locator('tr[data-app="web"][data-environment="prod"]')
        await expect(row.get_by_role("button", name="Wake")).to_be_visible()

        assert await phone.evaluate("document.documentElement.scrollWidth") <= 390
        await row.get_by_role("button", name="Deploy").click()
        dialog = phone.get_by_role("dialog", name="Deploy to web on prod")
        await expect(dialog.get_by_role("button", name="Wake and deploy")).to_be_in_viewport()
    finally:
        await phone.context.close()
    assert watch.problems == [] and watch.foreign() == []


@pytest.fixture
async def unchecked_server(database: DatabaseUnderTest, tmp_path: Path) -> AsyncIterator[ServerProcess]:
    async with serving(database.url, tmp_path, FETCH_HELM_PIPELINE_APP_STATUS="false") as server:
        yield server


async def test_without_the_hibernation_check_the_dialog_says_a_deploy_wakes(
    browser: Any, unchecked_server: ServerProcess, simulator: SimulatedCluster
) -> None:
    await seed(unchecked_server.client, simulator, hibernated=[("web", "prod")])
    watch = PageWatch(origin=unchecked_server.url)
    page = await open_page(browser, unchecked_server.url, watch)
    try:
        await page.goto("/")
        row = page.get_by_role("table", name="App environments").locator('tr[data-app="web"][data-environment="prod"]')
        await row.get_by_role("button", name="Deploy").click()

        dialog = page.get_by_role("dialog", name="Deploy to web on prod")
        await expect(dialog.get_by_text("The hibernation check is off on this server")).to_be_visible()
        await expect(dialog.get_by_role("button", name="Deploy", exact=True)).to_be_visible()
        await expect(dialog.get_by_role("button", name="Wake and deploy")).to_be_hidden()
    finally:
        await page.context.close()
    assert watch.problems == [] and watch.foreign() == []
