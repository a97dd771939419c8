"""`hibernia serve` in its own process, the way people run it, for the browser tests and the bench."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.fixtures.graphql import GraphQLClient

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    url: str
    process: asyncio.subprocess.Process
    graphql: GraphQLClient


@asynccontextmanager
async def serving(database_url: str, log: Path, **settings: str) -> AsyncIterator[ServerProcess]:
    """Runs `hibernia serve --no-migrate` on a free port until the block ends; its log goes to `log`."""
    port = free_port()
    env = {
        **os.environ,
        "HIBERNIA_DATABASE_URL": database_url,
        "HIBERNIA_CLUSTER_RATE_LIMIT": "1000",
        "HIBERNIA_CLUSTER_RATE_BURST": "1000",
        "HIBERNIA_CLUSTER_TIMEOUT_SECONDS": "3",
        **settings,
    }
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "app.cli", "serve", "--no-migrate", "--port", str(port),
            cwd=ROOT, env=env, stdout=out, stderr=out,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    http = httpx.AsyncClient(base_url=url, timeout=30)
    try:
        for _ in range(600):
            try:
                if (await http.get("/healthz")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.returncode is not None:
                raise AssertionError(f"the server exited at start; see {log}")
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"the server did not start; see {log}")
        yield ServerProcess(url=url, process=process, graphql=GraphQLClient(http))
    finally:
        await http.aclose()
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
