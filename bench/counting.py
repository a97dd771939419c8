"""What one request costs in SQL statements and Kubernetes API requests."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from app.db.scratch import Statement, StatementLog
from bench.cluster import BenchCluster

__all__ = ["KubernetesRequests", "Statement", "StatementLog", "kubernetes_requests"]


@dataclass
class KubernetesRequests:
    """The simulator's request log for one measured stretch."""

    total: int = 0
    by_verb_and_kind: dict[str, int] = field(default_factory=dict)
    list_groups: int = 0  # distinct (namespace, kind) pairs listed
    max_lists_per_group: int = 0


@asynccontextmanager
async def kubernetes_requests(cluster: BenchCluster) -> AsyncIterator[KubernetesRequests]:
    """Clears the simulator's log, runs the block, and fills in what the block asked for."""
    await cluster.clear_requests()
    seen = KubernetesRequests()
    yield seen
    requests = await cluster.requests()
    seen.total = len(requests)
    seen.by_verb_and_kind = dict(sorted(Counter(f"{r['verb']} {r['kind'] or r['path']}" for r in requests).items()))
    groups = Counter((r["namespace"], r["kind"]) for r in requests if r["verb"] == "list")
    seen.list_groups = len(groups)
    seen.max_lists_per_group = max(groups.values(), default=0)


@dataclass
class Cost:
    """What a block sent: SQL statements (filled as they go) and Kubernetes requests (filled at the end)."""

    statements: list[Statement]
    kubernetes: KubernetesRequests


@asynccontextmanager
async def cost_of(statements: StatementLog, cluster: BenchCluster) -> AsyncIterator[Cost]:
    async with kubernetes_requests(cluster) as requests:
        with statements.recording() as recorded:
            yield Cost(recorded, requests)
