"""Pushed status changes over WebSocket (graphql-transport-ws): the page subscribes to
`statusChanges` and polls no more. (Skipped only if the schema ever loses the subscription; the
polling fallback is covered by tests/web/test_overview.py.)
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from playwright.async_api import expect

from app.simulator import SimulatedCluster
from tests.fixtures.servers import ServerProcess
from tests.web.browser import PageWatch
from tests.web.seeding import NAMESPACES, seed
from tests.web.test_documents import PENDING_SUBSCRIPTION

pytestmark = pytest.mark.skipif(
    PENDING_SUBSCRIPTION, reason="the schema has no Subscription.statusChanges yet; the page polls instead"
)


@pytest.mark.own_server
async def test_a_change_is_pushed_to_the_page_without_polling(
    page: Any, watch: PageWatch, dashboard_server: ServerProcess, simulator: SimulatedCluster
) -> None:
    await seed(dashboard_server.client, simulator, hibernated=[])
    sockets: list[Any] = []
    page.on("websocket", lambda socket: sockets.append(socket))
    await page.goto("/")
    await expect(page.get_by_text("changes are pushed as they happen")).to_be_visible()
    await expect(page.get_by_role("checkbox", name="Hibernating 0")).to_be_visible()
    posts_before = watch.graphql_posts()
    await asyncio.sleep(6)  # longer than a poll interval
    assert watch.graphql_posts() == posts_before, "no polling while changes are pushed"

    simulator.patch(
        "Deployment",
        NAMESPACES["prod"],
        "api",
        {"spec": {"replicas": 0}, "metadata": {"annotations": {"hibernator.devtron.ai/replicas": "2"}}},
    )

    row = page.get_by_role("table", name="App environments").locator('tr[data-app="api"][data-environment="prod"]')
    await expect(row.locator(".badge")).to_have_attribute("data-status", "HIBERNATING", timeout=5_000)
    await expect(page.get_by_role("checkbox", name="Hibernating 1")).to_be_visible()
    assert len(sockets) == 1 and sockets[0].url.endswith("/graphql")
