"""The issue's targets. A missed target fails `make bench` (exit 1), never the test suite.

Deterministic targets (request and statement counts) are enforced in every run, smoke included;
timing targets only in full runs, where the sizes are the ones the targets are stated for.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

LIVE_KUBERNETES_REQUESTS = "live_page.kubernetes_requests"
LIVE_STATEMENTS_CONSTANT = "live_page.sql_statements_constant"
LIVE_OVER_FLOOR = "live_page.hibernia_over_floor"
FILTERED_OVER_RAW = "filtered_list.graphql_over_raw_sql"
BULK_OVER_SINGLE = "bulk_deploy.many_over_one"
DASHBOARD_FIRST_ROWS = "dashboard.first_rows_seconds"
DASHBOARD_GRAPHQL_REQUESTS = "dashboard.graphql_requests"
WATCH_CONCURRENT_OVER_ONE = "watch_caches.concurrent_over_one_client"
WATCH_READS_UNDER_LOAD = "watch_caches.reads_under_load"
WATCH_AT_REST = "watch_caches.requests_at_rest"
SCHEDULE_TICK_STATEMENTS = "schedule_tick.sql_statements_and_requests"


@dataclass(frozen=True, slots=True)
class Verdict:
    key: str
    description: str
    measured: float
    limit: float
    passed: bool
    deterministic: bool
    enforced: bool

    @property
    def missed(self) -> bool:
        return self.enforced and not self.passed

    @property
    def cell(self) -> str:
        if self.passed:
            return "pass" if self.enforced else "pass (not enforced)"
        return "**MISS**" if self.enforced else "miss (not enforced)"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def at_most(key: str, description: str, measured: float, limit: float, *, deterministic: bool, smoke: bool) -> Verdict:
    return Verdict(
        key=key,
        description=description,
        measured=measured,
        limit=limit,
        passed=measured <= limit,
        deterministic=deterministic,
        enforced=deterministic or not smoke,
    )
