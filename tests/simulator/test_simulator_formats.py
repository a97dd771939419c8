"""What real clients ask of an API server besides objects: discovery with trailing slashes,
namespaces, dry runs, the Table format, the OpenAPI documents and server-side field validation."""

from __future__ import annotations

import gzip
import json
from typing import Any

import httpx
import pytest

from app.simulator import SimulatedCluster
from app.simulator.tables import human_duration
from tests.simulator.openapi_source import TARGET, encoded, generate

NS = "dev"
DEPLOYMENTS = f"/apis/apps/v1/namespaces/{NS}/deployments"
MERGE = {"Content-Type": "application/merge-patch+json"}
TABLE = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)


def _deployment(name: str, **spec: Any) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "app", "image": "app:1"}]}},
            **spec,
        },
    }


async def test_discovery_with_and_without_trailing_slashes(http: httpx.AsyncClient) -> None:
    for path in ("/version", "/version/"):
        assert (await http.get(path)).json()["gitVersion"].startswith("v1.31")
    for path in ("/api", "/api/"):
        assert (await http.get(path)).json()["versions"] == ["v1"]
    core = (await http.get("/api/v1/")).json()
    [namespaces] = [r for r in core["resources"] if r["name"] == "namespaces"]
    assert (namespaces["kind"], namespaces["namespaced"], namespaces["shortNames"]) == ("Namespace", False, ["ns"])
    assert "watch" in namespaces["verbs"]
    assert {g["name"] for g in (await http.get("/apis/")).json()["groups"]} == {"apps", "batch", "autoscaling"}
    apps = (await http.get("/apis/apps/v1/")).json()
    [deployments] = [r for r in apps["resources"] if r["name"] == "deployments"]
    assert (deployments["categories"], "watch" in deployments["verbs"]) == (["all"], True)


async def test_namespaces_come_from_objects_and_can_be_created_and_deleted(
    simulator: SimulatedCluster, http: httpx.AsyncClient
) -> None:
    simulator.add_deployment(NS, "web", "web", 1)
    listed = (await http.get("/api/v1/namespaces")).json()
    assert (listed["kind"], [n["metadata"]["name"] for n in listed["items"]]) == ("NamespaceList", [NS])
    dev = (await http.get(f"/api/v1/namespaces/{NS}")).json()
    assert (dev["status"]["phase"], dev["spec"]["finalizers"]) == ("Active", ["kubernetes"])
    assert dev["metadata"]["labels"] == {"kubernetes.io/metadata.name": NS}
    assert "namespace" not in dev["metadata"] and "generation" not in dev["metadata"]

    created = await http.post("/api/v1/namespaces", json={"metadata": {"name": "scratch"}})
    assert created.status_code == 201
    assert (await http.post("/api/v1/namespaces", json={"metadata": {"name": "scratch"}})).status_code == 409
    invalid = await http.post("/api/v1/namespaces", json={"metadata": {"name": "Not.A.Label"}})
    assert (invalid.status_code, invalid.json()["details"]["causes"][0]["field"]) == (422, "metadata.name")

    assert (await http.delete(f"/api/v1/namespaces/{NS}")).status_code == 200
    assert (await http.get(f"{DEPLOYMENTS}/web")).status_code == 404, "its objects went with it"
    assert (await http.get(f"/api/v1/namespaces/{NS}")).json()["reason"] == "NotFound"
    assert (await http.get("/api/v1/namespaces/scratch/status")).json()["metadata"]["name"] == "scratch"


async def test_dry_runs_check_and_answer_but_change_nothing(
    simulator: SimulatedCluster, http: httpx.AsyncClient
) -> None:
    simulator.add_deployment(NS, "web", "web", 2)
    before = simulator.get("Deployment", NS, "web")
    revision = simulator.store.revision
    dry = {"dryRun": "All"}

    created = await http.post(DEPLOYMENTS, json=_deployment("api"), params=dry)
    assert created.status_code == 201
    assert created.json()["metadata"]["uid"] and "resourceVersion" not in created.json()["metadata"]
    patched = await http.patch(f"{DEPLOYMENTS}/web", json={"spec": {"replicas": 5}}, headers=MERGE, params=dry)
    assert (patched.json()["spec"]["replicas"], patched.json()["metadata"]["generation"]) == (5, 2)
    assert patched.json()["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    replaced = await http.put(
        f"{DEPLOYMENTS}/web", json={**before, "spec": {**before["spec"], "replicas": 7}}, params=dry
    )
    assert replaced.json()["spec"]["replicas"] == 7
    scaled = await http.patch(f"{DEPLOYMENTS}/web/scale", json={"spec": {"replicas": 9}}, headers=MERGE, params=dry)
    assert scaled.json()["spec"]["replicas"] == 9
    assert (await http.delete(f"{DEPLOYMENTS}/web", params=dry)).json()["status"] == "Success"
    with_options = await http.request("DELETE", f"{DEPLOYMENTS}/web", json={"dryRun": ["All"]})
    assert with_options.status_code == 200
    invalid = await http.patch(f"{DEPLOYMENTS}/web", json={"spec": {"replicas": -1}}, headers=MERGE, params=dry)
    assert invalid.status_code == 422, "a dry run is checked like a real write"
    unknown = await http.patch(f"{DEPLOYMENTS}/web", json={}, headers=MERGE, params={"dryRun": "Some"})
    assert (unknown.status_code, unknown.json()["details"]["kind"]) == (422, "PatchOptions")

    assert simulator.get("Deployment", NS, "web") == before
    assert simulator.store.revision == revision
    assert (await http.get(f"{DEPLOYMENTS}/api")).status_code == 404


async def test_the_table_format_has_kubectls_columns(simulator: SimulatedCluster, http: httpx.AsyncClient) -> None:
    simulator.add_deployment(NS, "web", "web", 3, "web:2")
    simulator.add_statefulset(NS, "db", "db", 1)
    simulator.add_cronjob(NS, "nightly", "web", suspend=True, schedule="0 2 * * *")
    simulator.add_hpa(NS, "web", "web", min_replicas=2, max_replicas=6)
    listing = await http.get(DEPLOYMENTS, headers={"Accept": TABLE})
    assert listing.headers["content-type"].startswith("application/json;as=Table;v=v1;g=meta.k8s.io")
    table = listing.json()
    assert (table["kind"], table["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert [c["name"] for c in table["columnDefinitions"] if c["priority"] == 0] == [
        "Name",
        "Ready",
        "Up-to-date",
        "Available",
        "Age",
    ]
    [row] = table["rows"]
    assert row["cells"][:4] == ["web", "3/3", 3, 3]
    assert row["cells"][5:7] == ["web", "web:2"]
    assert row["object"]["kind"] == "PartialObjectMetadata" and row["object"]["metadata"]["name"] == "web"
    assert table["metadata"]["resourceVersion"] == simulator.store.resource_version

    def first_row(answer: httpx.Response) -> list[Any]:
        cells: list[Any] = answer.json()["rows"][0]["cells"]
        return cells

    sts = await http.get(f"/apis/apps/v1/namespaces/{NS}/statefulsets/db", headers={"Accept": TABLE})
    assert first_row(sts)[:2] == ["db", "1/1"]
    cron = await http.get(f"/apis/batch/v1/namespaces/{NS}/cronjobs", headers={"Accept": TABLE})
    assert first_row(cron)[:6] == ["nightly", "0 2 * * *", "<none>", True, 0, "<none>"]
    hpa = await http.get(f"/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers", headers={"Accept": TABLE})
    assert first_row(hpa)[:6] == ["web", "Deployment/web", "cpu: <unknown>/80%", "2", 6, 3]
    namespaces = await http.get("/api/v1/namespaces", headers={"Accept": TABLE})
    assert first_row(namespaces)[:2] == [NS, "Active"]

    beta = await http.get(DEPLOYMENTS, headers={"Accept": "application/json;as=Table;v=v1beta1;g=meta.k8s.io"})
    assert beta.json()["apiVersion"] == "meta.k8s.io/v1beta1"
    whole = await http.get(DEPLOYMENTS, headers={"Accept": TABLE}, params={"includeObject": "Object"})
    assert whole.json()["rows"][0]["object"]["kind"] == "Deployment"
    plain = await http.get(DEPLOYMENTS, headers={"Accept": "application/json"})
    assert plain.json()["kind"] == "DeploymentList"


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (5, "5s"),
        (119, "119s"),
        (125, "2m5s"),
        (600, "10m"),
        (3 * 3600 + 60, "3h1m"),
        (30 * 3600, "30h"),
        (50 * 3600, "2d2h"),
    ],
)
def test_ages_read_as_kubectl_prints_them(seconds: float, shown: str) -> None:
    assert human_duration(seconds) == shown


async def test_openapi_documents(http: httpx.AsyncClient) -> None:
    v2 = (await http.get("/openapi/v2")).json()
    assert v2["swagger"] == "2.0"
    deployment = v2["definitions"]["io.k8s.api.apps.v1.Deployment"]
    assert deployment["x-kubernetes-group-version-kind"] == [{"group": "apps", "kind": "Deployment", "version": "v1"}]
    containers = v2["definitions"]["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert (containers["x-kubernetes-patch-merge-key"], containers["x-kubernetes-patch-strategy"]) == ("name", "merge")

    index = (await http.get("/openapi/v3")).json()["paths"]
    assert set(index) == {"api/v1", "apis/apps/v1", "apis/batch/v1", "apis/autoscaling/v2"}
    apps = (await http.get(index["apis/apps/v1"]["serverRelativeURL"])).json()
    assert apps["openapi"].startswith("3.")
    patch = apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "apps", "version": "v1", "kind": "Deployment"}
    assert {"dryRun", "fieldValidation"} <= {p["name"] for p in patch["parameters"]}
    assert "io.k8s.api.apps.v1.StatefulSet" in apps["components"]["schemas"]
    assert "io.k8s.api.batch.v1.CronJob" not in apps["components"]["schemas"]
    assert (await http.get("/openapi/v3/apis/nope/v1")).status_code == 404


def test_the_vendored_definitions_are_what_the_generator_makes() -> None:
    assert gzip.decompress(TARGET.read_bytes()) == gzip.decompress(encoded(generate())), (
        "app/simulator/openapi_definitions.json.gz is stale: run `.venv/bin/python -m tests.simulator.openapi_source`"
    )


async def test_unknown_fields_by_field_validation(simulator: SimulatedCluster, http: httpx.AsyncClient) -> None:
    typo = _deployment("web", replicas=1)
    typo["spec"]["template"]["spec"]["containers"][0]["imagez"] = "oops"
    typo["spec"]["replica"] = 2
    strict = await http.post(DEPLOYMENTS, json=typo, params={"fieldValidation": "Strict"})
    assert strict.status_code == 400
    assert strict.json()["message"] == (
        'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: '
        'unknown field "spec.template.spec.containers[0].imagez", unknown field "spec.replica"'
    )
    assert (await http.get(f"{DEPLOYMENTS}/web")).status_code == 404

    warned = await http.post(DEPLOYMENTS, json=typo)
    assert warned.status_code == 201
    assert warned.headers["Warning"] == (
        '299 - "unknown field \\"spec.template.spec.containers[0].imagez\\"", 299 - "unknown field \\"spec.replica\\""'
    )
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "imagePullPolicyy": "Always"}]}}}}
    refused = await http.patch(f"{DEPLOYMENTS}/web", json=patch, headers=MERGE, params={"fieldValidation": "Strict"})
    assert "containers[0].imagePullPolicyy" in refused.json()["message"]
    labels = {"metadata": {"labels": {"any-key": "x"}}, "$setElementOrder/x": []}
    smp = {"Content-Type": "application/strategic-merge-patch+json"}
    accepted = await http.patch(f"{DEPLOYMENTS}/web", json=labels, headers=smp, params={"fieldValidation": "Strict"})
    assert accepted.status_code == 200, "maps take any key; patch directives are no fields"
    ignored = await http.post(
        DEPLOYMENTS, json={**typo, "metadata": {"name": "api"}}, params={"fieldValidation": "Ignore"}
    )
    assert ignored.status_code == 201 and "Warning" not in ignored.headers
    bad = await http.post(DEPLOYMENTS, json=_deployment("x"), params={"fieldValidation": "Loose"})
    assert bad.status_code == 400


def _fields(message: bytes) -> dict[int, list[Any]]:
    """A protobuf message's fields by number: varints as ints, length-delimited ones as bytes."""
    fields: dict[int, list[Any]] = {}
    position = 0

    def varint() -> int:
        nonlocal position
        value, shift = 0, 0
        while True:
            byte = message[position]
            position += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    while position < len(message):
        key = varint()
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value: Any = varint()
        elif wire_type == 1:
            value, position = message[position : position + 8], position + 8
        elif wire_type == 2:
            length = varint()
            value, position = message[position : position + length], position + length
        else:
            raise AssertionError(f"unexpected wire type {wire_type}")
        fields.setdefault(number, []).append(value)
    assert position == len(message), "the message ends where its last field does"
    return fields


def _named(entries: list[bytes]) -> dict[str, bytes]:
    """NamedSchema/NamedAny/NamedPathItem entries: name (1) → value (2)."""
    named = {}
    for entry in entries:
        fields = _fields(entry)
        named[fields[1][0].decode()] = fields[2][0]
    return named


async def test_openapi_v2_in_protobuf_for_older_kubectl(http: httpx.AsyncClient) -> None:
    answer = await http.get(
        "/openapi/v2", headers={"Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"}
    )
    assert answer.headers["content-type"] == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    document = _fields(answer.content)  # openapi.v2.Document
    assert document[1] == [b"2.0"]
    definitions = _named(_fields(document[9][0])[1])
    assert len(definitions) == len((await http.get("/openapi/v2")).json()["definitions"])
    deployment = _fields(definitions["io.k8s.api.apps.v1.Deployment"])  # openapi.v2.Schema
    assert _fields(deployment[22][0])[1] == [b"object"]  # type
    extensions = _named(deployment[31])
    gvk = _fields(extensions["x-kubernetes-group-version-kind"])[2][0]  # Any.yaml
    assert json.loads(gvk) == [{"group": "apps", "kind": "Deployment", "version": "v1"}]
    properties = _named(_fields(deployment[25][0])[1])
    assert _fields(properties["spec"])[1] == [b"#/definitions/io.k8s.api.apps.v1.DeploymentSpec"]  # $ref
    container = _fields(definitions["io.k8s.api.core.v1.Container"])
    assert b"name" in container[19]  # required
    paths = _named(_fields(document[8][0])[2])
    patch = _fields(_fields(paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"])[8][0])
    assert patch[5] == [b"patchAppsV1NamespacedDeployment"]
    assert (await http.get("/openapi/v2", headers={"Accept": "application/json"})).json()["swagger"] == "2.0"
