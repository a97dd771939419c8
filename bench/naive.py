"""The naive live status (section 1a): ask the cluster once per app environment and workload kind.

This is the approach behind per-object status calls (Devtron's per-app status endpoint): for each
app environment on the page, one LIST per workload kind with `app.kubernetes.io/instance=<release>`,
so N app environments cost 3N Kubernetes requests. A page's app environments are all asked at once,
as independent resolvers would.

Only the cluster access is naive. `NaiveLiveStatusService` is Hibernia's `LiveStatusService` with
its one cluster-reading step replaced, so the database reads, the status derivation and the
recording are Hibernia's own, and naive/Hibernia measures exactly what batching the cluster
requests buys. Plugged in as the runtime's live status service, it serves the same query with the
same schema and the same answer.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
from collections.abc import Sequence

from app.cluster.gateway import ClusterError
from app.db.models import AppEnvironment
from app.domain.workloads import RELEASE_LABEL, Workload, WorkloadKind
from app.main import HiberniaGraphQL, Runtime
from app.services.live_status import WORKLOAD_KINDS, LiveStatusService, access_of
from bench.graphql_client import BenchFailure

GroupKey = tuple[int, str, WorkloadKind]  # (cluster id, namespace, kind), as Hibernia groups LISTs
Listing = list[Workload] | str


class NaiveLiveStatusService(LiveStatusService):
    async def _list_workloads(self, targets: Sequence[AppEnvironment]) -> dict[GroupKey, Listing]:
        async def one(target: AppEnvironment, kind: WorkloadKind) -> tuple[GroupKey, Listing]:
            environment = target.environment
            key: GroupKey = (environment.cluster_id, environment.namespace, kind)
            try:
                gateway = await self.registry.gateway(access_of(environment.cluster))
                selector = f"{RELEASE_LABEL}={target.release_name}"
                return key, await gateway.list_workloads(environment.namespace, kind, selector)
            except ClusterError as error:
                return key, str(error)

        # Shaped like Hibernia's batched listing (workloads per cluster, namespace and kind), so the
        # rest of the observation is unchanged.
        merged: dict[GroupKey, Listing] = {}
        for key, listing in await asyncio.gather(*(one(t, kind) for t in targets for kind in WORKLOAD_KINDS)):
            if isinstance(listing, str):
                merged[key] = listing
            else:
                found = merged.setdefault(key, [])
                if isinstance(found, list):
                    found.extend(listing)
        return merged


def naive_runtime(runtime: Runtime) -> Runtime:
    """The runtime with its live status service made naive (same state, one method different)."""
    if not hasattr(LiveStatusService, "_list_workloads"):
        raise BenchFailure("LiveStatusService._list_workloads is gone: update bench/naive.py to the new code")
    service = copy.copy(runtime.services.live_status)
    service.__class__ = NaiveLiveStatusService
    services = dataclasses.replace(runtime.services, live_status=service)
    return dataclasses.replace(runtime, services=services)


class NaiveGraphQL(HiberniaGraphQL):
    """Hibernia's GraphQL view over the naive runtime."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(naive_runtime(runtime))
