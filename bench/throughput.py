"""Section 4: requests per second for the recorded-status list page, 1 and 2 uvicorn workers.

The servers are real processes (`uvicorn --factory app.main:create_app --workers N`) on the live
page's database, configured only through the environment like a deployment; the load comes from
`bench.loadgen` in another process. On a 2-core machine the load generator, PostgreSQL and the
workers share the cores, so 2 workers cannot double the rate; the number to watch is the ratio.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.databases import BenchDatabase
from bench.graphql_client import BenchFailure
from bench.hosting import bench_settings, hibernia_in_process
from bench.processes import free_port, log_tail
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


async def _wait_ready(url: str, workers: int, process: asyncio.subprocess.Process, log: Path) -> None:
    """Until every worker has started (uvicorn logs it once per worker) and the page answers."""
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(timeout=2) as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise BenchFailure(f"the server exited with {process.returncode}: {log_tail(log)}")
            if log_tail(log, 100_000).count("Application startup complete") < workers:
                await asyncio.sleep(0.1)
                continue
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{url}/healthz")).status_code == 200:
                    answer = (await http.post(f"{url}/graphql", json={"query": PAGE})).json()
                    if answer.get("errors") or not answer["data"]["apps"]["edges"]:
                        raise BenchFailure(f"the server answered the list page wrongly: {str(answer)[:500]}")
                    return
            await asyncio.sleep(0.1)
    raise BenchFailure(f"the server did not start within 60 s: {log_tail(log)}")


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.terminate()  # uvicorn's supervisor stops its workers on SIGTERM
    try:
        await asyncio.wait_for(process.wait(), 20)
    except TimeoutError:
        # The session this server was started in holds only it and its workers.
        os.killpg(process.pid, signal.SIGKILL)
        await process.wait()


async def _one(database: BenchDatabase, workers: int, sizes: Sizes, work_dir: Path) -> dict[str, Any]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = work_dir / f"server-{workers}.log"
    env = {**os.environ, **bench_settings(database.url), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app", "--host", "127.0.0.1"]
    # Log level info: uvicorn says when each worker has started. Hibernia's own request log is not
    # configured by create_app() (`hibernia serve` does that), so it stays quiet.
    command += ["--port", str(port), "--workers", str(workers), "--log-level", "info", "--no-access-log"]
    with log.open("wb") as output:
        server = await asyncio.create_subprocess_exec(
            *command, cwd=ROOT, env=env, stdout=output, stderr=output, start_new_session=True
        )
    try:
        await _wait_ready(url, workers, server, log)
        loadgen = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.loadgen",
            f"{url}/graphql",
            json.dumps({"query": PAGE}),
            "--seconds",
            str(sizes.throughput_seconds),
            "--warmup",
            str(sizes.throughput_warmup_seconds),
            "--concurrency",
            str(sizes.throughput_concurrency),
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await loadgen.communicate()
        if loadgen.returncode != 0:
            raise BenchFailure(f"the load generator failed ({loadgen.returncode})")
        result: dict[str, Any] = json.loads(out)
        if result["errors"] or not result["requests"]:
            raise BenchFailure(f"the {workers}-worker server answered with errors under load: {result}")
        return result
    finally:
        await _stop(server)


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
