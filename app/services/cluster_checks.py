"""A cluster is checked before it is saved, and its health is known: what the checks found, in the
words and codes of the API."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from app.cluster.verification import ClusterCheckFailed, Credentials, Problem, verify_cluster
from app.db.models import Cluster
from app.db.types import utcnow
from app.domain.errors import ErrorCode, HiberniaError

_FIELDS = {
    Problem.MISSING_CONTEXT: "context",
    Problem.UNREACHABLE: "server",
    Problem.UNAUTHORISED: "token",
    Problem.FORBIDDEN: "token",
}
HEALTH_CACHE_SECONDS = 5.0


def credentials_of(cluster: Cluster) -> Credentials | None:
    """How the checks reach a cluster; None for clusters reached by a kubeconfig path or in-cluster config."""
    if not cluster.server:
        return None
    return Credentials(
        server=cluster.server,
        token=cluster.token,
        ca_data=cluster.ca_data,
        client_certificate_data=cluster.client_certificate_data,
        client_key_data=cluster.client_key_data,
        insecure_skip_tls_verify=cluster.insecure_skip_tls_verify,
    )


def check_failed(failed: ClusterCheckFailed) -> HiberniaError:
    code = ErrorCode.CLUSTER_UNAVAILABLE if failed.problem is Problem.UNREACHABLE else ErrorCode.INVALID_INPUT
    return HiberniaError(
        code,
        f"The cluster check failed ({failed.problem}): {failed.message}. Nothing was saved.",
        field=_FIELDS[failed.problem],
    )


async def check_cluster(credentials: Credentials, namespaces: Sequence[str], *, request_seconds: float) -> None:
    """Raises the HiberniaError saying what is wrong (missing context, unreachable, unauthorised, forbidden verb)."""
    try:
        await verify_cluster(credentials, namespaces, request_seconds=request_seconds)
    except ClusterCheckFailed as failed:
        raise check_failed(failed) from None


@dataclass(frozen=True, slots=True)
class Health:
    reachable: bool | None
    last_contact_at: datetime | None
    last_error: str | None


class ClusterHealth:
    """This server's view of each cluster: asked on demand (at most every few seconds per cluster)."""

    def __init__(self, request_seconds: float) -> None:
        self.request_seconds = request_seconds
        self._seen: dict[int, tuple[float, Health]] = {}

    def forget(self, cluster_id: int) -> None:
        """After the cluster changed: the next question asks it again."""
        self._seen.pop(cluster_id, None)

    async def of(self, cluster: Cluster) -> Health:
        cached = self._seen.get(cluster.id)
        if cached is not None and time.monotonic() - cached[0] < HEALTH_CACHE_SECONDS:
            return cached[1]
        credentials = credentials_of(cluster)
        if credentials is None:
            return Health(None, None, None)
        last_contact = cached[1].last_contact_at if cached else None
        try:
            await verify_cluster(credentials, [], request_seconds=self.request_seconds)
            health = Health(True, utcnow(), None)
        except ClusterCheckFailed as failed:
            reachable = failed.problem is not Problem.UNREACHABLE
            health = Health(reachable, utcnow() if reachable else last_contact, failed.message)
        self._seen[cluster.id] = (time.monotonic(), health)
        return health
