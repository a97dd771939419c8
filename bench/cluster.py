"""The simulated Kubernetes cluster the bench talks to: in its own process (default) or in process.

In its own process (`hibernia simulate-cluster`), the simulator's CPU time stays out of Hibernia's
latency, as a real API server's would: on the bench's event loop it would be a quarter or more of
the live page's time (see the profiles). `--simulator-in-process` runs it on the bench's loop
instead (one profile then shows both sides). Either way it is seeded with the same manifests and
its request log is what the bench counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

import httpx

from app.simulator import SimulatedCluster
from app.simulator.resources import resource_for_kind
from bench.graphql_client import BenchFailure

ROOT = Path(__file__).resolve().parents[1]
SEED_CONCURRENCY = 16


class BenchCluster(Protocol):
    url: str
    where: str

    async def add(self, manifests: Sequence[Mapping[str, Any]]) -> None:
        """Create these objects (seeding; the requests this takes are not counted)."""
        ...

    async def clear_requests(self) -> None: ...

    async def requests(self) -> list[dict[str, Any]]:
        """The request log since the last clear: {method, path, verb, kind, namespace, ...}."""
        ...

    async def reset(self) -> None:
        """No objects, no faults, an empty log."""
        ...


class InProcessCluster:
    where = "in process, on the bench's event loop (its CPU time counts in Hibernia's latency)"

    def __init__(self, simulator: SimulatedCluster) -> None:
        self.simulator = simulator
        self.url = simulator.url

    async def add(self, manifests: Sequence[Mapping[str, Any]]) -> None:
        for manifest in manifests:
            self.simulator.add(manifest)

    async def clear_requests(self) -> None:
        self.simulator.clear_requests()

    async def requests(self) -> list[dict[str, Any]]:
        return [request.to_json() for request in self.simulator.requests]

    async def reset(self) -> None:
        self.simulator.reset()


class ProcessCluster:
    where = "in its own process (`hibernia simulate-cluster`), like a real API server"

    def __init__(self, url: str, http: httpx.AsyncClient) -> None:
        self.url = url
        self.http = http

    async def add(self, manifests: Sequence[Mapping[str, Any]]) -> None:
        semaphore = asyncio.Semaphore(SEED_CONCURRENCY)

        async def create(manifest: Mapping[str, Any]) -> None:
            rt = resource_for_kind(str(manifest["kind"]))
            namespace = manifest["metadata"]["namespace"]
            path = f"/apis/{rt.group}/{rt.version}/namespaces/{namespace}/{rt.plural}"
            async with semaphore:
                response = await self.http.post(path, json=dict(manifest))
            if response.status_code != 201:
                raise BenchFailure(f"the simulator refused a seed object: {response.status_code} {response.text[:300]}")

        await asyncio.gather(*(create(m) for m in manifests))

    async def clear_requests(self) -> None:
        (await self.http.delete("/_simulator/requests")).raise_for_status()

    async def requests(self) -> list[dict[str, Any]]:
        response = await self.http.get("/_simulator/requests")
        response.raise_for_status()
        requests: list[dict[str, Any]] = response.json()["requests"]
        return requests

    async def reset(self) -> None:
        (await self.http.post("/_simulator/reset", params={"objects": "true"})).raise_for_status()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def _process_cluster(work_dir: Path) -> AsyncIterator[BenchCluster]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = work_dir / "simulator.log"
    command = [sys.executable, "-m", "app.cli", "simulate-cluster", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--rollout-seconds", "0"]
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            *command, cwd=ROOT, stdout=output, stderr=output, start_new_session=True
        )
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            deadline = time.monotonic() + 30
            while True:
                if process.returncode is not None:
                    raise BenchFailure(f"the simulator exited: {log.read_text(errors='replace')[-1000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get("/_simulator/faults")).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise BenchFailure("the simulator did not start within 30 s")
                await asyncio.sleep(0.05)
            yield ProcessCluster(url, http)
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                os.killpg(process.pid, signal.SIGKILL)
                await process.wait()


@asynccontextmanager
async def simulated_cluster(in_process: bool, work_dir: Path) -> AsyncIterator[BenchCluster]:
    if in_process:
        simulator = SimulatedCluster(rollout_seconds=0)
        await simulator.start()
        try:
            yield InProcessCluster(simulator)
        finally:
            await simulator.stop()
    else:
        async with _process_cluster(work_dir) as cluster:
            yield cluster
