"""The overview with the keyboard only: filter, act on a row, open and leave the deploy dialog."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from app.simulator import SimulatedCluster
from tests.fixtures.servers import ServerProcess
from tests.schema.operation_helpers import hibernate, replicas
from tests.web.seeding import NAMESPACES, seed


async def _tab_to(page: Any, description: str, matches: str, limit: int = 60) -> None:
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate(matches):
            return
    raise AssertionError(f"Tab never reached {description}")


async def test_filter_and_act_with_the_keyboard_only(
    page: Any, dashboard_server: ServerProcess, simulator: SimulatedCluster
) -> None:
    await seed(dashboard_server.client, simulator, hibernated=[])
    await page.goto("/")
    table = page.get_by_role("table", name="App environments")
    await expect(table.locator("tbody tr")).to_have_count(5)

    await _tab_to(page, "the name filter", "document.activeElement.id === 'filter-search'")
    await page.keyboard.type("jobs")
    await expect(table.locator("tbody tr")).to_have_count(1)

    await _tab_to(page, "the row's Hibernate button", "document.activeElement.textContent === 'Hibernate'")
    await page.keyboard.press("Enter")
    row = table.locator('tr[data-app="jobs"]')
    await expect(row.locator(".badge")).to_have_attribute("data-status", "HIBERNATING")
    await expect(row.get_by_role("button")).to_have_text(["Deploy", "Wake"])
    # The row was redrawn; the focus stays in it, on the control that undoes what was done.
    assert await page.evaluate("document.activeElement.textContent") == "Wake"

    await page.keyboard.press("Shift+Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Deploy"
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Deploy to jobs on dev")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_label("Image")).to_be_focused()
    await expect(dialog.get_by_role("alert")).to_contain_text("jobs on dev is hibernating since")
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    assert await page.evaluate("document.activeElement.textContent") == "Deploy"


async def test_enter_in_the_image_field_never_wakes_a_hibernated_app(
    page: Any, dashboard_server: ServerProcess, simulator: SimulatedCluster
) -> None:
    await seed(dashboard_server.client, simulator, hibernated=[("web", "prod")])
    await page.goto("/")
    table = page.get_by_role("table", name="App environments")

    await table.locator('tr[data-app="web"][data-environment="prod"]').get_by_role("button", name="Deploy").click()
    dialog = page.get_by_role("dialog", name="Deploy to web on prod")
    await dialog.get_by_label("Image").fill("web:9")
    await page.keyboard.press("Enter")
    await page.wait_for_timeout(500)

    await expect(dialog).to_be_visible()
    assert replicas(simulator, NAMESPACES["prod"], "web") == 0, "a wake is only ever chosen with its button"
    await page.keyboard.press("Escape")

    await table.locator('tr[data-app="web"][data-environment="dev"]').get_by_role("button", name="Deploy").click()
    dialog = page.get_by_role("dialog", name="Deploy to web on dev")
    await dialog.get_by_label("Image").fill("web:9")
    await page.keyboard.press("Enter")

    await expect(dialog).to_be_hidden()
    await expect(page.get_by_role("region", name="Results")).to_contain_text("web on dev — Done")


@pytest.mark.own_server  # it waits for a push
async def test_leaving_the_dialog_returns_the_focus_to_a_row_redrawn_meanwhile(
    page: Any, dashboard_server: ServerProcess, simulator: SimulatedCluster
) -> None:
    await seed(dashboard_server.client, simulator, hibernated=[])
    await page.goto("/")
    table = page.get_by_role("table", name="App environments")
    row = table.locator('tr[data-app="jobs"][data-environment="dev"]')
    await row.get_by_role("button", name="Deploy").focus()
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Deploy to jobs on dev")
    await expect(dialog).to_be_visible()

    # Someone else hibernates the app: the pushed change redraws the row behind the open dialog.
    payload = await hibernate(dashboard_server.client, "jobs", "dev")
    assert payload["outcome"] == "APPLIED", payload
    await expect(row.locator(".badge")).to_have_attribute("data-status", "HIBERNATING")

    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(row.get_by_role("button", name="Deploy")).to_be_focused()
