"""A gateway wrapper that counts Kubernetes calls per cluster and outcome."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

from app.cluster.gateway import (
    ClusterGateway,
    ClusterUnavailable,
    InvalidWorkload,
    WorkloadConflict,
    WorkloadNotFound,
)
from app.cluster.watching import WatchEvent
from app.domain.workloads import Workload, WorkloadKind
from app.metrics import Metrics

T = TypeVar("T")

_OUTCOMES: tuple[tuple[type[Exception], str], ...] = (
    (ClusterUnavailable, "unavailable"),
    (WorkloadConflict, "conflict"),
    (WorkloadNotFound, "not_found"),
    (InvalidWorkload, "invalid"),
)


class InstrumentedGateway:
    def __init__(self, inner: ClusterGateway, cluster: str, metrics: Metrics) -> None:
        self.inner = inner
        self.cluster = cluster
        self.metrics = metrics

    async def _count(self, call: Awaitable[T]) -> T:
        try:
            result = await call
        except Exception as error:
            outcome = next((name for kind, name in _OUTCOMES if isinstance(error, kind)), "error")
            self.metrics.cluster_requests.labels(self.cluster, outcome).inc()
            raise
        self.metrics.cluster_requests.labels(self.cluster, "ok").inc()
        return result

    async def list_workloads(self, namespace: str | None, kind: WorkloadKind, label_selector: str) -> list[Workload]:
        return await self._count(self.inner.list_workloads(namespace, kind, label_selector))

    async def list_versioned(
        self, namespace: str | None, kind: WorkloadKind, label_selector: str
    ) -> tuple[list[Workload], str]:
        return await self._count(self.inner.list_versioned(namespace, kind, label_selector))

    async def watch(
        self,
        namespace: str | None,
        kind: WorkloadKind,
        label_selector: str,
        resource_version: str,
        timeout_seconds: int,
    ) -> AsyncIterator[WatchEvent]:
        # Counted once, when the watch opens (or fails to).
        events = self.inner.watch(namespace, kind, label_selector, resource_version, timeout_seconds)
        try:
            first = await anext(events, None)
        except Exception as error:
            outcome = next((name for kind_, name in _OUTCOMES if isinstance(error, kind_)), "error")
            self.metrics.cluster_requests.labels(self.cluster, outcome).inc()
            raise
        self.metrics.cluster_requests.labels(self.cluster, "ok").inc()
        if first is None:
            return
        yield first
        async for event in events:
            yield event

    async def get_workload(self, namespace: str, kind: WorkloadKind, name: str) -> Workload:
        return await self._count(self.inner.get_workload(namespace, kind, name))

    async def patch_workload(
        self, namespace: str, kind: WorkloadKind, name: str, patch: dict[str, Any], *, resource_version: str
    ) -> Workload:
        return await self._count(
            self.inner.patch_workload(namespace, kind, name, patch, resource_version=resource_version)
        )

    async def create_deployment(
        self, namespace: str, name: str, release: str, image: str, replicas: int, container_name: str
    ) -> Workload:
        return await self._count(
            self.inner.create_deployment(namespace, name, release, image, replicas, container_name)
        )

    async def close(self) -> None:
        await self.inner.close()
