"""The admin endpoints, fault determinism, the demo data and the CLI entry point."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
import sys

import httpx
import pytest

from app.cluster.kubernetes_gateway import KubernetesGateway
from app.domain.workloads import RELEASE_LABEL, WorkloadKind
from app.simulator import SimulatedCluster, serve_simulator

DEPLOYMENTS = "/apis/apps/v1/namespaces/dev/deployments"


async def test_faults_are_set_and_read_through_the_admin_endpoint(
    simulator: SimulatedCluster, http: httpx.AsyncClient
) -> None:
    put = await http.put("/_simulator/faults", json={"throttle_next": 1, "retry_after_seconds": 2})
    assert put.json()["throttle_next"] == 1
    throttled = await http.get(DEPLOYMENTS)
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "2"
    assert throttled.json()["reason"] == "TooManyRequests"
    assert (await http.get(DEPLOYMENTS)).status_code == 200

    patched = await http.patch("/_simulator/faults", json={"outage": True})
    assert patched.json()["outage"] is True and patched.json()["retry_after_seconds"] == 2
    assert (await http.get(DEPLOYMENTS)).status_code == 503
    assert (await http.get("/_simulator/faults")).status_code == 200, "admin endpoints are never faulted"
    unknown = await http.patch("/_simulator/faults", json={"explode": True})
    assert unknown.status_code == 400 and "explode" in unknown.json()["error"]
    assert (await http.put("/_simulator/faults", json={"error_rate": 2})).status_code == 400

    healed = await http.put("/_simulator/faults", json={})
    assert healed.json()["outage"] is False
    assert simulator.faults.outage is False


async def test_the_request_log_through_the_admin_endpoint(simulator: SimulatedCluster, http: httpx.AsyncClient) -> None:
    simulator.add_deployment("dev", "web", "web", 1)
    await http.get(DEPLOYMENTS, params={"labelSelector": f"{RELEASE_LABEL}=web"})
    await http.get(f"{DEPLOYMENTS}/web")
    await http.get(f"{DEPLOYMENTS}/web/scale")
    log = (await http.get("/_simulator/requests")).json()
    assert log["total"] == 3
    assert log["counts"] == {"get Deployment": 1, "get Deployment/scale": 1, "list Deployment": 1}
    assert log["requests"][0] == {
        "method": "GET",
        "path": DEPLOYMENTS,
        "verb": "list",
        "kind": "Deployment",
        "namespace": "dev",
        "name": None,
        "subresource": None,
        "label_selector": f"{RELEASE_LABEL}=web",
        "status": 200,
    }
    assert (await http.delete("/_simulator/requests")).json()["total"] == 0
    assert simulator.requests == []


async def test_stuck_and_reset_through_the_admin_endpoint(simulator: SimulatedCluster, http: httpx.AsyncClient) -> None:
    simulator.add_deployment("dev", "web", "web", 2)
    assert (await http.put("/_simulator/stuck", json={"workloads": ["dev/web"]})).json() == {"workloads": ["dev/web"]}
    web = (await http.get(f"{DEPLOYMENTS}/web")).json()
    assert web["status"]["conditions"][-1]["reason"] == "ProgressDeadlineExceeded"
    assert (await http.put("/_simulator/stuck", json={"workloads": "dev/web"})).status_code == 400

    await http.put("/_simulator/faults", json={"latency_seconds": 0.01})
    reset = await http.post("/_simulator/reset")
    assert reset.json() == {"reset": True, "objects": False}
    assert (await http.get("/_simulator/stuck")).json() == {"workloads": []}
    assert (await http.get("/_simulator/faults")).json()["latency_seconds"] == 0
    assert len((await http.get("/_simulator/objects")).json()["deployments.apps"]) == 1
    await http.post("/_simulator/reset", params={"objects": "true"})
    assert (await http.get("/_simulator/objects")).json()["deployments.apps"] == []


async def test_fault_rates_are_deterministic_for_a_seed(simulator: SimulatedCluster, http: httpx.AsyncClient) -> None:
    async def statuses() -> list[int]:
        await http.put("/_simulator/faults", json={"error_rate": 0.5, "throttle_rate": 0.2, "seed": 42})
        return [(await http.get(DEPLOYMENTS)).status_code for _ in range(30)]

    first, second = await statuses(), await statuses()
    assert first == second
    assert {200, 429, 500} == set(first)


async def test_faults_can_target_verbs_and_namespaces(simulator: SimulatedCluster, http: httpx.AsyncClient) -> None:
    simulator.set_faults(error_rate=1.0, only_verbs=["list"], only_namespaces=["dev"])
    assert (await http.get(DEPLOYMENTS)).status_code == 500
    assert (await http.get("/apis/apps/v1/namespaces/prod/deployments")).status_code == 200
    assert (await http.get(f"{DEPLOYMENTS}/web")).status_code == 404


async def test_the_demo_data(simulator: SimulatedCluster, gateway: KubernetesGateway) -> None:
    releases = simulator.seed_demo()
    assert set(releases) == {"demo-dev", "demo-staging", "demo-prod"}
    dev = {w.name: w for w in await gateway.list_workloads("demo-dev", WorkloadKind.DEPLOYMENT, "")}
    assert (dev["api"].desired_replicas, dev["api"].annotated_replicas) == (0, 2)
    assert (dev["web"].desired_replicas, dev["web"].ready_replicas) == (2, 2)
    assert (dev["reports"].desired_replicas, dev["reports"].annotated_replicas) == (0, None)
    [nightly] = await gateway.list_workloads("demo-dev", WorkloadKind.CRON_JOB, f"{RELEASE_LABEL}=worker")
    assert nightly.suspended is True
    staging_worker = await gateway.list_workloads("demo-staging", WorkloadKind.CRON_JOB, f"{RELEASE_LABEL}=worker")
    assert [w.suspended for w in staging_worker] == [False]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_serve_simulator_serves_the_demo_until_cancelled(capsys: pytest.CaptureFixture[str]) -> None:
    original_handler = signal.getsignal(signal.SIGINT)
    port = _free_port()
    task = asyncio.create_task(serve_simulator("127.0.0.1", port, rollout_seconds=0, seed="demo"))
    url = f"http://127.0.0.1:{port}"
    try:
        output = ""
        for _ in range(500):
            output += capsys.readouterr().out
            if url in output:
                break
            await asyncio.sleep(0.01)
        assert f"serving at {url}" in output
        async with httpx.AsyncClient(base_url=url) as client:
            response = await client.get("/apis/apps/v1/namespaces/demo-prod/deployments")
        assert [d["metadata"]["name"] for d in response.json()["items"]] == ["api", "web", "worker"]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert signal.getsignal(signal.SIGINT) == original_handler
    with pytest.raises(ValueError, match="unknown seed"):
        await serve_simulator("127.0.0.1", port, seed="nope")


async def test_ctrl_c_stops_the_simulator_at_once_with_watches_open() -> None:
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        "simulate-cluster",
        "--port",
        str(port),
        "--seed",
        "demo",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        banner = await asyncio.wait_for(process.stdout.readline(), 60)
        assert f"serving at http://127.0.0.1:{port}" in banner.decode()
        async with (
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
            client.stream("GET", "/apis/apps/v1/deployments", params={"watch": "1"}) as watch,
        ):
            lines = watch.aiter_lines()
            assert json.loads(await anext(lines))["type"] == "ADDED"
            process.send_signal(signal.SIGINT)
            # The watch ends with the server, which does not wait for it (a watch lasts 30 min).
            with contextlib.suppress(httpx.TransportError, StopAsyncIteration):
                while True:
                    await asyncio.wait_for(anext(lines), 10)
        assert await asyncio.wait_for(process.wait(), 10) == 0
        errors = (await process.stderr.read()).decode()
        assert "Traceback" not in errors and "ERROR" not in errors, errors
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
