"""KubernetesGateway, with the real kubernetes-asyncio client, against the simulator over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from app.cluster.gateway import (
    AccessDenied,
    ClusterGateway,
    ClusterUnavailable,
    InvalidWorkload,
    WorkloadConflict,
    WorkloadNotFound,
    container_image_patch,
)
from app.cluster.kubernetes_gateway import KubernetesGateway
from app.cluster.rate_limit import RateLimitExceeded, TokenBucket
from app.domain.workloads import HIBERNATION_ANNOTATION, RELEASE_LABEL, Workload, WorkloadKind
from app.simulator import SimulatedCluster
from app.simulator.resources import DEPLOYMENTS, STATEFUL_SETS
from tests.fixtures.cluster_clients import TOKEN

NS = "team-a"
DEPLOYMENT = WorkloadKind.DEPLOYMENT


def _seed_releases(simulator: SimulatedCluster) -> None:
    simulator.add_deployment(NS, "api", "api", 2, "registry.local/api:1")
    simulator.add_deployment(NS, "api-worker", "api", 1, "registry.local/api:1")
    simulator.add_deployment(NS, "web", "web", 3, "registry.local/web:7")
    simulator.add_deployment(NS, "batch", "batch", hibernated_from=4)
    simulator.add_deployment(NS, "orphan", None, 1, labels={"team": "a"})
    simulator.add_deployment("team-b", "api", "api", 1)


async def test_the_gateway_satisfies_the_protocol(gateway: KubernetesGateway) -> None:
    as_protocol: ClusterGateway = gateway
    assert as_protocol is gateway


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        (f"{RELEASE_LABEL}=api", ["api", "api-worker"]),
        (f"{RELEASE_LABEL}==web", ["web"]),
        (f"{RELEASE_LABEL}!=api", ["batch", "orphan", "web"]),
        (f"{RELEASE_LABEL} in (web, batch)", ["batch", "web"]),
        (f"{RELEASE_LABEL} notin (api,web)", ["batch", "orphan"]),
        (RELEASE_LABEL, ["api", "api-worker", "batch", "web"]),
        (f"!{RELEASE_LABEL}", ["orphan"]),
        (f"{RELEASE_LABEL}=api,app.kubernetes.io/name=api-worker", ["api-worker"]),
        ("", ["api", "api-worker", "batch", "orphan", "web"]),
    ],
)
async def test_list_workloads_filters_with_the_label_selector_in_one_request(
    simulator: SimulatedCluster, gateway: KubernetesGateway, selector: str, expected: list[str]
) -> None:
    _seed_releases(simulator)
    workloads = await gateway.list_workloads(NS, DEPLOYMENT, selector)
    assert [w.name for w in workloads] == expected
    assert all(w.namespace == NS and w.kind is DEPLOYMENT for w in workloads)
    assert simulator.count("list", "Deployment", NS) == 1
    assert simulator.count() == 1


async def test_list_workloads_reads_replicas_readiness_annotations_and_images(
    simulator: SimulatedCluster, gateway: KubernetesGateway
) -> None:
    _seed_releases(simulator)
    by_name = {w.name: w for w in await gateway.list_workloads(NS, DEPLOYMENT, "")}
    web = by_name["web"]
    assert (web.desired_replicas, web.ready_replicas, web.available_replicas, web.updated_replicas) == (3, 3, 3, 3)
    assert web.images == ("registry.local/web:7",)
    assert web.release == "web"
    assert web.generation == web.observed_generation == 1
    assert web.progress_deadline_seconds == 600
    assert not web.progress_deadline_exceeded
    assert web.resource_version == simulator.get("Deployment", NS, "web")["metadata"]["resourceVersion"]
    batch = by_name["batch"]
    assert (batch.desired_replicas, batch.ready_replicas) == (0, 0)
    assert batch.annotated_replicas == 4
    assert batch.suspended is None


async def test_list_workloads_of_statefulsets_and_cronjobs(
    simulator: SimulatedCluster, gateway: KubernetesGateway
) -> None:
    simulator.add_statefulset(NS, "db", "api", 2, "postgres:16")
    simulator.add_cronjob(NS, "nightly", "api", "registry.local/jobs:3", suspend=True)
    simulator.add_cronjob(NS, "hourly", "api", "registry.local/jobs:3")
    selector = f"{RELEASE_LABEL}=api"
    [db] = await gateway.list_workloads(NS, WorkloadKind.STATEFUL_SET, selector)
    assert (db.kind, db.desired_replicas, db.ready_replicas, db.images) == (
        WorkloadKind.STATEFUL_SET,
        2,
        2,
        ("postgres:16",),
    )
    cronjobs = await gateway.list_workloads(NS, WorkloadKind.CRON_JOB, selector)
    assert [(c.name, c.suspended, c.desired_replicas, c.images) for c in cronjobs] == [
        ("hourly", False, 0, ("registry.local/jobs:3",)),
        ("nightly", True, 0, ("registry.local/jobs:3",)),
    ]
    assert all(c.observed_generation == c.generation for c in cronjobs)
    assert await gateway.list_workloads("empty", WorkloadKind.CRON_JOB, selector) == []


async def test_list_workloads_follows_continue_tokens(
    simulator: SimulatedCluster, make_gateway: Callable[..., KubernetesGateway]
) -> None:
    for name in ("a", "b", "c", "d", "e"):
        simulator.add_deployment(NS, name, "paged")
    gateway = make_gateway(list_page_size=2)
    workloads = await gateway.list_workloads(NS, DEPLOYMENT, f"{RELEASE_LABEL}=paged")
    assert [w.name for w in workloads] == ["a", "b", "c", "d", "e"]
    assert simulator.count("list", "Deployment") == 3


async def test_get_workload_and_not_found(simulator: SimulatedCluster, gateway: KubernetesGateway) -> None:
    simulator.add_deployment(NS, "web", "web", 2, "nginx:1.27")
    web = await gateway.get_workload(NS, DEPLOYMENT, "web")
    assert (web.name, web.desired_replicas, web.ready_replicas, web.images) == ("web", 2, 2, ("nginx:1.27",))
    with pytest.raises(WorkloadNotFound) as raised:
        await gateway.get_workload(NS, DEPLOYMENT, "nope")
    assert (raised.value.kind, raised.value.namespace, raised.value.name) == (DEPLOYMENT, NS, "nope")
    with pytest.raises(WorkloadNotFound):
        await gateway.get_workload(NS, WorkloadKind.CRON_JOB, "web")
    assert simulator.count("get", status=404) == 2


async def test_hibernate_and_wake_by_patch(simulator: SimulatedCluster, gateway: KubernetesGateway) -> None:
    simulator.add_deployment(NS, "web", "web", 3, annotations={"team": "payments"})
    web = await gateway.get_workload(NS, DEPLOYMENT, "web")
    hibernated = await gateway.patch_workload(
        NS,
        DEPLOYMENT,
        "web",
        {"spec": {"replicas": 0}, "metadata": {"annotations": {HIBERNATION_ANNOTATION: "3"}}},
        resource_version=web.resource_version,
    )
    assert hibernated.desired_replicas == 0
    assert hibernated.annotated_replicas == 3
    assert hibernated.annotations["team"] == "payments"
    assert hibernated.generation == web.generation + 1
    assert int(hibernated.resource_version) > int(web.resource_version)

    settled = await gateway.get_workload(NS, DEPLOYMENT, "web")
    assert (settled.ready_replicas, settled.observed_generation) == (0, settled.generation)

    awake = await gateway.patch_workload(
        NS,
        DEPLOYMENT,
        "web",
        {"spec": {"replicas": 3}, "metadata": {"annotations": {HIBERNATION_ANNOTATION: None}}},
        resource_version=settled.resource_version,
    )
    assert awake.desired_replicas == 3
    assert HIBERNATION_ANNOTATION not in awake.annotations
    assert awake.annotations == {"team": "payments"}
    assert (await gateway.get_workload(NS, DEPLOYMENT, "web")).ready_replicas == 3


async def test_patch_with_a_stale_resource_version_conflicts_and_changes_nothing(
    simulator: SimulatedCluster, gateway: KubernetesGateway
) -> None:
    simulator.add_deployment(NS, "web", "web", 2)
    read = await gateway.get_workload(NS, DEPLOYMENT, "web")
    # Someone else writes in between.
    simulator.store.patch(
        DEPLOYMENTS,
        NS,
        "web",
        "application/merge-patch+json",
        {"metadata": {"labels": {"touched": "yes"}}},
    )
    with pytest.raises(WorkloadConflict) as raised:
        await gateway.patch_workload(
            NS, DEPLOYMENT, "web", {"spec": {"replicas": 0}}, resource_version=read.resource_version
        )
    assert not raised.value.already_exists
    assert "modified" in str(raised.value)
    assert simulator.get("Deployment", NS, "web")["spec"]["replicas"] == 2
    assert simulator.count("patch", "Deployment", status=409) == 1


async def test_patch_rejected_by_validation_is_invalid_workload(
    simulator: SimulatedCluster, gateway: KubernetesGateway
) -> None:
    simulator.add_deployment(NS, "web", "web", 2)
    web = await gateway.get_workload(NS, DEPLOYMENT, "web")
    with pytest.raises(InvalidWorkload) as raised:
        await gateway.patch_workload(
            NS, DEPLOYMENT, "web", {"spec": {"replicas": -1}}, resource_version=web.resource_version
        )
    assert [p.field for p in raised.value.problems] == ["spec.replicas"]
    assert "must be greater than or equal to 0" in raised.value.message
    # An annotation value must be a string: the API server's decoder refuses a number (400).
    with pytest.raises(InvalidWorkload) as decoded:
        await gateway.patch_workload(
            NS,
            DEPLOYMENT,
            "web",
            {"metadata": {"annotations": {HIBERNATION_ANNOTATION: 2}}},
            resource_version=web.resource_version,
        )
    assert "cannot unmarshal number" in decoded.value.message
    assert simulator.count("patch", status=422) == 1
    assert simulator.count("patch", status=400) == 1


async def test_container_image_patch_changes_one_container_only(
    simulator: SimulatedCluster, gateway: KubernetesGateway
) -> None:
    simulator.add_deployment(NS, "web", "web", 1, "registry.local/web:1", container_name="web")
    manifest = simulator.get("Deployment", NS, "web")
    sidecar = {"name": "proxy", "image": "envoy:1.30", "ports": [{"containerPort": 9901}]}
    simulator.store.replace(
        DEPLOYMENTS,
        NS,
        "web",
        {
            **manifest,
            "spec": {
                **manifest["spec"],
                "template": {
                    **manifest["spec"]["template"],
                    "spec": {"containers": [*manifest["spec"]["template"]["spec"]["containers"], sidecar]},
                },
            },
        },
    )
    web = await gateway.get_workload(NS, DEPLOYMENT, "web")
    patched = await gateway.patch_workload(
        NS,
        DEPLOYMENT,
        "web",
        container_image_patch(DEPLOYMENT, "web", "registry.local/web:2"),
        resource_version=web.resource_version,
    )
    assert patched.images == ("registry.local/web:2", "envoy:1.30")
    containers = simulator.get("Deployment", NS, "web")["spec"]["template"]["spec"]["containers"]
    assert containers[1]["ports"] == [{"containerPort": 9901}]

    simulator.add_cronjob(NS, "nightly", "web", "registry.local/web:1", container_name="web")
    nightly = await gateway.get_workload(NS, WorkloadKind.CRON_JOB, "nightly")
    patched_job = await gateway.patch_workload(
        NS,
        WorkloadKind.CRON_JOB,
        "nightly",
        container_image_patch(WorkloadKind.CRON_JOB, "web", "registry.local/web:2"),
        resource_version=nightly.resource_version,
    )
    assert patched_job.images == ("registry.local/web:2",)


async def test_create_deployment(simulator: SimulatedCluster, gateway: KubernetesGateway) -> None:
    created = await gateway.create_deployment(NS, "api", "api", "registry.local/api:5", 2, "app")
    assert (created.name, created.namespace, created.desired_replicas, created.images) == (
        "api",
        NS,
        2,
        ("registry.local/api:5",),
    )
    assert created.release == "api"
    stored = simulator.get("Deployment", NS, "api")
    assert stored["spec"]["template"]["spec"]["containers"][0]["name"] == "app"
    assert stored["spec"]["selector"]["matchLabels"][RELEASE_LABEL] == "api"
    [listed] = await gateway.list_workloads(NS, DEPLOYMENT, f"{RELEASE_LABEL}=api")
    assert listed.ready_replicas == 2

    with pytest.raises(WorkloadConflict) as raised:
        await gateway.create_deployment(NS, "api", "api", "registry.local/api:5", 2, "app")
    assert raised.value.already_exists
    with pytest.raises(InvalidWorkload) as invalid:
        await gateway.create_deployment(NS, "Bad_Name", "bad", "registry.local/api:5", 1, "app")
    assert [p.field for p in invalid.value.problems] == ["metadata.name"]
    assert simulator.count("create", "Deployment") == 3


async def test_stuck_rollout_reads_as_progress_deadline_exceeded(
    simulator: SimulatedCluster, gateway: KubernetesGateway
) -> None:
    simulator.add_deployment(NS, "web", "web", 2)
    simulator.set_stuck(f"{NS}/web")
    web = await gateway.get_workload(NS, DEPLOYMENT, "web")
    assert web.progress_deadline_exceeded
    assert (web.desired_replicas, web.ready_replicas, web.available_replicas) == (2, 0, 0)
    simulator.set_stuck()
    healed = await gateway.get_workload(NS, DEPLOYMENT, "web")
    assert not healed.progress_deadline_exceeded
    assert healed.ready_replicas == 2


async def test_429_is_retried_after_the_retry_after_delay(
    simulator: SimulatedCluster, gateway: KubernetesGateway
) -> None:
    simulator.add_deployment(NS, "web", "web", 2)
    simulator.set_faults(throttle_next=1, retry_after_seconds=1)
    web = await gateway.get_workload(NS, DEPLOYMENT, "web")
    assert web.name == "web"
    assert [r.status for r in simulator.requests] == [429, 200]


async def test_a_retry_after_beyond_the_budget_fails_at_once(
    simulator: SimulatedCluster, make_gateway: Callable[..., KubernetesGateway]
) -> None:
    simulator.add_deployment(NS, "web", "web", 2)
    simulator.set_faults(throttle_next=5, retry_after_seconds=30)
    gateway = make_gateway(timeout=2.0, max_retry_after=10.0)
    with pytest.raises(ClusterUnavailable) as raised:
        await gateway.list_workloads(NS, DEPLOYMENT, "")
    assert "429" in raised.value.reason
    assert simulator.count() == 1
    # Allowed by max_retry_after but longer than the time left: no sleeping into the timeout either.
    simulator.set_faults(throttle_next=5, retry_after_seconds=5)
    short = make_gateway(timeout=1.0)
    with pytest.raises(ClusterUnavailable, match="no time left"):
        await short.list_workloads(NS, DEPLOYMENT, "")
    assert simulator.count() == 2


async def test_throttling_that_never_ends_gives_up_after_the_retries(
    simulator: SimulatedCluster, make_gateway: Callable[..., KubernetesGateway]
) -> None:
    simulator.set_faults(throttle_rate=1.0, retry_after_seconds=0)
    gateway = make_gateway(max_retries=2)
    with pytest.raises(ClusterUnavailable, match="throttling"):
        await gateway.list_workloads(NS, DEPLOYMENT, "")
    assert simulator.count("list", status=429) == 3


async def test_server_errors_are_retried_and_then_reported(
    simulator: SimulatedCluster, gateway: KubernetesGateway
) -> None:
    simulator.add_deployment(NS, "web", "web", 2)
    simulator.set_faults(error_rate=1.0)
    with pytest.raises(ClusterUnavailable) as raised:
        await gateway.get_workload(NS, DEPLOYMENT, "web")
    assert "HTTP 500" in raised.value.reason
    assert "after 4 attempts" in raised.value.reason
    assert simulator.count("get", status=500) == 4


async def test_a_failure_rate_is_absorbed_by_retries(simulator: SimulatedCluster, gateway: KubernetesGateway) -> None:
    simulator.add_deployment(NS, "web", "web", 2)
    simulator.set_faults(error_rate=0.3, seed=11)
    outcomes: list[bool] = []
    for _ in range(20):
        try:
            await gateway.get_workload(NS, DEPLOYMENT, "web")
            outcomes.append(True)
        except ClusterUnavailable:
            outcomes.append(False)
    failures = simulator.count("get", status=500)
    assert failures > 0
    assert simulator.count("get", status=200) == outcomes.count(True)
    assert simulator.count("get") == outcomes.count(True) + failures
    # A call fails only when all of its 4 attempts failed.
    assert outcomes.count(False) * 4 <= failures


async def test_a_failed_create_is_not_retried_unless_the_server_did_not_act(
    simulator: SimulatedCluster, gateway: KubernetesGateway
) -> None:
    simulator.set_faults(error_rate=1.0, only_verbs=["create"])
    with pytest.raises(ClusterUnavailable):
        await gateway.create_deployment(NS, "api", "api", "registry.local/api:1", 1, "app")
    assert simulator.count("create", status=500) == 1
    simulator.set_faults(throttle_next=1, retry_after_seconds=0)
    created = await gateway.create_deployment(NS, "api", "api", "registry.local/api:1", 1, "app")
    assert created.name == "api"
    assert [r.status for r in simulator.requests if r.verb == "create"] == [500, 429, 201]


async def test_an_outage_is_cluster_unavailable(simulator: SimulatedCluster, gateway: KubernetesGateway) -> None:
    simulator.set_faults(outage=True)
    with pytest.raises(ClusterUnavailable, match="503"):
        await gateway.list_workloads(NS, DEPLOYMENT, "")
    assert simulator.count("list", status=503) == 4


async def test_connection_refused_is_cluster_unavailable_and_recovers(
    simulator: SimulatedCluster, gateway: KubernetesGateway
) -> None:
    simulator.add_deployment(NS, "web", "web", 1)
    assert len(await gateway.list_workloads(NS, DEPLOYMENT, "")) == 1
    await simulator.go_offline()
    with pytest.raises(ClusterUnavailable, match="cannot reach"):
        await gateway.list_workloads(NS, DEPLOYMENT, "")
    await simulator.go_online()
    assert len(await gateway.list_workloads(NS, DEPLOYMENT, "")) == 1
    assert simulator.count("list") == 2


async def test_a_slow_api_server_times_out(
    simulator: SimulatedCluster, make_gateway: Callable[..., KubernetesGateway]
) -> None:
    simulator.set_faults(latency_seconds=5)
    gateway = make_gateway(timeout=0.3)
    with pytest.raises(ClusterUnavailable, match=r"did not answer within 0\.3s"):
        await gateway.list_workloads(NS, DEPLOYMENT, "")
    simulator.set_faults()
    assert await gateway.list_workloads(NS, DEPLOYMENT, "") == []


async def test_rejected_credentials_and_forbidden_namespaces(
    simulator: SimulatedCluster, make_gateway: Callable[..., KubernetesGateway]
) -> None:
    with pytest.raises(ClusterUnavailable, match="401"):
        await make_gateway(token="wrong").list_workloads(NS, DEPLOYMENT, "")
    with pytest.raises(ClusterUnavailable, match="401"):
        await make_gateway(token=None).get_workload(NS, DEPLOYMENT, "web")
    simulator.set_faults(forbidden_namespaces=["secret"])
    gateway = make_gateway()
    with pytest.raises(ClusterUnavailable, match="403 Forbidden"):
        await gateway.list_workloads("secret", DEPLOYMENT, "")
    assert await gateway.list_workloads(NS, DEPLOYMENT, "") == []
    assert [r.status for r in simulator.requests] == [401, 401, 403, 200]


async def test_a_list_in_all_namespaces_and_its_refusal_with_namespaced_roles(
    simulator: SimulatedCluster, make_gateway: Callable[..., KubernetesGateway]
) -> None:
    for namespace in ("b-team", "a-team"):
        simulator.add_deployment(namespace, "web", "web", 1)
        simulator.add_deployment(namespace, "other", "other", 1)
    gateway = make_gateway()

    found = await gateway.list_workloads(None, DEPLOYMENT, "app.kubernetes.io/instance in (web)")

    assert [(w.namespace, w.name) for w in found] == [("a-team", "web"), ("b-team", "web")]
    simulator.set_faults(namespaced_access=True)
    with pytest.raises(AccessDenied, match="403 Forbidden"):
        await gateway.list_workloads(None, DEPLOYMENT, "")
    assert len(await gateway.list_workloads("a-team", DEPLOYMENT, "")) == 2
    assert [(r.namespace, r.status) for r in simulator.requests] == [(None, 200), (None, 403), ("a-team", 200)]


async def test_requests_do_not_hop_to_worker_threads(
    simulator: SimulatedCluster, make_gateway: Callable[..., KubernetesGateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    # kubernetes-asyncio's own session reads ~/.netrc and the proxy variables in a thread per request.
    simulator.add_deployment(NS, "web", "web", 1)
    gateway = make_gateway()
    loop = asyncio.get_running_loop()
    hops: list[object] = []
    original = loop.run_in_executor

    def counting(executor: object, func: Callable[..., object], *args: object) -> asyncio.Future[object]:
        hops.append(func)
        return original(executor, func, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(loop, "run_in_executor", counting)
    await gateway.list_workloads(NS, DEPLOYMENT, "")
    written = await gateway.get_workload(NS, DEPLOYMENT, "web")
    await gateway.patch_workload(
        NS, DEPLOYMENT, "web", {"spec": {"replicas": 2}}, resource_version=written.resource_version
    )

    assert hops == []
    assert simulator.count() == 3


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"HTTP_PROXY": "http://proxy.example:3128"}, "http://proxy.example:3128"),
        ({"HTTP_PROXY": "http://proxy.example:3128", "NO_PROXY": "127.0.0.1"}, None),
        ({}, None),
    ],
)
async def test_the_proxy_from_the_environment_is_read_once(
    simulator: SimulatedCluster,
    make_gateway: Callable[..., KubernetesGateway],
    monkeypatch: pytest.MonkeyPatch,
    environment: dict[str, str],
    expected: str | None,
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    gateway = make_gateway()

    if expected is None:
        assert await gateway.list_workloads(NS, DEPLOYMENT, "") == []
    gateway._api(DEPLOYMENT)  # the client is built on first use

    assert gateway._client is not None
    assert (gateway._client.rest_client.proxy or None) == expected


async def test_an_unusable_proxy_in_the_environment_is_a_clear_cluster_error(
    simulator: SimulatedCluster, make_gateway: Callable[..., KubernetesGateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "https_proxy", "no_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:notaport")
    gateway = make_gateway()

    with pytest.raises(ClusterUnavailable, match="proxy set in the environment is not usable"):
        await gateway.list_workloads(NS, DEPLOYMENT, "")
    monkeypatch.delenv("HTTP_PROXY")
    assert await gateway.list_workloads(NS, DEPLOYMENT, "") == []  # nothing half-built was kept


async def test_the_rate_limiter_bounds_the_requests_sent(
    simulator: SimulatedCluster, make_gateway: Callable[..., KubernetesGateway]
) -> None:
    simulator.add_deployment(NS, "web", "web", 1)
    gateway = make_gateway(rate=0.01, burst=3, timeout=1.0)
    results = await asyncio.gather(
        *(gateway.get_workload(NS, DEPLOYMENT, "web") for _ in range(6)), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, ClusterUnavailable)]
    assert len(refused) == 3
    assert all("rate limit" in r.reason for r in refused)
    assert simulator.count() == 3


async def test_a_closed_gateway_refuses_calls(gateway: KubernetesGateway) -> None:
    await gateway.close()
    with pytest.raises(ClusterUnavailable, match="closed"):
        await gateway.list_workloads(NS, DEPLOYMENT, "")


async def test_token_bucket_spends_the_burst_then_waits_for_refills() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2.0, burst=2, clock=lambda: now[0])
    await bucket.acquire(max_wait=0)
    await bucket.acquire(max_wait=0)
    with pytest.raises(RateLimitExceeded) as raised:
        await bucket.acquire(max_wait=0.1)
    assert raised.value.wait == pytest.approx(0.5)
    now[0] += 0.5
    await bucket.acquire(max_wait=0)
    now[0] += 100
    for _ in range(2):
        await bucket.acquire(max_wait=0)
    with pytest.raises(RateLimitExceeded):
        await bucket.acquire(max_wait=0)


async def test_from_server_writes_the_ca_and_configures_the_token() -> None:
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    gateway = KubernetesGateway.from_server("https://k8s.example:6443/", token="t0k", ca_data=pem)
    assert gateway.server == "https://k8s.example:6443"
    assert gateway.configuration.api_key == {"BearerToken": "t0k"}
    ca_path = Path(gateway.configuration.ssl_ca_cert)
    assert ca_path.read_text() == pem  # noqa: ASYNC240 - a tiny local file
    await gateway.close()
    assert not ca_path.exists()  # noqa: ASYNC240
    insecure = KubernetesGateway.from_server("https://k8s.example:6443", insecure_skip_tls_verify=True)
    assert insecure.configuration.verify_ssl is False
    await insecure.close()


@pytest.fixture
def kubeconfig(simulator: SimulatedCluster, tmp_path: Path) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "elsewhere",
                "clusters": [
                    {"name": "sim", "cluster": {"server": simulator.url}},
                    {"name": "other", "cluster": {"server": "http://127.0.0.1:9"}},
                ],
                "users": [{"name": "ci", "user": {"token": TOKEN}}],
                "contexts": [
                    {"name": "sim", "context": {"cluster": "sim", "user": "ci"}},
                    {"name": "elsewhere", "context": {"cluster": "other", "user": "ci"}},
                ],
            }
        )
    )
    return path


async def test_from_kubeconfig_uses_the_named_context(simulator: SimulatedCluster, kubeconfig: Path) -> None:
    simulator.add_deployment(NS, "web", "web", 1)
    async with await KubernetesGateway.from_kubeconfig(str(kubeconfig), "sim", timeout=2) as gateway:
        assert gateway.server == simulator.url
        assert [w.name for w in await gateway.list_workloads(NS, DEPLOYMENT, "")] == ["web"]


@pytest.fixture
def service_account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    token, ca = tmp_path / "token", tmp_path / "ca.crt"
    token.write_text("sa-token")
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    return str(token), str(ca)


async def test_in_cluster_configuration_reads_the_service_account(service_account: tuple[str, str]) -> None:
    token_path, ca_path = service_account
    gateway = KubernetesGateway.from_service_account(token_path, ca_path, timeout=1)
    assert gateway.server == "https://10.96.0.1:443"
    assert gateway.configuration.ssl_ca_cert == ca_path
    assert await gateway.configuration.get_api_key_with_prefix("BearerToken") == "Bearer sa-token"
    await gateway.close()


@pytest.mark.skipif(not hasattr(Workload, "container_names"), reason="Workload.container_names not in the contract yet")
async def test_container_names_come_in_the_order_of_the_images(
    simulator: SimulatedCluster, gateway: KubernetesGateway
) -> None:
    simulator.add_deployment(NS, "web", "web", 1, "registry.local/web:1", container_name="main")
    web = await gateway.get_workload(NS, DEPLOYMENT, "web")
    assert (web.images, web.container_names) == (("registry.local/web:1",), ("main",))


async def test_a_statefulset_says_when_its_spec_last_changed(
    simulator: SimulatedCluster, gateway: KubernetesGateway
) -> None:
    simulator.add_statefulset(NS, "db", "db", 1)
    assert (await gateway.get_workload(NS, WorkloadKind.STATEFUL_SET, "db")).spec_changed_at is not None
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    simulator.store.stored(STATEFUL_SETS, NS, "db")["metadata"]["managedFields"][0]["time"] = "2020-01-01T00:00:00Z"

    simulator.patch("StatefulSet", NS, "db", {"metadata": {"labels": {"tier": "data"}}})
    assert (await gateway.get_workload(NS, WorkloadKind.STATEFUL_SET, "db")).spec_changed_at == long_ago

    simulator.patch("StatefulSet", NS, "db", {"spec": {"replicas": 2}})
    changed = (await gateway.get_workload(NS, WorkloadKind.STATEFUL_SET, "db")).spec_changed_at
    assert changed is not None and changed > long_ago
    # Deployments carry their own progress condition: the time is not read for them.
    simulator.add_deployment(NS, "web", "web", 1)
    assert (await gateway.get_workload(NS, DEPLOYMENT, "web")).spec_changed_at is None
