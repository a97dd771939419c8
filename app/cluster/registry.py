"""One gateway per registered cluster, created on first use and closed at shutdown.

Every caller passes the cluster's connection as the database has it now, so a cluster changed by
`updateCluster` on any server gets a new gateway here at its next use (the old one is closed)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app.cluster.gateway import ClusterGateway, ClusterUnavailable
from app.cluster.instrumented import InstrumentedGateway
from app.cluster.kubernetes_gateway import KubernetesGateway
from app.config import Settings
from app.metrics import Metrics


@dataclass(frozen=True, slots=True)
class ClusterAccess:
    """How to reach one cluster (a copy of the database row's connection fields)."""

    id: int
    name: str
    server: str | None = None
    token: str | None = None
    ca_data: str | None = None
    client_certificate_data: str | None = None
    client_key_data: str | None = None
    insecure_skip_tls_verify: bool = False
    kubeconfig_path: str | None = None
    kubeconfig_context: str | None = None
    in_cluster: bool = False


GatewayFactory = Callable[[ClusterAccess], Awaitable[ClusterGateway]]


class ClusterRegistry:
    def __init__(self, settings: Settings, factory: GatewayFactory | None = None) -> None:
        self.settings = settings
        self._factory = factory or self._kubernetes_gateway
        self._gateways: dict[int, ClusterGateway] = {}
        self._accesses: dict[int, ClusterAccess] = {}
        self._lock = asyncio.Lock()
        # Set by the app: every gateway then counts its calls per cluster and outcome.
        self.metrics: Metrics | None = None

    async def gateway(self, access: ClusterAccess) -> ClusterGateway:
        gateway = self._gateways.get(access.id)
        if gateway is not None and self._accesses[access.id] == access:
            return gateway
        async with self._lock:
            gateway = self._gateways.get(access.id)
            if gateway is not None and self._accesses[access.id] != access:  # changed since: reconnect
                await self.forget(access.id)
                gateway = None
            if gateway is None:
                try:
                    gateway = await self._factory(access)
                except ClusterUnavailable:
                    raise
                except Exception as error:  # a broken kubeconfig or CA must not fail the whole request
                    raise ClusterUnavailable(
                        f"cannot configure a client for cluster '{access.name}': {error}"
                    ) from error
                if self.metrics is not None:
                    gateway = InstrumentedGateway(gateway, access.name, self.metrics)
                self._gateways[access.id], self._accesses[access.id] = gateway, access
            return gateway

    async def forget(self, cluster_id: int) -> None:
        self._accesses.pop(cluster_id, None)
        gateway = self._gateways.pop(cluster_id, None)
        if gateway is not None:
            await gateway.close()

    async def close(self) -> None:
        gateways, self._gateways, self._accesses = list(self._gateways.values()), {}, {}
        await asyncio.gather(*(g.close() for g in gateways), return_exceptions=True)

    async def _kubernetes_gateway(self, access: ClusterAccess) -> ClusterGateway:
        options = {
            "timeout": self.settings.cluster_timeout_seconds,
            "rate": self.settings.cluster_rate_limit_per_second,
            "burst": self.settings.cluster_rate_limit_burst,
        }
        if access.server:
            return KubernetesGateway.from_server(
                access.server,
                access.token,
                access.ca_data,
                access.insecure_skip_tls_verify,
                client_certificate_data=access.client_certificate_data,
                client_key_data=access.client_key_data,
                **options,
            )
        if access.kubeconfig_path:
            return await KubernetesGateway.from_kubeconfig(access.kubeconfig_path, access.kubeconfig_context, **options)
        if access.in_cluster:
            return KubernetesGateway.from_in_cluster(**options)
        raise ClusterUnavailable(f"cluster '{access.name}' has no server, kubeconfig or in-cluster configuration")
