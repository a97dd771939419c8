"""kubectl against the simulator: the commands people use, through a kubeconfig, as a subprocess.

The simulator here has no token, like `hibernia simulate-cluster`: client-go sends no bearer
token over plain HTTP, so the session simulator (which requires one) would refuse kubectl.

Skipped when kubectl is not installed (Debian: `apt-get install kubernetes-client`); CI installs
it and sets HIBERNIA_REQUIRE_KUBECTL=1, which fails the run when these tests did not pass.
HIBERNIA_KUBECTL=/path/to/kubectl runs them with another kubectl (they pass with 1.20, Debian 12's,
which reads OpenAPI v2 in protobuf and validates client-side, and with 1.32).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from app.simulator import SimulatedCluster

pytestmark = pytest.mark.kubectl

NS = "dev"

SHOP = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
  labels: {app.kubernetes.io/instance: shop}
spec:
  replicas: 2
  selector:
    matchLabels: {app: shop}
  template:
    metadata:
      labels: {app: shop}
    spec:
      containers:
      - name: shop
        image: shop:1.0
        ports:
        - containerPort: 8080
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: shop-db
spec:
  serviceName: shop-db
  replicas: 1
  selector:
    matchLabels: {app: shop-db}
  template:
    metadata:
      labels: {app: shop-db}
    spec:
      containers:
      - name: db
        image: postgres:16
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: shop-report
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: report
            image: shop:1.0
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: shop
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: shop}
  minReplicas: 1
  maxReplicas: 5
"""


class Kubectl:
    """kubectl with a kubeconfig for the simulator and a home of its own (kubectl caches discovery
    and OpenAPI documents under ~/.kube/cache)."""

    def __init__(self, binary: str, cluster: SimulatedCluster, home: Path) -> None:
        self.binary = binary
        self.home = home
        kubeconfig = home / "kubeconfig"
        kubeconfig.write_text(
            f"""\
apiVersion: v1
kind: Config
clusters:
- name: simulator
  cluster: {{server: "{cluster.url}"}}
users:
- name: hibernia
  user: {{}}
contexts:
- name: simulator
  context: {{cluster: simulator, user: hibernia, namespace: {NS}}}
current-context: simulator
"""
        )
        self.env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "KUBECONFIG": str(kubeconfig)}

    async def start(self, *args: str) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            self.binary,
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.env,
            cwd=self.home,
        )

    async def __call__(self, *args: str) -> tuple[int, str, str]:
        """Run to completion: exit code, stdout, stderr."""
        process = await self.start(*args)
        out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode is not None
        return process.returncode, out.decode(), err.decode()


@pytest.fixture(scope="module")
async def open_simulator() -> AsyncIterator[SimulatedCluster]:
    async with SimulatedCluster() as cluster:
        yield cluster


@pytest.fixture
def simulator(open_simulator: SimulatedCluster) -> Iterator[SimulatedCluster]:
    """This module's simulator, without objects, faults or log."""
    open_simulator.reset()
    try:
        yield open_simulator
    finally:
        open_simulator.reset()


@pytest.fixture
def kubectl(simulator: SimulatedCluster, tmp_path: Path) -> Kubectl:
    binary = os.environ.get("HIBERNIA_KUBECTL") or shutil.which("kubectl")
    if binary is None:
        pytest.skip("kubectl is not installed: `apt-get install kubernetes-client` (Debian) runs the kubectl tests")
    return Kubectl(binary, simulator, tmp_path)


def _rows(output: str) -> list[list[str]]:
    return [line.split() for line in output.strip().splitlines()]


async def test_get_shows_kubectls_columns_and_its_not_found_wording(
    simulator: SimulatedCluster, kubectl: Kubectl
) -> None:
    simulator.add_deployment(NS, "web", "web", 2, "web:1.4")
    simulator.add_deployment(NS, "api", "api", hibernated_from=3)
    code, out, err = await kubectl("get", "deploy")
    assert (code, err) == (0, "")
    rows = _rows(out)
    assert rows[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert [row[:4] for row in rows[1:]] == [["api", "0/0", "0", "0"], ["web", "2/2", "2", "2"]]
    code, out, _ = await kubectl("get", "deploy", "web", "-o", "wide")
    assert _rows(out)[1][5:7] == ["web", "web:1.4"]
    code, out, err = await kubectl("get", "deploy", "nope")
    assert (code, out, err.strip()) == (1, "", 'Error from server (NotFound): deployments.apps "nope" not found')
    code, out, _ = await kubectl("get", "ns")
    assert [row[:2] for row in _rows(out)] == [["NAME", "STATUS"], [NS, "Active"]]
    code, out, err = await kubectl("api-resources")
    assert code == 0 and err == ""
    kinds = {row[0]: row[-1] for row in _rows(out)[1:]}
    assert kinds == {
        "namespaces": "Namespace",
        "deployments": "Deployment",
        "statefulsets": "StatefulSet",
        "cronjobs": "CronJob",
        "horizontalpodautoscalers": "HorizontalPodAutoscaler",
    }


async def test_apply_diff_and_apply_again(simulator: SimulatedCluster, kubectl: Kubectl, tmp_path: Path) -> None:
    (tmp_path / "shop.yaml").write_text(SHOP)
    code, out, err = await kubectl("apply", "-f", "shop.yaml")
    assert (code, err) == (0, "")
    assert out.split("\n")[:4] == [
        "deployment.apps/shop created",
        "statefulset.apps/shop-db created",
        "cronjob.batch/shop-report created",
        "horizontalpodautoscaler.autoscaling/shop created",
    ]
    shop = simulator.get("Deployment", NS, "shop")
    assert "kubectl.kubernetes.io/last-applied-configuration" in shop["metadata"]["annotations"]
    code, out, _ = await kubectl("get", "sts,cj,hpa")
    assert "statefulset.apps/shop-db" in out and "0 3 * * *" in out and "Deployment/shop" in out

    (tmp_path / "shop.yaml").write_text(SHOP.replace("replicas: 2", "replicas: 3").replace("shop:1.0", "shop:1.1"))
    code, out, err = await kubectl("diff", "-f", "shop.yaml")
    assert code == 1, err
    assert "-  replicas: 2" in out and "+  replicas: 3" in out and "+      - image: shop:1.1" in out
    assert simulator.get("Deployment", NS, "shop") == shop, "kubectl diff changes nothing"
    code, out, _ = await kubectl("apply", "-f", "shop.yaml", "--dry-run=server")
    assert "deployment.apps/shop configured (server dry run)" in out
    assert simulator.get("Deployment", NS, "shop") == shop

    code, out, err = await kubectl("apply", "-f", "shop.yaml")
    assert code == 0 and "deployment.apps/shop configured" in out, err
    applied = simulator.get("Deployment", NS, "shop")
    [container] = applied["spec"]["template"]["spec"]["containers"]
    assert (applied["spec"]["replicas"], container["image"]) == (3, "shop:1.1")
    assert container["ports"][0]["containerPort"] == 8080, "the three-way merge kept what it did not change"
    code, out, _ = await kubectl("diff", "-f", "shop.yaml")
    assert (code, out) == (0, ""), "nothing left to apply"


async def test_apply_validates_fields_on_the_server(kubectl: Kubectl, tmp_path: Path) -> None:
    (tmp_path / "typo.yaml").write_text(
        SHOP.split("---")[0].replace("image: shop:1.0", "image: shop:1.0\n        imagePullPolicyy: Always")
    )
    code, _, err = await kubectl("apply", "-f", "typo.yaml")
    assert code == 1
    # kubectl 1.27+: the server's strict decoding error; before: kubectl's own validation.
    assert (
        'unknown field "spec.template.spec.containers[0].imagePullPolicyy"' in err
        or 'unknown field "imagePullPolicyy" in io.k8s.api.core.v1.Container' in err
    ), err
    code, out, _ = await kubectl("apply", "-f", "typo.yaml", "--validate=false")
    assert (code, out.strip()) == (0, "deployment.apps/shop created")


async def test_scale_annotate_patch_rollout_status_and_delete(simulator: SimulatedCluster, kubectl: Kubectl) -> None:
    simulator.add_deployment(NS, "web", "web", 1, "web:1", container_name="web")
    simulator.controller.rollout_seconds = 1
    assert (await kubectl("scale", "deploy", "web", "--replicas=3"))[1].strip() == "deployment.apps/web scaled"
    assert (await kubectl("annotate", "deploy", "web", "team=shop"))[1].strip() == "deployment.apps/web annotated"
    patch = '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"web:2"}]}}}}'
    assert (await kubectl("patch", "deploy", "web", "-p", patch))[1].strip() == "deployment.apps/web patched"
    web = simulator.get("Deployment", NS, "web")
    assert (web["spec"]["replicas"], web["metadata"]["annotations"]["team"]) == (3, "shop")
    assert web["spec"]["template"]["spec"]["containers"][0]["image"] == "web:2"
    assert web["status"].get("updatedReplicas", 0) < 3, "the rollout takes a second"

    code, out, err = await kubectl("rollout", "status", "deploy/web", "--timeout=30s")
    assert code == 0, err
    assert out.strip().endswith('deployment "web" successfully rolled out')
    assert simulator.count("watch", "Deployment", NS) >= 1

    code, out, err = await kubectl("delete", "deploy", "web")
    assert (code, out.strip()) == (0, 'deployment.apps "web" deleted'), err
    assert (await kubectl("get", "deploy", "web"))[0] == 1


async def test_get_watch_prints_changes_as_they_happen(simulator: SimulatedCluster, kubectl: Kubectl) -> None:
    simulator.add_deployment(NS, "web", "web", 1)
    process = await kubectl.start("get", "deploy", "-w")
    assert process.stdout is not None
    try:

        async def line() -> list[bytes]:
            assert process.stdout is not None
            return (await asyncio.wait_for(process.stdout.readline(), 30)).split()

        assert (await line())[:5] == [b"NAME", b"READY", b"UP-TO-DATE", b"AVAILABLE", b"AGE"]
        assert (await line())[:2] == [b"web", b"1/1"]
        simulator.patch("Deployment", NS, "web", {"spec": {"replicas": 4}})
        seen = await line()
        while seen[:2] != [b"web", b"4/4"]:
            assert seen[0] == b"web"
            seen = await line()
        simulator.add_deployment(NS, "api", "api", 1)
        assert (await line())[0] == b"api"
    finally:
        process.terminate()
        await process.wait()
    assert simulator.count("watch", "Deployment", NS) == 1
