"""One app environment's own page: workloads, the hibernation record, deployments and transitions."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import expect

from app.simulator import SimulatedCluster
from tests.fixtures.servers import ServerProcess
from tests.schema.operation_helpers import deploy
from tests.web.seeding import seed


async def test_the_app_name_leads_to_its_page_and_back(
    page: Any, dashboard_server: ServerProcess, simulator: SimulatedCluster
) -> None:
    await seed(dashboard_server.client, simulator, hibernated=[("web", "prod")])
    await page.goto("/?environment=prod")

    await page.get_by_role("link", name="web", exact=True).click()

    await expect(page).to_have_url(re.compile(r"/apps/web/prod$"))
    await expect(page.get_by_role("heading", name="web on prod", level=1)).to_be_visible()
    workloads = page.get_by_role("table", name="Workloads")
    await expect(workloads.locator("tbody tr")).to_have_count(1)
    await expect(workloads.locator("tbody tr td")).to_have_text(["Deployment", "web", "0", "0", "2", "Yes", "web:1.0"])
    record = page.get_by_role("table", name="Hibernation record")
    await expect(record.locator("tbody tr td").nth(2)).to_have_text("2")
    await expect(page.get_by_text(re.compile("Hibernated since .* by alice"))).to_be_visible()
    transitions = page.get_by_role("table", name="Transitions")
    await expect(transitions.locator("tbody tr").first).to_contain_text("alice")
    await expect(page.get_by_role("group", name="Actions").get_by_role("button")).to_have_text(["Deploy", "Wake"])

    await page.go_back()
    await expect(page).to_have_url(re.compile(r"/\?environment=prod$"))
    await expect(page.get_by_role("table", name="App environments").locator("tbody tr")).to_have_count(2)


async def test_deployments_and_transitions_are_paged(
    page: Any, dashboard_server: ServerProcess, simulator: SimulatedCluster
) -> None:
    await seed(dashboard_server.client, simulator, hibernated=[])
    for release in range(23):
        await deploy(dashboard_server.client, f"jobs:{release}", app="jobs", environment="dev")

    await page.goto("/apps/jobs/dev")

    deployments = page.get_by_role("table", name="Deployments")
    await expect(deployments.locator("tbody tr")).to_have_count(20)
    await expect(deployments.locator("tbody tr").first).to_contain_text("jobs:22")
    await page.get_by_role("button", name="More deployments").click()
    await expect(deployments.locator("tbody tr")).to_have_count(23)
    await expect(deployments.locator("tbody tr").last).to_contain_text("jobs:0")
    await expect(page.get_by_role("button", name="More deployments")).to_be_hidden()


async def test_an_unknown_app_environment_says_so(page: Any, dashboard_server: ServerProcess) -> None:
    await page.goto("/apps/nothing/nowhere")

    await expect(page.get_by_role("alert")).to_contain_text("There is no app nothing on environment nowhere")


async def test_the_overview_reached_from_an_app_page_has_its_filter_choices(
    page: Any, dashboard_server: ServerProcess, simulator: SimulatedCluster
) -> None:
    await seed(dashboard_server.client, simulator, hibernated=[])
    await page.goto("/apps/web/prod")
    await expect(page.get_by_role("heading", name="web on prod", level=1)).to_be_visible()

    await page.get_by_role("link", name="← All app environments").click()

    await expect(page.get_by_role("table", name="App environments").locator("tbody tr")).to_have_count(5)
    await expect(page.get_by_label("Environment", exact=True).locator("option")).to_have_text(
        ["All environments", "dev", "prod"]
    )
    await expect(page.get_by_label("Team", exact=True).locator("option")).to_have_text(
        ["All teams", "data", "payments", "storefront"]
    )
