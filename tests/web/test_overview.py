"""The overview in the browser: rows, exact counts, filters kept in the URL, actions, live updates."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from app.simulator import SimulatedCluster
from tests.fixtures.servers import ServerProcess
from tests.schema.operation_helpers import annotation, replicas
from tests.web.browser import PageWatch
from tests.web.seeding import NAMESPACES, seed

LIVE_TIMEOUT_MS = 20_000  # the refresher (1 s) and a poll (5 s), with room for a loaded machine


def _table(page: Any) -> Any:
    return page.get_by_role("table", name="App environments")


def _row(page: Any, app: str, environment: str) -> Any:
    return _table(page).locator(f'tr[data-app="{app}"][data-environment="{environment}"]')


async def test_rows_counts_and_filters_that_live_in_the_url(
    page: Any, dashboard_server: ServerProcess, simulator: SimulatedCluster
) -> None:
    await seed(dashboard_server.client, simulator, hibernated=[("web", "prod"), ("api", "dev")])

    await page.goto("/")

    table = _table(page)
    await expect(table.locator("tbody tr")).to_have_count(5)
    await expect(_row(page, "web", "prod").locator(".badge")).to_have_attribute("data-status", "HIBERNATING")
    await expect(_row(page, "web", "prod").locator(".badge")).to_have_text(re.compile("Hibernating"))
    await expect(_row(page, "web", "dev").locator(".badge")).to_have_attribute("data-status", "HEALTHY")
    hibernating = page.get_by_role("checkbox", name="Hibernating 2")
    await expect(hibernating).to_be_visible()
    await expect(page.get_by_role("checkbox", name="Healthy 3")).to_be_visible()

    await hibernating.check()
    await expect(table.locator("tbody tr")).to_have_count(2)
    await expect(page).to_have_url(re.compile(r"\?status=HIBERNATING$"))
    await expect(page.get_by_role("checkbox", name="Healthy 3")).to_be_visible()  # counts stay a facet

    await page.get_by_label("Environment", exact=True).select_option("dev")
    await expect(table.locator("tbody tr")).to_have_count(1)
    await expect(_row(page, "api", "dev")).to_be_visible()
    await expect(page.get_by_role("checkbox", name="Hibernating 1")).to_be_visible()

    await page.reload()
    await expect(table.locator("tbody tr")).to_have_count(1)
    await expect(page.get_by_role("checkbox", name="Hibernating 1")).to_be_checked()
    await expect(page.get_by_label("Environment", exact=True)).to_have_value("dev")

    await page.go_back()
    await expect(table.locator("tbody tr")).to_have_count(2)
    await page.go_back()
    await expect(table.locator("tbody tr")).to_have_count(5)

    await page.get_by_label("Name or team").fill("storefront")
    await expect(table.locator("tbody tr")).to_have_count(2)
    await page.get_by_label("Team", exact=True).select_option("payments")
    await expect(table.locator("tbody tr")).to_have_count(0)
    await expect(page.get_by_text("No app environment matches these filters.")).to_be_visible()


async def test_rows_offer_the_actions_that_make_sense(
    page: Any, dashboard_server: ServerProcess, simulator: SimulatedCluster
) -> None:
    await seed(dashboard_server.client, simulator, hibernated=[("web", "prod")])

    await page.goto("/")

    running, hibernated = _row(page, "web", "dev"), _row(page, "web", "prod")
    await expect(running.get_by_role("button")).to_have_text(["Deploy", "Hibernate"])
    await expect(hibernated.get_by_role("button")).to_have_text(["Deploy", "Wake"])
    await expect(hibernated.get_by_role("button", name="Wake")).to_have_accessible_description("web on prod")
    await expect(page.get_by_role("checkbox", name="Select web on prod")).to_be_visible()


@pytest.mark.own_server
async def test_deploy_into_a_hibernated_app_asks_first_and_wake_and_deploy_ends_healthy(
    page: Any, dashboard_server: ServerProcess, simulator: SimulatedCluster
) -> None:
    await seed(dashboard_server.client, simulator, hibernated=[("web", "prod")])
    await page.goto("/")

    await _row(page, "web", "prod").get_by_role("button", name="Deploy").click()

    dialog = page.get_by_role("dialog", name="Deploy to web on prod")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_role("alert")).to_contain_text("web on prod is hibernating since")
    await expect(dialog.get_by_role("alert")).to_contain_text("by alice")
    await expect(dialog.get_by_role("button", name="Deploy", exact=True)).to_be_hidden()
    await expect(dialog.get_by_role("button", name="Cancel")).to_be_visible()
    await dialog.get_by_label("Image").fill("web:2.0")
    assert replicas(simulator, NAMESPACES["prod"], "web") == 0, "nothing is sent before the choice"

    await dialog.get_by_role("button", name="Wake and deploy").click()

    await expect(dialog).to_be_hidden()
    results = page.get_by_role("region", name="Results")
    await expect(results).to_contain_text("web on prod — Done")
    badge = _row(page, "web", "prod").locator(".badge")
    await expect(badge).to_have_attribute("data-status", "HEALTHY", timeout=LIVE_TIMEOUT_MS)
    assert replicas(simulator, NAMESPACES["prod"], "web") == 2
    assert annotation(simulator, NAMESPACES["prod"], "web") is None
    image = simulator.get("Deployment", NAMESPACES["prod"], "web")["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "web:2.0"


async def test_a_refused_deploy_shows_the_servers_message(
    page: Any, dashboard_server: ServerProcess, simulator: SimulatedCluster
) -> None:
    await seed(dashboard_server.client, simulator, hibernated=[])
    await page.goto("/")
    await _row(page, "web", "dev").get_by_role("button", name="Deploy").click()
    dialog = page.get_by_role("dialog", name="Deploy to web on dev")
    await dialog.get_by_label("Image").fill("web:2.0")
    # Hibernated behind the page's back, after it last looked.
    simulator.patch(
        "Deployment",
        NAMESPACES["dev"],
        "web",
        {"spec": {"replicas": 0}, "metadata": {"annotations": {"hibernator.devtron.ai/replicas": "2"}}},
    )

    await dialog.get_by_role("button", name="Deploy", exact=True).click()

    error = dialog.locator(".dialog-error")
    await expect(error).to_contain_text("hibernated")
    await expect(error).not_to_contain_text("failed")
    await expect(dialog.get_by_role("button", name="Wake and deploy")).to_be_visible()
    assert replicas(simulator, NAMESPACES["dev"], "web") == 0
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_be_hidden()


async def test_bulk_deploy_can_skip_hibernated_apps(
    page: Any, dashboard_server: ServerProcess, simulator: SimulatedCluster
) -> None:
    await seed(dashboard_server.client, simulator, hibernated=[("api", "dev")])
    await page.goto("/")

    for app in ("api", "jobs", "web"):
        await page.get_by_role("checkbox", name=f"Select {app} on dev").check()
    await expect(page.get_by_text("3 rows selected")).to_be_visible()
    await page.get_by_role("button", name="Deploy selected").click()

    dialog = page.get_by_role("dialog", name="Deploy to 3 apps on dev")
    await expect(dialog.get_by_role("alert")).to_contain_text("1 of 3 selected apps is hibernated")
    await expect(dialog.get_by_role("alert")).to_contain_text("api on dev is hibernating since")
    await dialog.get_by_label("Image").fill("release:7")
    await dialog.get_by_role("button", name="Skip hibernated apps").click()

    results = page.get_by_role("region", name="Results")
    await expect(results.locator("li")).to_have_count(3)
    await expect(results.locator('li[data-app="api"]')).to_have_attribute("data-outcome", "SKIPPED")
    await expect(results.locator('li[data-app="jobs"]')).to_have_attribute("data-outcome", "APPLIED")
    await expect(results.locator('li[data-app="web"]')).to_have_attribute("data-outcome", "APPLIED")
    assert replicas(simulator, NAMESPACES["dev"], "api") == 0, "the hibernated app stays asleep"
    image = simulator.get("Deployment", NAMESPACES["dev"], "web")["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "release:7"


@pytest.mark.own_server
async def test_hibernate_and_wake_from_a_row(
    page: Any, dashboard_server: ServerProcess, simulator: SimulatedCluster
) -> None:
    await seed(dashboard_server.client, simulator, hibernated=[])
    await page.goto("/")
    row = _row(page, "jobs", "dev")

    await row.get_by_role("button", name="Hibernate").click()

    await expect(row.locator(".badge")).to_have_attribute("data-status", "HIBERNATING")
    await expect(page.get_by_role("checkbox", name="Hibernating 1")).to_be_visible()
    assert replicas(simulator, NAMESPACES["dev"], "jobs") == 0
    assert annotation(simulator, NAMESPACES["dev"], "jobs") == "2"

    await row.get_by_role("button", name="Wake").click()

    await expect(row.locator(".badge")).to_have_attribute("data-status", re.compile("WAKING|HEALTHY"))
    await expect(row.locator(".badge")).to_have_attribute("data-status", "HEALTHY", timeout=LIVE_TIMEOUT_MS)
    assert replicas(simulator, NAMESPACES["dev"], "jobs") == 2


async def _hibernate_behind_hibernias_back(simulator: SimulatedCluster) -> None:
    # Hibernated with kubectl, the way Devtron or winter-soldier would: Hibernia is not asked.
    simulator.patch(
        "Deployment",
        NAMESPACES["prod"],
        "api",
        {"spec": {"replicas": 0}, "metadata": {"annotations": {"hibernator.devtron.ai/replicas": "2"}}},
    )


@pytest.mark.own_server
async def test_where_websockets_are_blocked_the_page_polls(
    page: Any, watch: PageWatch, dashboard_server: ServerProcess, simulator: SimulatedCluster
) -> None:
    """The fallback the page keeps for networks that block WebSockets (tests/web/test_live_push.py
    covers the pushed path)."""
    await seed(dashboard_server.client, simulator, hibernated=[])
    # A proxy that accepts the upgrade and hangs up at once, every time.
    await page.route_web_socket(re.compile(r".*/graphql$"), lambda socket: socket.close())
    await page.goto("/")
    await expect(page.get_by_role("checkbox", name="Hibernating 0")).to_be_visible()
    await expect(page.get_by_text("refreshed every few seconds")).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    posts = watch.graphql_posts()

    await _hibernate_behind_hibernias_back(simulator)

    badge = _row(page, "api", "prod").locator(".badge")
    await expect(badge).to_have_attribute("data-status", "HIBERNATING", timeout=LIVE_TIMEOUT_MS)
    await expect(page.get_by_role("checkbox", name="Hibernating 1")).to_be_visible()
    assert watch.graphql_posts() > posts, "seen by polling"


@pytest.mark.own_server
async def test_bulk_hibernate_and_wake_ask_first(
    page: Any, dashboard_server: ServerProcess, simulator: SimulatedCluster
) -> None:
    await seed(dashboard_server.client, simulator, hibernated=[])
    await page.goto("/")
    for app in ("api", "web"):
        await page.get_by_role("checkbox", name=f"Select {app} on prod").check()

    await page.get_by_role("button", name="Hibernate selected").click()
    question = page.get_by_role("dialog", name="Hibernate 2 apps?")
    await expect(question).to_contain_text("api on prod")
    await expect(question.get_by_role("button", name="Cancel")).to_be_focused()
    await question.get_by_role("button", name="Cancel").click()
    await expect(question).to_be_hidden()
    assert replicas(simulator, NAMESPACES["prod"], "api") == 2, "nothing is sent before the answer"

    await page.get_by_role("button", name="Hibernate selected").click()
    await question.get_by_role("button", name="Hibernate 2 apps").click()

    results = page.get_by_role("region", name="Results")
    await expect(results.locator('li[data-outcome="APPLIED"]')).to_have_count(2)
    for app in ("api", "web"):
        await expect(_row(page, app, "prod").locator(".badge")).to_have_attribute("data-status", "HIBERNATING")
        assert replicas(simulator, NAMESPACES["prod"], app) == 0

    for app in ("api", "web"):
        await page.get_by_role("checkbox", name=f"Select {app} on prod").check()
    await page.get_by_role("button", name="Wake selected").click()
    await page.get_by_role("dialog", name="Wake 2 apps?").get_by_role("button", name="Wake 2 apps").click()

    await expect(results.locator('li[data-outcome="APPLIED"]')).to_have_count(2)
    for app in ("api", "web"):
        badge = _row(page, app, "prod").locator(".badge")
        await expect(badge).to_have_attribute("data-status", "HEALTHY", timeout=LIVE_TIMEOUT_MS)
        assert replicas(simulator, NAMESPACES["prod"], app) == 2


async def test_a_row_is_busy_while_its_operation_runs(
    page: Any, dashboard_server: ServerProcess, simulator: SimulatedCluster
) -> None:
    await seed(dashboard_server.client, simulator, hibernated=[])
    await page.goto("/")
    row = _row(page, "jobs", "dev")
    simulator.set_faults(latency_seconds=1.0, only_verbs=["patch"])

    await row.get_by_role("button", name="Hibernate").click()

    await expect(row).to_have_attribute("aria-busy", "true")
    await expect(row.get_by_role("button", name="Deploy")).to_have_attribute("aria-disabled", "true")
    await row.get_by_role("button", name="Hibernate").click(force=True)  # ignored while busy
    await expect(row).to_have_attribute("aria-busy", "false", timeout=LIVE_TIMEOUT_MS)
    await expect(row.locator(".badge")).to_have_attribute("data-status", "HIBERNATING")
    assert simulator.count("patch") == 1, "one hibernate, not two"


async def test_sorting_by_the_latest_change_is_kept_in_the_url(
    page: Any, dashboard_server: ServerProcess, simulator: SimulatedCluster
) -> None:
    await seed(dashboard_server.client, simulator, hibernated=[("jobs", "dev")])
    await page.goto("/")
    rows = _table(page).locator("tbody tr")
    await expect(rows.first).to_have_attribute("data-app", "api")

    await page.get_by_label("Sort by").select_option(label="Status changed, newest first")

    await expect(rows.first).to_have_attribute("data-app", "jobs")  # hibernated last
    await expect(page).to_have_url(re.compile(r"\?sort=changed$"))
    await page.reload()
    await expect(rows.first).to_have_attribute("data-app", "jobs")
    await expect(page.get_by_label("Sort by")).to_have_value("changed")
