"""The resource types the simulator serves, named as the Kubernetes API names them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ResourceType:
    """One served resource: where it lives in the URL space and what it is called."""

    group: str
    version: str
    plural: str
    kind: str
    short_names: tuple[str, ...] = ()
    has_scale: bool = False
    namespaced: bool = True
    # Namespaces carry no metadata.generation; the workload kinds do.
    has_generation: bool = True
    categories: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        """`deployments.apps`, as the API server writes it in messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified_kind(self) -> str:
        """`Deployment.apps`, as the API server writes it in validation messages."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    @property
    def base_path(self) -> str:
        """`/apis/apps/v1`, or `/api/v1` for the core group."""
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def singular(self) -> str:
        return self.kind.lower()


NAMESPACES = ResourceType("", "v1", "namespaces", "Namespace", ("ns",), namespaced=False, has_generation=False)
DEPLOYMENTS = ResourceType("apps", "v1", "deployments", "Deployment", ("deploy",), has_scale=True, categories=("all",))
STATEFUL_SETS = ResourceType("apps", "v1", "statefulsets", "StatefulSet", ("sts",), has_scale=True, categories=("all",))
CRON_JOBS = ResourceType("batch", "v1", "cronjobs", "CronJob", ("cj",), categories=("all",))
HORIZONTAL_POD_AUTOSCALERS = ResourceType(
    "autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", ("hpa",), categories=("all",)
)

RESOURCE_TYPES: tuple[ResourceType, ...] = (
    NAMESPACES,
    DEPLOYMENTS,
    STATEFUL_SETS,
    CRON_JOBS,
    HORIZONTAL_POD_AUTOSCALERS,
)

_BY_PATH = {(rt.group, rt.version, rt.plural): rt for rt in RESOURCE_TYPES}
_BY_KIND = {rt.kind: rt for rt in RESOURCE_TYPES}


def resource_for_path(group: str, version: str, plural: str) -> ResourceType | None:
    """The resource served at /apis/{group}/{version}/.../{plural} (group "": /api/{version}), or None."""
    return _BY_PATH.get((group, version, plural))


def resource_for_kind(kind: str) -> ResourceType:
    """The resource of a kind name such as `Deployment`; KeyError for kinds not served."""
    return _BY_KIND[kind]


def served_groups() -> dict[str, list[str]]:
    """Named group → versions served, in a stable order (the core group is not one of them)."""
    groups: dict[str, list[str]] = {}
    for rt in RESOURCE_TYPES:
        if not rt.group:
            continue
        versions = groups.setdefault(rt.group, [])
        if rt.version not in versions:
            versions.append(rt.version)
    return groups
