"""The naive live status (section 1a): ask the cluster once per app environment and workload kind.

This is the approach behind per-object status calls (Devtron's per-app status endpoint): for each
app environment on the page, one LIST per workload kind with `app.kubernetes.io/instance=<release>`,
so N app environments cost 3N Kubernetes requests. A page's app environments are all asked at once,
as independent resolvers would.

Only the cluster access is naive. The naive runtime's live status service is Hibernia's
`LiveStatusService` with its lister (the one cluster-reading step) replaced, so the database reads,
the status derivation and the recording are Hibernia's own, and naive/Hibernia measures exactly
what batching the cluster requests buys. Plugged in as the runtime's live status service, it serves
the same query with the same schema and the same answer.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses

from app.cluster.gateway import ClusterError, ClusterGateway
from app.domain.workloads import RELEASE_LABEL, Workload, WorkloadKind
from app.main import Runtime, graphql_endpoint
from app.services.workload_lists import WORKLOAD_KINDS, ClusterLister, Listings
from bench.graphql_client import BenchFailure
from schema.http import GraphQLHttp

Found = list[Workload] | ClusterError


class NaiveLister(ClusterLister):
    async def list(self, gateway: ClusterGateway, cluster_id: int, releases: dict[str, set[str]]) -> Listings:
        async def one(
            namespace: str, release: str, kind: WorkloadKind
        ) -> tuple[str, WorkloadKind, list[Workload] | ClusterError]:
            try:
                return namespace, kind, await gateway.list_workloads(namespace, kind, f"{RELEASE_LABEL}={release}")
            except ClusterError as error:
                return namespace, kind, error

        # Shaped like Hibernia's listing (workloads per namespace and kind), so the rest of the
        # observation is unchanged.
        listings: Listings = {}
        calls = (
            one(ns, release, kind) for ns, names in releases.items() for release in names for kind in WORKLOAD_KINDS
        )
        for namespace, kind, listing in await asyncio.gather(*calls):
            found = listings.setdefault((namespace, kind), [])
            if isinstance(listing, ClusterError):
                listings[(namespace, kind)] = listing
            elif isinstance(found, list):
                found.extend(listing)
        return listings


class NamespacedLister(ClusterLister):
    """Hibernia's own lister as it works with namespaced Roles only: one LIST per (namespace, kind)."""

    def _still_denied(self, cluster_id: int, kind: WorkloadKind) -> bool:
        return True


def runtime_with_lister(runtime: Runtime, lister: ClusterLister) -> Runtime:
    """The runtime with its live status service listing through `lister` (same state otherwise)."""
    service = copy.copy(runtime.services.live_status)
    if not isinstance(getattr(service, "lister", None), ClusterLister):
        raise BenchFailure("LiveStatusService.lister is gone: update bench/naive.py to the new code")
    service.lister = lister
    services = dataclasses.replace(runtime.services, live_status=service)
    return dataclasses.replace(runtime, services=services)


def naive_view(runtime: Runtime) -> GraphQLHttp:
    """Hibernia's GraphQL view over the naive runtime."""
    return graphql_endpoint(runtime_with_lister(runtime, NaiveLister()))


def namespaced_view(runtime: Runtime) -> GraphQLHttp:
    """Hibernia's GraphQL view as it runs with namespaced Roles only."""
    return graphql_endpoint(runtime_with_lister(runtime, NamespacedLister()))
