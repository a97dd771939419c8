"""Prometheus metrics, one registry per app so tests and workers never share counters by accident."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.cluster.informers import CacheHealth

_OPERATION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_OPERATION_LABELS = 200  # operation names come from clients: bound the label set


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "hibernia_graphql_requests",
            "GraphQL requests by operation name and type.",
            ["operation", "type"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "hibernia_graphql_request_seconds",
            "GraphQL request latency by operation name.",
            ["operation"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.errors = Counter("hibernia_errors", "Errors answered, by error code.", ["code"], registry=self.registry)
        self.cluster_requests = Counter(
            "hibernia_cluster_requests",
            "Kubernetes API calls by cluster and outcome.",
            ["cluster", "outcome"],
            registry=self.registry,
        )
        self.lease_conflicts = Counter(
            "hibernia_lease_conflicts",
            "Operations refused because another held the app environment's lease.",
            registry=self.registry,
        )
        self.refresh_lag = Gauge(
            "hibernia_status_refresh_lag_seconds",
            "Seconds since the background refresher last finished a round (-1 before the first round).",
            registry=self.registry,
        )
        self.refresh_lag.set_function(self._refresh_lag)
        self.last_refresh: float | None = None
        self._operations: set[str] = set()

    def report_caches(self, health: Callable[[], Mapping[str, CacheHealth]]) -> None:
        """Per cluster: whether its informer cache is synced and watching, and how old its view is."""
        self.registry.register(_CacheCollector(health))

    def operation_label(self, name: str | None) -> str:
        if not name or not _OPERATION_NAME.match(name):
            return "anonymous"
        if name not in self._operations:
            if len(self._operations) >= MAX_OPERATION_LABELS:
                return "other"
            self._operations.add(name)
        return name

    def refreshed(self) -> None:
        self.last_refresh = time.monotonic()

    def _refresh_lag(self) -> float:
        return -1.0 if self.last_refresh is None else time.monotonic() - self.last_refresh

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _CacheCollector(Collector):
    def __init__(self, health: Callable[[], Mapping[str, CacheHealth]]) -> None:
        self.health = health

    def collect(self) -> Iterable[Metric]:
        synced = GaugeMetricFamily(
            "hibernia_cache_synced", "1 when the cluster's informer cache is synced.", labels=["cluster"]
        )
        watching = GaugeMetricFamily(
            "hibernia_cache_watching", "1 when every watch of the cluster's cache is open.", labels=["cluster"]
        )
        age = GaugeMetricFamily(
            "hibernia_cache_age_seconds",
            "Seconds since the cluster's API server last told the cache anything (event, bookmark, list).",
            labels=["cluster"],
        )
        workloads = GaugeMetricFamily(
            "hibernia_cache_workloads", "Workloads in the cluster's cache.", labels=["cluster"]
        )
        for cluster, health in self.health().items():
            synced.add_metric([cluster], float(health.synced))
            watching.add_metric([cluster], float(health.connected))
            age.add_metric([cluster], -1.0 if health.age_seconds is None else health.age_seconds)
            workloads.add_metric([cluster], float(health.objects))
        yield from (synced, watching, age, workloads)
