"""The container image and the Kubernetes manifests under deploy/: schemas, consistency and security policy.

Every YAML document under deploy/ (rbac/ and examples/ included) is validated, offline, against the
Kubernetes JSON schemas that ship with `kubernetes-validate`, in strict mode (an unknown or misspelt
field is an error), for the oldest Kubernetes release the manifests support and the newest the package
knows. The policy tests then check what a schema cannot: least-privilege RBAC, non-root and read-only
pods, probes, replicas, and that the pieces refer to each other correctly.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import SchemaNotFoundError, latest_version

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

# The oldest Kubernetes minor release the manifests are meant for, and the newest the installed
# kubernetes-validate ships schemas for (read from the package, so the test stays offline).
OLDEST_KUBERNETES = "1.30"
KUBERNETES_VERSIONS = sorted({OLDEST_KUBERNETES, ".".join(latest_version().split(".")[:2])})

NAMESPACE = "hibernia"
SERVICE_ACCOUNT = "hibernia"
DATABASE_SECRET = "hibernia-database"
CONFIG_MAP = "hibernia-config"
MIGRATE_JOB = "hibernia-migrate"
MANAGED_ROLE_FILE = "rbac/managed-namespace-role.yaml"
CLUSTER_LIST_FILE = "rbac/cluster-list-optional.yaml"
NOT_IN_KUSTOMIZATION = {MANAGED_ROLE_FILE, CLUSTER_LIST_FILE, "examples/database-secret.example.yaml"}
# The one optional cluster-wide grant: list the three workload kinds across namespaces, nothing more.
CLUSTER_LIST_GRANTS = {("apps", "deployments", "list"), ("apps", "statefulsets", "list"), ("batch", "cronjobs", "list")}

# What Hibernia may do in a managed namespace: exactly this, as (API group, resource, verb).
EXPECTED_GRANTS = {
    *(("apps", "deployments", verb) for verb in ("get", "list", "watch", "patch", "create")),
    *(("apps", "statefulsets", verb) for verb in ("get", "list", "watch", "patch")),
    *(
        ("apps", resource, verb)
        for resource in ("deployments/scale", "statefulsets/scale")
        for verb in ("get", "patch")
    ),
    *(("batch", "cronjobs", verb) for verb in ("get", "list", "watch", "patch")),
    *(("autoscaling", "horizontalpodautoscalers", verb) for verb in ("get", "list", "watch")),
}
# ClusterRoles that must never be bound: they grant far more than Hibernia needs.
BROAD_CLUSTER_ROLES = {"cluster-admin", "admin", "edit"}
# Verbs that let a subject grant itself more than its Role.
ESCALATING_VERBS = {"escalate", "bind", "impersonate"}


@dataclass(frozen=True)
class Document:
    path: str  # relative to deploy/
    index: int
    body: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.body.get("kind"))

    @property
    def name(self) -> str:
        return str((self.body.get("metadata") or {}).get("name"))

    @property
    def id(self) -> str:
        return f"{self.path}#{self.index}:{self.kind}/{self.name}"


def _yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in {".yaml", ".yml"} and p.is_file())


def _load_documents() -> list[Document]:
    documents = []
    for path in _yaml_files():
        if path.name == "kustomization.yaml":
            continue  # a kustomize file, not a Kubernetes object: checked on its own below
        with path.open(encoding="utf-8") as stream:
            bodies = [body for body in yaml.safe_load_all(stream) if body is not None]
        relative = path.relative_to(DEPLOY).as_posix()
        documents.extend(Document(relative, index, body) for index, body in enumerate(bodies))
    return documents


DOCUMENTS = _load_documents()


def _kustomization() -> dict[str, Any]:
    with (DEPLOY / "kustomization.yaml").open(encoding="utf-8") as stream:
        loaded = yaml.safe_load(stream)
    assert isinstance(loaded, dict)
    return loaded


def _of_kind(kind: str) -> list[Document]:
    return [document for document in DOCUMENTS if document.kind == kind]


def _one(kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d.body for d in _of_kind(kind) if name is None or d.name == name]
    assert len(found) == 1, f"expected exactly one {kind} {name or ''}, found {len(found)}"
    return found[0]


def _pod_specs() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every pod template under deploy/, with the id of the object that holds it."""
    for document in DOCUMENTS:
        spec = document.body.get("spec") or {}
        if document.kind in {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}:
            yield document.id, spec["template"]["spec"]
        elif document.kind == "CronJob":
            yield document.id, spec["jobTemplate"]["spec"]["template"]["spec"]
        elif document.kind == "Pod":
            yield document.id, spec


def _containers(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod_spec.get("initContainers", []), *pod_spec["containers"]]


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


# ---- every manifest: parses, and matches the Kubernetes schemas -------------------------------------


def test_every_yaml_file_holds_kubernetes_objects() -> None:
    files = {p.relative_to(DEPLOY).as_posix() for p in _yaml_files()}
    assert {"kustomization.yaml", "deployment.yaml", MANAGED_ROLE_FILE} <= files
    assert {document.path for document in DOCUMENTS} == files - {"kustomization.yaml"}, "a YAML file is empty"
    for document in DOCUMENTS:
        assert document.body.get("apiVersion"), document.id
        assert document.body.get("kind"), document.id
        assert document.body.get("metadata", {}).get("name"), document.id


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda document: document.id)
def test_manifest_matches_the_kubernetes_schema(document: Document, version: str) -> None:
    try:
        kubernetes_validate.validate(document.body, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        where = ".".join(str(part) for part in error.path) or "(top)"
        pytest.fail(f"{document.id} is not valid Kubernetes {version}: {where}: {error.message}")
    except SchemaNotFoundError as error:
        pytest.fail(f"{document.id}: {error.message}")


def test_the_schema_check_catches_a_misspelt_field() -> None:
    """Strict mode is what makes the check above worth having: an unknown field is an error."""
    deployment = _one("Deployment")
    container = dict(deployment["spec"]["template"]["spec"]["containers"][0])
    container["securityContext"] = {**container["securityContext"], "readOnlyRootFileSystem": True}
    template = {**deployment["spec"]["template"], "spec": {**deployment["spec"]["template"]["spec"]}}
    template["spec"]["containers"] = [container]
    broken = {**deployment, "spec": {**deployment["spec"], "template": template}}
    with pytest.raises(kubernetes_validate.ValidationError, match="readOnlyRootFileSystem"):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[-1], strict=True)


# ---- kustomization ------------------------------------------------------------------------------


def test_kustomization_lists_every_base_manifest_and_nothing_else() -> None:
    kustomization = _kustomization()
    assert kustomization["kind"] == "Kustomization"
    assert kustomization["namespace"] == NAMESPACE
    listed = set(kustomization["resources"])
    assert len(listed) == len(kustomization["resources"]), "a resource is listed twice"
    manifests = {document.path for document in DOCUMENTS}
    assert listed == manifests - NOT_IN_KUSTOMIZATION
    # Namespace-scoped objects leave the namespace to the kustomization (or to `kubectl -n`)...
    for document in DOCUMENTS:
        if document.path not in NOT_IN_KUSTOMIZATION:
            assert "namespace" not in document.body["metadata"], f"{document.id}: the kustomization sets it"
    # ...except the per-namespace Role template, which names the namespace to replace.
    for document in DOCUMENTS:
        if document.path == MANAGED_ROLE_FILE:
            assert document.body["metadata"]["namespace"] == "hibernia-managed-example"


def test_kustomization_image_is_the_one_the_pods_use() -> None:
    images = {entry["name"] for entry in _kustomization()["images"]}
    for object_id, pod_spec in _pod_specs():
        for container in _containers(pod_spec):
            assert container["image"].rsplit(":", 1)[0] in images, f"{object_id}: image not rewritten by kustomize"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with built-in kustomize) is not installed")
def test_kustomize_builds_namespaced_objects_with_the_registry_image() -> None:
    built = subprocess.run(
        ["kubectl", "kustomize", str(DEPLOY)], capture_output=True, text=True, timeout=30, check=False
    )
    assert built.returncode == 0, built.stderr
    objects = [body for body in yaml.safe_load_all(built.stdout) if body]
    assert {(body["kind"], body["metadata"]["name"]) for body in objects} == {
        (document.kind, document.name) for document in DOCUMENTS if document.path not in NOT_IN_KUSTOMIZATION
    }
    image = next(entry for entry in _kustomization()["images"] if entry["name"] == "hibernia")
    for body in objects:
        if body["kind"] != "Namespace":
            assert body["metadata"]["namespace"] == NAMESPACE, body["metadata"]["name"]
        for container in (body.get("spec", {}).get("template", {}).get("spec", {})).get("containers", []):
            assert container["image"] == f"{image['newName']}:{image['newTag']}"
        kubernetes_validate.validate(body, KUBERNETES_VERSIONS[-1], strict=True)


# ---- RBAC: least privilege ----------------------------------------------------------------------


def test_rbac_rules_are_explicit_without_wildcards() -> None:
    roles = _of_kind("Role") + _of_kind("ClusterRole")
    assert roles, "no Role under deploy/"
    for role in roles:
        assert role.body.get("rules"), f"{role.id}: no rules"
        assert "aggregationRule" not in role.body, f"{role.id}: aggregated roles grant implicitly"
        for rule in role.body["rules"]:
            assert "nonResourceURLs" not in rule, role.id
            for field in ("apiGroups", "resources", "verbs"):
                values = rule.get(field)
                assert values, f"{role.id}: a rule without {field}"
                assert not any("*" in value for value in values), f"{role.id}: wildcard in {field}: {values}"
            assert not ESCALATING_VERBS & set(rule["verbs"]), f"{role.id}: escalating verb in {rule['verbs']}"
            assert "secrets" not in rule["resources"], f"{role.id}: Hibernia never reads Secrets"


def _grants(role: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def test_the_only_cluster_wide_rbac_is_the_optional_read_only_list() -> None:
    cluster_roles = _of_kind("ClusterRole")
    assert [(r.path, r.name) for r in cluster_roles] == [(CLUSTER_LIST_FILE, "hibernia-list-workloads")]
    assert _grants(cluster_roles[0].body) == CLUSTER_LIST_GRANTS
    bindings = _of_kind("ClusterRoleBinding")
    assert [(b.path, b.body["roleRef"]["name"]) for b in bindings] == [(CLUSTER_LIST_FILE, "hibernia-list-workloads")]
    assert bindings[0].body["subjects"] == [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": NAMESPACE}]


def test_no_broad_roles_bound() -> None:
    for binding in _of_kind("RoleBinding"):
        role_ref = binding.body["roleRef"]
        assert role_ref["kind"] == "Role", f"{binding.id}: binds a ClusterRole"
        assert role_ref["name"] not in BROAD_CLUSTER_ROLES, binding.id


def test_managed_namespace_role_grants_exactly_what_hibernia_uses() -> None:
    role = _one("Role", "hibernia-workloads")
    granted = _grants(role)
    assert ("apps", "deployments/scale", "patch") in granted
    assert ("apps", "statefulsets/scale", "patch") in granted
    assert granted - EXPECTED_GRANTS == set(), "more than Hibernia needs"
    assert EXPECTED_GRANTS - granted == set(), "less than Hibernia needs"
    assert not any("resourceNames" in rule for rule in role["rules"]), "apps are found by label, not by name"


def test_managed_namespace_role_is_bound_to_hibernias_service_account_in_the_same_namespace() -> None:
    role = _one("Role", "hibernia-workloads")
    binding = _one("RoleBinding", "hibernia-workloads")
    assert binding["metadata"]["namespace"] == role["metadata"]["namespace"]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "hibernia-workloads"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": NAMESPACE}]
    assert _one("ServiceAccount")["metadata"]["name"] == SERVICE_ACCOUNT
    assert _one("Namespace")["metadata"]["name"] == NAMESPACE


# ---- pods: non-root, read-only, no privileges, bounded resources ---------------------------------


def test_pods_run_non_root_with_runtime_default_seccomp() -> None:
    pod_specs = list(_pod_specs())
    assert {object_id.split(":")[1] for object_id, _ in pod_specs} >= {
        "Deployment/hibernia",
        f"Job/{MIGRATE_JOB}",
    }
    for object_id, pod_spec in pod_specs:
        pod_security = pod_spec.get("securityContext", {})
        assert pod_security.get("runAsNonRoot") is True, object_id
        assert pod_security.get("runAsUser", 1) != 0, object_id
        assert pod_security.get("seccompProfile", {}).get("type") == "RuntimeDefault", object_id
        for host_field in ("hostNetwork", "hostPID", "hostIPC"):
            assert not pod_spec.get(host_field), f"{object_id}: {host_field}"
        for volume in pod_spec.get("volumes", []):
            assert "hostPath" not in volume, f"{object_id}: hostPath volume {volume['name']}"
        assert pod_spec.get("serviceAccountName") == SERVICE_ACCOUNT, object_id
        assert pod_spec.get("enableServiceLinks") is False, f"{object_id}: service links would set HIBERNIA_* vars"


def test_containers_are_unprivileged_read_only_and_bounded() -> None:
    for object_id, pod_spec in _pod_specs():
        for container in _containers(pod_spec):
            where = f"{object_id} container {container['name']}"
            security = container.get("securityContext", {})
            assert security.get("runAsNonRoot", pod_spec["securityContext"].get("runAsNonRoot")) is True, where
            assert security.get("runAsUser", 1) != 0, where
            assert security.get("privileged", False) is False, where
            assert security.get("allowPrivilegeEscalation") is False, where
            assert security.get("readOnlyRootFilesystem") is True, where
            assert security.get("capabilities", {}).get("drop") == ["ALL"], where
            assert not security.get("capabilities", {}).get("add"), where
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container.get("resources", {}).get(bound, {})), f"{where}: {bound}"
            assert not any(port.get("hostPort") for port in container.get("ports", [])), where


def test_the_database_url_comes_from_the_secret_only() -> None:
    for object_id, pod_spec in _pod_specs():
        for container in _containers(pod_spec):
            env = {variable["name"]: variable for variable in container.get("env", [])}
            assert env["HIBERNIA_DATABASE_URL"] == {
                "name": "HIBERNIA_DATABASE_URL",
                "valueFrom": {"secretKeyRef": {"name": DATABASE_SECRET, "key": "url"}},
            }, object_id
            for variable in env.values():
                assert not re.search(r"://[^/\s]*:[^/\s]*@", str(variable.get("value", ""))), f"{object_id}: password"
    config = _one("ConfigMap", CONFIG_MAP)["data"]
    assert "HIBERNIA_DATABASE_URL" not in config
    assert not any(re.search(r"PASSWORD|SECRET|TOKEN", key) for key in config), "secrets belong in a Secret"
    assert config["HIBERNIA_ENV"] == "production"


def test_secrets_are_examples_only() -> None:
    secrets = _of_kind("Secret")
    assert [secret.path for secret in secrets] == ["examples/database-secret.example.yaml"]
    assert secrets[0].name == DATABASE_SECRET
    assert set(secrets[0].body["stringData"]) == {"url"}
    assert "CHANGE-ME" in secrets[0].body["stringData"]["url"]


# ---- the API Deployment -------------------------------------------------------------------------


def _api_container() -> dict[str, Any]:
    containers = _one("Deployment", "hibernia")["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def test_deployment_runs_two_replicas_spread_over_nodes_and_rolls_without_downtime() -> None:
    deployment = _one("Deployment", "hibernia")
    spec = deployment["spec"]
    assert spec["replicas"] == 2
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    pod_labels = spec["template"]["metadata"]["labels"]
    assert _matches(spec["selector"]["matchLabels"], pod_labels)
    pod_spec = spec["template"]["spec"]
    spread_by_node = [
        constraint
        for constraint in pod_spec.get("topologySpreadConstraints", [])
        if constraint["topologyKey"] == "kubernetes.io/hostname"
        and constraint["whenUnsatisfiable"] == "DoNotSchedule"
        and _matches(constraint["labelSelector"]["matchLabels"], pod_labels)
    ]
    anti_affinity = pod_spec.get("affinity", {}).get("podAntiAffinity")
    assert spread_by_node or anti_affinity, "the two replicas may land on one node"


def test_deployment_probes_liveness_on_healthz_and_readiness_on_readyz() -> None:
    container = _api_container()
    port_names = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert port_names == {"http": 8000}
    expected = {"startupProbe": "/healthz", "livenessProbe": "/healthz", "readinessProbe": "/readyz"}
    for probe, path in expected.items():
        assert container[probe]["httpGet"]["path"] == path, probe
        assert container[probe]["httpGet"]["port"] in ("http", 8000), probe
    assert container["args"] == ["serve", "--host", "0.0.0.0", "--port", "8000", "--no-migrate"]
    assert {"configMapRef": {"name": CONFIG_MAP}} in container["envFrom"]
    assert _one("Deployment", "hibernia")["spec"]["template"]["spec"]["automountServiceAccountToken"] is True


def test_migrations_run_once_in_a_job_not_in_the_api_pods() -> None:
    job = _one("Job", MIGRATE_JOB)
    pod_spec = job["spec"]["template"]["spec"]
    assert pod_spec["restartPolicy"] == "Never"
    assert pod_spec["automountServiceAccountToken"] is False, "migrations never call Kubernetes"
    (container,) = pod_spec["containers"]
    assert container["args"] == ["migrate"]
    assert container["image"] == _api_container()["image"]
    assert not _one("Deployment", "hibernia")["spec"]["template"]["spec"].get("initContainers")
    assert _one("ServiceAccount")["automountServiceAccountToken"] is False, "pods opt in to a token"


def test_service_and_disruption_budget_select_the_api_pods_only() -> None:
    api_labels = _one("Deployment", "hibernia")["spec"]["template"]["metadata"]["labels"]
    job_labels = _one("Job", MIGRATE_JOB)["spec"]["template"]["metadata"]["labels"]
    service = _one("Service", "hibernia")["spec"]
    assert service["type"] == "ClusterIP"
    assert _matches(service["selector"], api_labels)
    assert not _matches(service["selector"], job_labels)
    assert [(port["port"], port["targetPort"]) for port in service["ports"]] == [(80, "http")]
    budget = _one("PodDisruptionBudget", "hibernia")["spec"]
    assert budget["minAvailable"] == 1
    assert _matches(budget["selector"]["matchLabels"], api_labels)
    assert not _matches(budget["selector"]["matchLabels"], job_labels)


# ---- the Dockerfile -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def _dockerfile_stages() -> tuple[dict[str, str], list[list[Instruction]]]:
    """Global ARG defaults, and the instructions of each stage (FROM first)."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    global_args: dict[str, str] = {}
    stages: list[list[Instruction]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, arguments = line.partition(" ")
        instruction = Instruction(keyword.upper(), arguments.strip())
        if instruction.keyword == "FROM":
            stages.append([instruction])
        elif stages:
            stages[-1].append(instruction)
        elif instruction.keyword == "ARG":
            name, _, default = instruction.arguments.partition("=")
            global_args[name] = default
    return global_args, stages


def test_dockerfile_is_multi_stage_on_python_311_slim() -> None:
    global_args, stages = _dockerfile_stages()
    assert len(stages) >= 2
    for stage in stages:
        image = re.sub(r"\$\{?(\w+)\}?", lambda m: global_args.get(m.group(1), m.group(0)), stage[0].arguments)
        assert image.split()[0].startswith("python:3.11-slim"), image
    final = stages[-1]
    for instruction in final:
        if instruction.keyword == "RUN":
            assert not re.search(r"apt-get|apk |gcc|build-essential", instruction.arguments), instruction
        if instruction.keyword == "COPY" and "--from=" in instruction.arguments:
            assert "/opt/venv" in instruction.arguments, f"only the venv comes from the builder: {instruction}"


def test_dockerfile_final_stage_runs_as_a_non_root_user() -> None:
    _, stages = _dockerfile_stages()
    users = [instruction.arguments for instruction in stages[-1] if instruction.keyword == "USER"]
    assert users, "the final stage has no USER: it would run as root"
    user, _, group = users[-1].partition(":")
    assert user not in {"root", "0"}, users[-1]
    assert group not in {"root", "0"}, users[-1]
    # Numeric, so the kubelet can check runAsNonRoot, and the same uid the manifests ask for.
    assert user.isdigit()
    assert {int(user)} == {pod_spec["securityContext"]["runAsUser"] for _, pod_spec in _pod_specs()}, (
        "the image's uid and the manifests' runAsUser differ"
    )


def test_dockerfile_ships_migrations_and_alembic_ini_next_to_the_app() -> None:
    _, stages = _dockerfile_stages()
    final = stages[-1]
    copied = {
        instruction.arguments.split()[0].rstrip("/")
        for instruction in final
        if instruction.keyword == "COPY" and not instruction.arguments.startswith("--")
    }
    assert {"app", "schema", "migrations", "alembic.ini"} <= copied
    workdir = [instruction.arguments for instruction in final if instruction.keyword == "WORKDIR"][-1]
    environment = " ".join(instruction.arguments for instruction in final if instruction.keyword == "ENV")
    assert f"PYTHONPATH={workdir}" in environment, "app/ must be imported from where migrations/ sits"
    exec_form = [instruction for instruction in final if instruction.keyword in {"ENTRYPOINT", "CMD"}]
    command = " ".join(instruction.arguments for instruction in exec_form)
    assert "app.cli" in command
    assert "--no-migrate" in command
    assert any(instruction.keyword == "EXPOSE" and instruction.arguments == "8000" for instruction in final)


def test_dockerignore_admits_what_the_dockerfile_copies_and_not_local_secrets() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*", "an allow-list: everything is excluded unless named"
    admitted = {pattern[1:].rstrip("/") for pattern in patterns if pattern.startswith("!")}
    _, stages = _dockerfile_stages()
    sources = {
        source.rstrip("/")
        for stage in stages
        for instruction in stage
        if instruction.keyword == "COPY" and not instruction.arguments.startswith("--from")
        for source in instruction.arguments.split()[:-1]
    }
    assert sources <= admitted, f"copied but excluded from the build context: {sources - admitted}"
    assert not admitted & {".env", ".git", ".venv", "var", "tests"}
