"""Nothing leaves the origin: the page and the playground work on a machine without internet."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from app.simulator import SimulatedCluster
from tests.fixtures.servers import ServerProcess
from tests.web.browser import PageWatch
from tests.web.seeding import seed


async def test_the_page_requests_nothing_from_another_origin(
    page: Any, watch: PageWatch, dashboard_server: ServerProcess, simulator: SimulatedCluster
) -> None:
    await seed(dashboard_server.client, simulator, hibernated=[("web", "prod")])

    await page.goto("/")
    await expect(page.get_by_role("table", name="App environments").locator("tbody tr")).to_have_count(5)
    await page.get_by_role("link", name="api", exact=True).first.click()
    await expect(page.get_by_role("table", name="Workloads").locator("tbody tr")).to_have_count(1)

    assert watch.requests, "the page was watched"
    assert watch.foreign() == []  # checked again, with script errors and CSP reports, by the fixture


async def test_the_playground_works_offline_with_its_docs(page: Any, watch: PageWatch) -> None:
    await page.goto("/graphql")

    await expect(page).to_have_title("Hibernia · GraphQL playground")
    await expect(page.get_by_text("Hibernia", exact=True)).to_be_visible()
    await expect(page.locator(".graphiql-query-editor")).to_contain_text("query HibernatedApps")
    await page.get_by_role("button", name="Execute query").click()
    await expect(page.locator(".graphiql-response")).to_contain_text('"statusCounts"')

    await page.get_by_role("button", name="Show Documentation Explorer").click()
    await page.get_by_role("link", name="Query", exact=True).click()
    await expect(
        page.get_by_text("How this server behaves (deploy-time hibernation check, default policy).")
    ).to_be_visible()

    assert watch.foreign() == []
