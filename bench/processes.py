"""Helpers for the sections that run Hibernia as separate processes (throughput, dashboard, watch)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.graphql_client import BenchFailure

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def log_tail(log: Path, size: int = 2000) -> str:
    """The end of a server's log, for the message when it did not start."""
    return log.read_text(errors="replace")[-size:]


@dataclass(frozen=True, slots=True)
class Served:
    url: str  # http://127.0.0.1:PORT
    pid: int  # uvicorn's process: the server itself with 1 worker, their supervisor with more


@asynccontextmanager
async def uvicorn_server(env: Mapping[str, str], log: Path, *, workers: int = 1) -> AsyncIterator[Served]:
    """`uvicorn --factory app.main:create_app --workers N`, configured only through `env` like a
    deployment; yields where it serves once every worker has started and /healthz answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app", "--host", "127.0.0.1"]
    # Log level info: uvicorn says when each worker has started. Hibernia's own request log is not
    # configured by create_app() (`hibernia serve` does that), so it stays quiet.
    command += ["--port", str(port), "--workers", str(workers), "--log-level", "info", "--no-access-log"]
    command += ["--ws", "websockets-sansio"]
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=ROOT,
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            stdout=output,
            stderr=output,
            start_new_session=True,
        )
    try:
        await _wait_started(url, workers, process, log)
        yield Served(url, process.pid)
    finally:
        await _stop(process)


async def _wait_started(url: str, workers: int, process: asyncio.subprocess.Process, log: Path) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(timeout=2) as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise BenchFailure(f"the server exited with {process.returncode}: {log_tail(log)}")
            if log_tail(log, 100_000).count("Application startup complete") >= workers:
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{url}/healthz")).status_code == 200:
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
