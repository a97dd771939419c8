"""What one request costs in SQL statements and Kubernetes API requests."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench.cluster import BenchCluster


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    parameters: Any


@dataclass
class StatementLog:
    """A `before_cursor_execute` listener: records the statements an engine sends while active."""

    statements: list[Statement] = field(default_factory=list)
    active: bool = False

    def __call__(
        self, _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _executemany: bool
    ) -> None:
        if self.active:
            self.statements.append(Statement(statement, parameters))

    @contextmanager
    def recording(self) -> Iterator[list[Statement]]:
        self.statements = []
        self.active = True
        try:
            yield self.statements
        finally:
            self.active = False


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
