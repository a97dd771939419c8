"""Section 5: the dashboard in a browser, from navigation to its first 100 rows on screen.

`hibernia serve` runs in its own process on a database of `dashboard_apps` x `dashboard_environments`
app environments (recorded statuses; the overview reads no cluster). Chromium (Debian's, through
Playwright) loads `/` cold, each time in a fresh browser context (empty cache), and an init script
notes `performance.now()` — milliseconds since navigation started — when the table holds 100 rows.
The GraphQL requests the page sent until then are counted (target: 1 for the rows and the counts;
the `statusChanges` subscription goes over a WebSocket beside it).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench import targets
from bench.databases import BenchDatabase
from bench.datasets import seed_filtered_list
from bench.graphql_client import BenchFailure
from bench.hosting import bench_settings
from bench.processes import free_port, log_tail
from bench.report import Row, SectionResult
from bench.sizes import Sizes
from bench.timing import Latency, ms

SECTION = "5 dashboard"
ROOT = Path(__file__).resolve().parents[1]
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
ROWS = 100


def _chromium_missing() -> bool:
    return not Path(CHROMIUM).is_file()


# Runs before the page's own scripts (through the DevTools protocol, so the page's CSP does not apply).
WATCH_ROWS = f"""
new MutationObserver((_, observer) => {{
  if (document.querySelectorAll("table tbody tr").length >= {ROWS}) {{
    window.__firstRowsAt = performance.now();
    observer.disconnect();
  }}
}}).observe(document, {{ childList: true, subtree: true }});
"""


@asynccontextmanager
async def _server(database: BenchDatabase, work_dir: Path) -> AsyncIterator[str]:
    port, log = free_port(), work_dir / "dashboard-serve.log"
    env = {**os.environ, **bench_settings(database.url), "HIBERNIA_LOG_FORMAT": "text"}
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "app.cli", "serve", "--no-migrate", "--port", str(port),
            cwd=ROOT, env=env, stdout=out, stderr=out,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(timeout=2) as http:
            while True:
                try:
                    if (await http.get(f"{url}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.returncode is not None or time.monotonic() > deadline:
                    raise BenchFailure(f"hibernia serve did not start:\n{log_tail(log)}")
                await asyncio.sleep(0.05)
        yield url
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()


async def _load(browser: Any, url: str) -> tuple[float, int]:
    """One cold load: seconds from navigation to 100 rows, and the GraphQL requests sent until then."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        await context.add_init_script(WATCH_ROWS)
        page = await context.new_page()
        posts: list[float] = []
        page.on("request", lambda r: posts.append(time.perf_counter()) if urlsplit(r.url).path == "/graphql" else None)
        # The statusChanges subscription is a WebSocket, not a request: Playwright reports it apart.
        await page.goto(url)
        await page.wait_for_selector(f"table tbody tr:nth-child({ROWS})", timeout=30_000)
        rendered_ms: float = await page.evaluate("window.__firstRowsAt")
        # Requests are counted up to the moment the rows were there (a poll comes only 5 s later).
        return rendered_ms / 1000, len(posts)
    finally:
        await context.close()


async def measure(database: BenchDatabase, sizes: Sizes, work_dir: Path, *, smoke: bool) -> SectionResult:
    section = SectionResult("dashboard", "Dashboard")
    if _chromium_missing():
        section.rows.append(Row(SECTION, "first 100 rows rendered", f"not measured: no Chromium at {CHROMIUM}"))
        return section
    from playwright.async_api import async_playwright

    data = await seed_filtered_list(database, sizes.dashboard_apps, sizes.dashboard_environments, 0.03)
    async with _server(database, work_dir) as url, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            for _ in range(sizes.dashboard_warmup):
                await _load(browser, url)
            loads = [await _load(browser, url) for _ in range(sizes.dashboard_loads)]
        finally:
            await browser.close()
    latency = Latency.of([seconds for seconds, _ in loads])
    requests = max(count for _, count in loads)
    section.data = {
        "app_environments": data.app_environments,
        "first_rows": latency.to_json(),
        "graphql_requests": [count for _, count in loads],
    }
    section.rows += [
        Row(
            SECTION,
            "data",
            f"{data.app_environments:,} app environments ({sizes.dashboard_apps:,} apps x "
            f"{sizes.dashboard_environments} environments)",
            "cold loads of `/` in Chromium, a fresh browser context each",
        ),
        Row(
            SECTION,
            "navigation to the first 100 rows rendered, p50 / p95",
            f"{ms(latency.p50)} / {ms(latency.p95)} (n={latency.n})",
            verdict=targets.at_most(
                targets.DASHBOARD_FIRST_ROWS, "≤ 1 s (p50)", latency.p50, 1.0, deterministic=False, smoke=smoke
            ),
        ),
        Row(
            SECTION,
            "GraphQL requests until the rows and counts are shown",
            str(requests),
            "plus the statusChanges subscription over one WebSocket",
            verdict=targets.at_most(
                targets.DASHBOARD_GRAPHQL_REQUESTS, "1 (rows and counts)", requests, 1, deterministic=True, smoke=smoke
            ),
        ),
    ]
    return section
