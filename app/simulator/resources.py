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
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def singular(self) -> str:
        return self.kind.lower()


DEPLOYMENTS = ResourceType("apps", "v1", "deployments", "Deployment", ("deploy",), has_scale=True)
STATEFUL_SETS = ResourceType("apps", "v1", "statefulsets", "StatefulSet", ("sts",), has_scale=True)
CRON_JOBS = ResourceType("batch", "v1", "cronjobs", "CronJob", ("cj",))
HORIZONTAL_POD_AUTOSCALERS = ResourceType(
    "autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", ("hpa",)
)

RESOURCE_TYPES: tuple[ResourceType, ...] = (DEPLOYMENTS, STATEFUL_SETS, CRON_JOBS, HORIZONTAL_POD_AUTOSCALERS)

_BY_PATH = {(rt.group, rt.version, rt.plural): rt for rt in RESOURCE_TYPES}
_BY_KIND = {rt.kind: rt for rt in RESOURCE_TYPES}


def resource_for_path(group: str, version: str, plural: str) -> ResourceType | None:
    """The resource served at /apis/{group}/{version}/.../{plural}, or None."""
    return _BY_PATH.get((group, version, plural))


def resource_for_kind(kind: str) -> ResourceType:
    """The resource of a kind name such as `Deployment`; KeyError for kinds not served."""
    return _BY_KIND[kind]


def served_groups() -> dict[str, list[str]]:
    """Group name → versions served, in a stable order."""
    groups: dict[str, list[str]] = {}
    for rt in RESOURCE_TYPES:
        versions = groups.setdefault(rt.group, [])
        if rt.version not in versions:
            versions.append(rt.version)
    return groups
