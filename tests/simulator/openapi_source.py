"""Where the simulator's OpenAPI definitions come from, and how to regenerate them.

`app/simulator/openapi_definitions.json.gz` holds the Kubernetes OpenAPI v2 definitions of the
kinds the simulator serves (and every definition they reference), taken from the JSON schemas of
Kubernetes v1.31 that the pinned dev dependency `kubernetes-validate` ships, turned back into
OpenAPI form: `$ref`s to `#/definitions/...`, plain `type`s (the schemas make every type nullable),
`IntOrString` and `Quantity` as the strings they are in the API server's document, and no `enum`
on the `apiVersion` and `kind` of a kind (the schemas add one). Descriptions and the
`x-kubernetes-*` extensions (patch strategies and merge keys, group-version-kinds) are kept: kubectl
reads them.

Regenerate after upgrading kubernetes-validate (a test fails while the file is stale):

    .venv/bin/python -m tests.simulator.openapi_source
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import kubernetes_validate

KUBERNETES_VERSION = "1.31.0"
TARGET = Path(__file__).parents[2] / "app" / "simulator" / "openapi_definitions.json.gz"

ROOTS = (
    "io.k8s.api.apps.v1.Deployment",
    "io.k8s.api.apps.v1.DeploymentList",
    "io.k8s.api.apps.v1.StatefulSet",
    "io.k8s.api.apps.v1.StatefulSetList",
    "io.k8s.api.batch.v1.CronJob",
    "io.k8s.api.batch.v1.CronJobList",
    "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler",
    "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerList",
    "io.k8s.api.autoscaling.v1.Scale",
    "io.k8s.api.core.v1.Namespace",
    "io.k8s.api.core.v1.NamespaceList",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
)
_SCALARS = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {"type": "string", "format": "int-or-string"},
    "io.k8s.apimachinery.pkg.api.resource.Quantity": {"type": "string"},
}


def _source() -> dict[str, Any]:
    package = Path(kubernetes_validate.__file__).parent
    path = package / "kubernetes-json-schema" / f"v{KUBERNETES_VERSION}-local" / "_definitions.json"
    definitions: dict[str, Any] = json.loads(path.read_text())["$defs"]
    return definitions


def _references(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _references(value)
        return found
    if isinstance(node, list):
        return set().union(*(_references(value) for value in node)) if node else set()
    return set()


def _openapi(node: Any) -> Any:
    if isinstance(node, list):
        return [_openapi(value) for value in node]
    if not isinstance(node, dict):
        return node
    converted: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref":
            converted[key] = "#/definitions/" + value.rsplit("/", 1)[-1]
        elif key == "type" and isinstance(value, list):
            [converted[key]] = [kind for kind in value if kind != "null"]
        elif key == "oneOf":
            raise ValueError(f"unexpected oneOf outside IntOrString and Quantity: {node}")
        else:
            converted[key] = _openapi(value)
    return converted


def generate() -> dict[str, Any]:
    """The definitions, as stored in TARGET."""
    source = _source()
    names: set[str] = set()
    pending = list(ROOTS)
    while pending:
        name = pending.pop()
        if name not in names:
            names.add(name)
            pending.extend(_references(source[name]))
    definitions: dict[str, Any] = {}
    for name in sorted(names):
        if name in _SCALARS:
            description = source[name].get("description")
            definitions[name] = {**({"description": description} if description else {}), **_SCALARS[name]}
            continue
        definition = _openapi(source[name])
        if "x-kubernetes-group-version-kind" in definition:
            for field in ("apiVersion", "kind"):
                definition.get("properties", {}).get(field, {}).pop("enum", None)
        definitions[name] = definition
    return definitions


def encoded(definitions: dict[str, Any]) -> bytes:
    return gzip.compress(json.dumps(definitions, sort_keys=True, separators=(",", ":")).encode(), mtime=0)


if __name__ == "__main__":
    TARGET.write_bytes(encoded(generate()))
    print(f"wrote {TARGET}")
