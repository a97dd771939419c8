"""Section 4: requests per second for the recorded-status list page, 1 and 2 uvicorn workers.

The servers are real processes (`uvicorn --factory app.main:create_app --workers N`) on the live
page's database, configured only through the environment like a deployment; the load comes from
`bench.loadgen` in another process. On a 2-core machine the load generator, PostgreSQL and the
workers share the cores, so 2 workers cannot double the rate; the number to watch is the ratio.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx

from bench.databases import BenchDatabase
from bench.graphql_client import BenchFailure
from bench.hosting import bench_settings, hibernia_in_process
from bench.processes import uvicorn_server
from bench.profiling import Profiles
from bench.report import Row, SectionResult
from bench.sizes import Sizes
from bench.timing import ratio

ROOT = Path(__file__).resolve().parents[1]

PAGE = """
query RecordedStatusPage {
  apps(first: 100) {
    edges { node { name team environments { environment { name namespace } status statusReason statusSince } } }
    pageInfo { hasNextPage endCursor }
  }
}"""

SECTION = "4 throughput"


async def _check_page(url: str) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        answer = (await http.post(f"{url}/graphql", json={"query": PAGE})).json()
    if answer.get("errors") or not answer["data"]["apps"]["edges"]:
        raise BenchFailure(f"the server answered the list page wrongly: {str(answer)[:500]}")


async def _one(database: BenchDatabase, workers: int, sizes: Sizes, work_dir: Path) -> dict[str, Any]:
    log = work_dir / f"server-{workers}.log"
    async with uvicorn_server(bench_settings(database.url), log, workers=workers) as served:
        await _check_page(served.url)
        return await run_load(f"{served.url}/graphql", PAGE, sizes, concurrency=sizes.throughput_concurrency)


async def run_load(
    url: str,
    query: str,
    sizes: Sizes,
    *,
    concurrency: int,
    interval: float = 0.0,
    seconds: float | None = None,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`bench.loadgen` in its own process against `url`; its JSON result. Fails on any error answer."""
    loadgen = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.loadgen", url, json.dumps({"query": query, "variables": variables or {}}),
        "--seconds", str(seconds if seconds is not None else sizes.throughput_seconds),
        "--warmup", str(sizes.throughput_warmup_seconds),
        "--concurrency", str(concurrency),
        "--interval", str(interval),
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await loadgen.communicate()
    if loadgen.returncode != 0:
        raise BenchFailure(f"the load generator failed ({loadgen.returncode})")
    result: dict[str, Any] = json.loads(out)
    if result["errors"] or not result["requests"]:
        raise BenchFailure(f"the server at {url} answered with errors under load: {result}")
    return result


async def _profile_in_process(database: BenchDatabase, profiles: Profiles, requests: int = 30) -> None:
    """The same page in process under the profiler: where a worker's time goes."""
    async with hibernia_in_process(database) as hibernia:
        await hibernia.client.query(PAGE)
        async with profiles.profile("list-page"):
            for _ in range(requests):
                await hibernia.client.query(PAGE)


async def measure(database: BenchDatabase, sizes: Sizes, work_dir: Path, profiles: Profiles) -> SectionResult:
    runs = {workers: await _one(database, workers, sizes, work_dir) for workers in sizes.throughput_workers}
    if profiles.enabled:
        await _profile_in_process(database, profiles)
    base = runs[sizes.throughput_workers[0]]["requests_per_second"]
    result = SectionResult("throughput", "Throughput")
    result.rows = []
    for workers, run in runs.items():
        rps = run["requests_per_second"]
        result.rows.append(
            Row(
                SECTION,
                f"recorded-status list page (100 apps), {workers} worker{'s' if workers > 1 else ''}",
                f"{rps:.0f} req/s",
                f"p50 {run['p50_ms']:.1f} ms at {run['concurrency']} concurrent, {run['seconds']:g} s",
                "" if workers == sizes.throughput_workers[0] else f"{ratio(rps, base):.2f}x 1 worker",
            )
        )
    result.data = {"runs": {str(workers): run for workers, run in runs.items()}}
    return result
