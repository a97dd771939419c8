"""kr8s and lightkube, two other Python Kubernetes clients, against the simulator: connecting
(kr8s asks for `/version/`), listing, reading, scaling, patching and watching."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import kr8s.asyncio
import pytest
from kr8s.asyncio.objects import Deployment as Kr8sDeployment
from lightkube import AsyncClient, KubeConfig
from lightkube.resources.apps_v1 import Deployment as LightkubeDeployment
from lightkube.types import PatchType

from app.simulator import SimulatedCluster

NS = "dev"


@pytest.fixture(scope="module")
async def open_simulator() -> AsyncIterator[SimulatedCluster]:
    # No token: both clients, like kubectl, send none over plain HTTP.
    async with SimulatedCluster() as cluster:
        yield cluster


@pytest.fixture
def simulator(open_simulator: SimulatedCluster) -> Iterator[SimulatedCluster]:
    open_simulator.reset()
    try:
        yield open_simulator
    finally:
        open_simulator.reset()


@pytest.fixture
def kubeconfig(simulator: SimulatedCluster, tmp_path: Path) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(
        f"""\
apiVersion: v1
kind: Config
clusters:
- name: simulator
  cluster: {{server: "{simulator.url}"}}
users:
- name: someone
  user: {{}}
contexts:
- name: simulator
  context: {{cluster: simulator, user: someone, namespace: {NS}}}
current-context: simulator
"""
    )
    return path


async def test_kr8s(simulator: SimulatedCluster, kubeconfig: Path) -> None:
    simulator.add_deployment(NS, "web", "web", 2)
    simulator.add_deployment(NS, "api", "api", 1)
    api = await kr8s.asyncio.api(kubeconfig=str(kubeconfig))
    assert (await api.version())["minor"] == "31"
    names = [d.name async for d in api.get("deployments", namespace=NS)]
    assert names == ["api", "web"]

    web = await Kr8sDeployment.get("web", namespace=NS, api=api)
    await web.scale(4)
    await web.annotate({"team": "shop"})
    stored = simulator.get("Deployment", NS, "web")
    assert (stored["spec"]["replicas"], stored["metadata"]["annotations"]["team"]) == (4, "shop")
    assert simulator.count("patch", "Deployment", NS, "web") >= 2

    async def first_change() -> tuple[str, str]:
        async for kind, obj in api.watch("deployments", namespace=NS, since=web.metadata.resourceVersion):
            return kind, obj.name
        raise AssertionError("the watch ended without an event")

    watching = asyncio.create_task(first_change())
    await asyncio.sleep(0.2)
    simulator.patch("Deployment", NS, "api", {"spec": {"replicas": 3}})
    assert await asyncio.wait_for(watching, 10) in {("MODIFIED", "api"), ("MODIFIED", "web")}
    assert simulator.count("watch", "Deployment", NS) == 1


async def test_lightkube(simulator: SimulatedCluster, kubeconfig: Path) -> None:
    simulator.add_deployment(NS, "web", "web", 2, "web:1", container_name="web")
    client = AsyncClient(config=KubeConfig.from_file(kubeconfig))
    try:
        names = [d.metadata.name async for d in client.list(LightkubeDeployment, namespace=NS)]
        assert names == ["web"]
        web = await client.get(LightkubeDeployment, "web", namespace=NS)
        assert (web.spec.replicas, web.status.readyReplicas) == (2, 2)
        patch = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "web:2"}]}}}}
        patched = await client.patch(LightkubeDeployment, "web", patch, namespace=NS, patch_type=PatchType.STRATEGIC)
        assert patched.spec.template.spec.containers[0].image == "web:2"
        dry = await client.patch(LightkubeDeployment, "web", {"spec": {"replicas": 9}}, namespace=NS, dry_run=True)
        assert dry.spec.replicas == 9 and simulator.get("Deployment", NS, "web")["spec"]["replicas"] == 2

        events = []
        async for kind, obj in client.watch(
            LightkubeDeployment, namespace=NS, resource_version=patched.metadata.resourceVersion
        ):
            events.append((kind, obj.metadata.name))
            if kind == "MODIFIED":
                break
        assert events[-1] == ("MODIFIED", "web"), "the controller's status write after the patch"
    finally:
        await client.close()
