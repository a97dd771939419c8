"""The simulator speaks the Kubernetes API: paths, verbs, metadata, preconditions, Status bodies.

Raw HTTP (httpx) asserts the exact answers; the kubernetes-asyncio typed client shows that a real
client deserialises them (scale subresource, all-namespaces lists).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from kubernetes_asyncio.client import ApiClient, ApiException, AppsV1Api, AutoscalingV2Api, Configuration

from app.domain.workloads import RELEASE_LABEL
from app.simulator import SimulatedCluster
from app.simulator.patches import merge_patch
from tests.fixtures.cluster_clients import TOKEN

NS = "dev"
DEPLOYMENTS = f"/apis/apps/v1/namespaces/{NS}/deployments"


@pytest.fixture
async def apps(simulator: SimulatedCluster) -> AsyncIterator[AppsV1Api]:
    configuration = Configuration(
        host=simulator.url, api_key={"BearerToken": TOKEN}, api_key_prefix={"BearerToken": "Bearer"}
    )
    async with ApiClient(configuration) as client:
        yield AppsV1Api(client)


def _assert_status(response: httpx.Response, code: int, reason: str) -> dict[str, Any]:
    assert response.status_code == code
    body: dict[str, Any] = response.json()
    assert (body["kind"], body["apiVersion"], body["status"], body["reason"], body["code"]) == (
        "Status",
        "v1",
        "Failure",
        reason,
        code,
    )
    return body


def _deployment(name: str, replicas: int = 1, image: str = "nginx:1.27") -> dict[str, Any]:
    labels = {RELEASE_LABEL: name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "app", "image": image}]}},
        },
    }


async def test_create_get_and_server_owned_metadata(http: httpx.AsyncClient) -> None:
    created = await http.post(DEPLOYMENTS, json=_deployment("web", 2))
    assert created.status_code == 201
    body = created.json()
    metadata = body["metadata"]
    assert (body["kind"], body["apiVersion"], metadata["namespace"], metadata["generation"]) == (
        "Deployment",
        "apps/v1",
        NS,
        1,
    )
    assert metadata["uid"] and metadata["creationTimestamp"].endswith("Z")
    assert body["spec"]["progressDeadlineSeconds"] == 600, "defaults are applied"

    got = (await http.get(f"{DEPLOYMENTS}/web")).json()
    assert int(got["metadata"]["resourceVersion"]) > int(metadata["resourceVersion"]), "the controller wrote status"
    assert got["status"]["readyReplicas"] == 2
    assert got["status"]["observedGeneration"] == 1

    duplicate = await http.post(DEPLOYMENTS, json=_deployment("web"))
    status = _assert_status(duplicate, 409, "AlreadyExists")
    assert status["message"] == 'deployments.apps "web" already exists'
    assert status["details"] == {"name": "web", "group": "apps", "kind": "deployments"}

    missing = await http.get(f"{DEPLOYMENTS}/nope")
    assert _assert_status(missing, 404, "NotFound")["message"] == 'deployments.apps "nope" not found'


async def test_resource_versions_increase_globally_and_generation_follows_the_spec(
    simulator: SimulatedCluster, http: httpx.AsyncClient
) -> None:
    simulator.add_deployment(NS, "web", "web", 1)
    simulator.add_cronjob(NS, "job", "web")
    web = (await http.get(f"{DEPLOYMENTS}/web")).json()
    job = (await http.get(f"/apis/batch/v1/namespaces/{NS}/cronjobs/job")).json()
    assert int(job["metadata"]["resourceVersion"]) > int(web["metadata"]["resourceVersion"])

    merge = {"Content-Type": "application/merge-patch+json"}
    annotated = await http.patch(f"{DEPLOYMENTS}/web", json={"metadata": {"annotations": {"note": "x"}}}, headers=merge)
    assert annotated.json()["metadata"]["generation"] == 1, "metadata changes leave the generation alone"
    scaled = await http.patch(f"{DEPLOYMENTS}/web", json={"spec": {"replicas": 3}}, headers=merge)
    assert scaled.json()["metadata"]["generation"] == 2
    assert int(scaled.json()["metadata"]["resourceVersion"]) > int(annotated.json()["metadata"]["resourceVersion"])
    listing = (await http.get(DEPLOYMENTS)).json()
    assert int(listing["metadata"]["resourceVersion"]) >= int(scaled.json()["metadata"]["resourceVersion"])


async def test_preconditions_on_update_and_patch(simulator: SimulatedCluster, http: httpx.AsyncClient) -> None:
    simulator.add_deployment(NS, "web", "web", 1)
    current = (await http.get(f"{DEPLOYMENTS}/web")).json()
    stale = dict(current, metadata={**current["metadata"], "resourceVersion": "1"})
    conflict = await http.put(f"{DEPLOYMENTS}/web", json=stale)
    status = _assert_status(conflict, 409, "Conflict")
    assert "the object has been modified" in status["message"]

    stale_patch = await http.patch(
        f"{DEPLOYMENTS}/web",
        json={"metadata": {"resourceVersion": "1"}, "spec": {"replicas": 0}},
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )
    _assert_status(stale_patch, 409, "Conflict")

    current["spec"]["replicas"] = 4
    current["status"] = {"readyReplicas": 99}
    replaced = await http.put(f"{DEPLOYMENTS}/web", json=current)
    assert replaced.status_code == 200
    assert replaced.json()["spec"]["replicas"] == 4
    assert replaced.json()["status"].get("readyReplicas") != 99, "PUT on the resource ignores status"
    unconditional = await http.put(
        f"{DEPLOYMENTS}/web", json={**replaced.json(), "metadata": {"name": "web", "labels": {RELEASE_LABEL: "web"}}}
    )
    assert unconditional.status_code == 200, "an update without resourceVersion is unconditional"
    renamed = await http.put(f"{DEPLOYMENTS}/web", json=_deployment("other"))
    assert _assert_status(renamed, 400, "BadRequest")["message"].startswith("the name of the object (other)")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"spec": {"replicas": -1}}, "spec.replicas"),
        ({"metadata": {"name": ""}}, "metadata.name"),
        ({"metadata": {"name": "Not_A_Name"}}, "metadata.name"),
        ({"spec": {"template": {"spec": {"containers": []}}}}, "spec.template.spec.containers"),
        (
            {"spec": {"template": {"metadata": {"labels": {RELEASE_LABEL: None, "other": "x"}}}}},
            "spec.template.metadata.labels",
        ),
    ],
)
async def test_invalid_objects_are_422_with_causes(http: httpx.AsyncClient, change: dict[str, Any], field: str) -> None:
    body = merge_patch(_deployment("web"), change)
    status = _assert_status(await http.post(DEPLOYMENTS, json=body), 422, "Invalid")
    assert field in [cause["field"] for cause in status["details"]["causes"]]
    assert status["details"]["kind"] == "Deployment"
    assert "is invalid" in status["message"]


async def test_bad_requests(simulator: SimulatedCluster, http: httpx.AsyncClient) -> None:
    simulator.add_deployment(NS, "web", "web", 1)
    _assert_status(await http.post(DEPLOYMENTS, content=b"{not json"), 400, "BadRequest")
    wrong_type = await http.post(DEPLOYMENTS, json={**_deployment("x"), "spec": {"replicas": "two"}})
    assert "cannot unmarshal string" in _assert_status(wrong_type, 400, "BadRequest")["message"]
    apply = await http.patch(
        f"{DEPLOYMENTS}/web", content=b"{}", headers={"Content-Type": "application/apply-patch+yaml"}
    )
    _assert_status(apply, 415, "UnsupportedMediaType")
    _assert_status(await http.get(DEPLOYMENTS, params={"labelSelector": "a in b"}), 400, "BadRequest")
    _assert_status(await http.delete(DEPLOYMENTS), 405, "MethodNotAllowed")
    _assert_status(await http.get("/apis/apps/v1/namespaces/dev/replicasets"), 404, "NotFound")
    _assert_status(await http.get(f"/apis/batch/v1/namespaces/{NS}/cronjobs/x/scale"), 404, "NotFound")


async def test_list_across_namespaces_with_selectors_and_pages(
    simulator: SimulatedCluster, http: httpx.AsyncClient, apps: AppsV1Api
) -> None:
    for namespace in ("a", "b"):
        simulator.add_deployment(namespace, "api", "api", 1)
        simulator.add_deployment(namespace, "web", "web", 1)
    everything = (await http.get("/apis/apps/v1/deployments")).json()
    assert everything["kind"] == "DeploymentList"
    assert [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in everything["items"]] == [
        ("a", "api"),
        ("a", "web"),
        ("b", "api"),
        ("b", "web"),
    ]
    assert "kind" not in everything["items"][0], "list items carry no kind, as from the API server"

    typed = await apps.list_deployment_for_all_namespaces(label_selector=f"{RELEASE_LABEL}=web")
    assert [(d.metadata.namespace, d.metadata.name) for d in typed.items] == [("a", "web"), ("b", "web")]
    by_field = await apps.list_deployment_for_all_namespaces(field_selector="metadata.namespace=b")
    assert [d.metadata.name for d in by_field.items] == ["api", "web"]

    first = (await http.get("/apis/apps/v1/deployments", params={"limit": 3})).json()
    assert len(first["items"]) == 3
    rest = (
        await http.get("/apis/apps/v1/deployments", params={"limit": 3, "continue": first["metadata"]["continue"]})
    ).json()
    assert [i["metadata"]["name"] for i in rest["items"]] == ["web"]
    assert "continue" not in rest["metadata"]


async def test_scale_subresource_with_the_typed_client(simulator: SimulatedCluster, apps: AppsV1Api) -> None:
    simulator.add_deployment(NS, "web", "web", 2)
    simulator.add_statefulset(NS, "db", "db", 1)
    scale = await apps.read_namespaced_deployment_scale("web", NS)
    assert (scale.kind, scale.api_version, scale.spec.replicas, scale.status.replicas) == (
        "Scale",
        "autoscaling/v1",
        2,
        2,
    )
    assert f"{RELEASE_LABEL}=web" in scale.status.selector

    patched = await apps.patch_namespaced_deployment_scale("web", NS, {"spec": {"replicas": 5}})
    assert patched.spec.replicas == 5
    deployment = await apps.read_namespaced_deployment("web", NS)
    assert (deployment.spec.replicas, deployment.status.ready_replicas) == (5, 5)
    assert deployment.status.conditions[-1].reason == "NewReplicaSetAvailable"

    stale = {"metadata": {"name": "web", "resourceVersion": "1"}, "spec": {"replicas": 1}}
    with pytest.raises(ApiException) as conflict:
        await apps.replace_namespaced_deployment_scale("web", NS, stale)
    assert conflict.value.status == 409
    with pytest.raises(ApiException) as invalid:
        await apps.patch_namespaced_deployment_scale("web", NS, {"spec": {"replicas": -3}})
    assert invalid.value.status == 422

    sts_scale = await apps.replace_namespaced_stateful_set_scale(
        "db", NS, {"metadata": {"name": "db"}, "spec": {"replicas": 0}}
    )
    assert sts_scale.spec.replicas == 0
    assert (await apps.read_namespaced_stateful_set("db", NS)).status.replicas == 0
    assert simulator.count(subresource="scale") == 5


async def test_status_subresource_and_delete(simulator: SimulatedCluster, http: httpx.AsyncClient) -> None:
    simulator.add_deployment(NS, "web", "web", 1)
    patched = await http.patch(
        f"{DEPLOYMENTS}/web/status",
        json={"status": {"readyReplicas": 0}, "spec": {"replicas": 9}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert patched.json()["status"]["readyReplicas"] == 0
    assert patched.json()["spec"]["replicas"] == 1, "the status subresource ignores the spec"

    stale = await http.request("DELETE", f"{DEPLOYMENTS}/web", json={"preconditions": {"resourceVersion": "1"}})
    _assert_status(stale, 409, "Conflict")
    deleted = await http.delete(f"{DEPLOYMENTS}/web")
    assert deleted.json()["status"] == "Success"
    _assert_status(await http.get(f"{DEPLOYMENTS}/web"), 404, "NotFound")


async def test_json_patch_and_strategic_merge_patch_over_http(
    simulator: SimulatedCluster, http: httpx.AsyncClient
) -> None:
    simulator.add_deployment(NS, "web", "web", 1, "web:1", container_name="web")
    json_patched = await http.patch(
        f"{DEPLOYMENTS}/web",
        json=[{"op": "replace", "path": "/spec/replicas", "value": 2}],
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert json_patched.json()["spec"]["replicas"] == 2
    failed = await http.patch(
        f"{DEPLOYMENTS}/web",
        json=[{"op": "test", "path": "/spec/replicas", "value": 7}],
        headers={"Content-Type": "application/json-patch+json"},
    )
    _assert_status(failed, 422, "Invalid")
    smp = await http.patch(
        f"{DEPLOYMENTS}/web",
        json={"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "web:2"}]}}}},
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )
    [container] = smp.json()["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "web:2"
    assert container["imagePullPolicy"] == "IfNotPresent", "the other fields of the container are kept"


async def test_hpa_clamps_an_awake_target_and_leaves_a_hibernated_one(
    simulator: SimulatedCluster, http: httpx.AsyncClient
) -> None:
    simulator.add_deployment(NS, "web", "web", 2)
    simulator.add_hpa(NS, "web", "web", min_replicas=2, max_replicas=4)
    merge = {"Content-Type": "application/merge-patch+json"}
    await http.patch(f"{DEPLOYMENTS}/web", json={"spec": {"replicas": 0}}, headers=merge)
    assert simulator.get("Deployment", NS, "web")["spec"]["replicas"] == 0
    hpa = simulator.get("HorizontalPodAutoscaler", NS, "web")
    assert hpa["status"]["conditions"][1]["reason"] == "ScalingDisabled"

    await http.patch(f"{DEPLOYMENTS}/web", json={"spec": {"replicas": 1}}, headers=merge)
    assert simulator.get("Deployment", NS, "web")["spec"]["replicas"] == 2, "raised to minReplicas"
    await http.patch(f"{DEPLOYMENTS}/web", json={"spec": {"replicas": 9}}, headers=merge)
    assert simulator.get("Deployment", NS, "web")["spec"]["replicas"] == 4, "lowered to maxReplicas"


async def test_hpas_are_served_to_the_typed_client(simulator: SimulatedCluster) -> None:
    simulator.add_deployment(NS, "web", "web", 3)
    simulator.add_hpa(NS, "web", "web", min_replicas=1, max_replicas=5)
    configuration = Configuration(
        host=simulator.url, api_key={"BearerToken": TOKEN}, api_key_prefix={"BearerToken": "Bearer"}
    )
    async with ApiClient(configuration) as client:
        hpas = await AutoscalingV2Api(client).list_namespaced_horizontal_pod_autoscaler(NS)
    [hpa] = hpas.items
    assert (hpa.spec.scale_target_ref.name, hpa.spec.max_replicas, hpa.status.current_replicas) == ("web", 5, 3)


async def test_discovery(http: httpx.AsyncClient) -> None:
    assert (await http.get("/version")).json()["major"] == "1"
    groups = (await http.get("/apis")).json()
    assert {g["name"] for g in groups["groups"]} == {"apps", "batch", "autoscaling"}
    resources = (await http.get("/apis/apps/v1")).json()
    assert {"deployments", "deployments/scale", "statefulsets"} <= {r["name"] for r in resources["resources"]}
    assert (await http.get("/api")).json()["versions"] == ["v1"]
    assert (await http.get("/healthz")).text == "ok"


async def test_requests_without_the_token_are_unauthorized(simulator: SimulatedCluster) -> None:
    async with httpx.AsyncClient(base_url=simulator.url) as anonymous:
        _assert_status(await anonymous.get(DEPLOYMENTS), 401, "Unauthorized")
    assert simulator.count("list", "Deployment", status=401) == 1
