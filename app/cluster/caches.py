"""One informer cache per cluster this server reads, started at start-up or on first use."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection

from app.cluster.gateway import ClusterUnavailable
from app.cluster.informers import CacheHealth, ClusterCache, Release
from app.cluster.registry import ClusterAccess, ClusterRegistry

logger = logging.getLogger("hibernia.caches")

Changed = Callable[[int, set[Release]], None]


class ClusterCaches:
    def __init__(self, registry: ClusterRegistry) -> None:
        self.registry = registry
        self._caches: dict[int, ClusterCache] = {}
        self._accesses: dict[int, ClusterAccess] = {}
        self._listeners: list[Changed] = []
        self._lock = asyncio.Lock()

    def on_change(self, listener: Changed) -> None:
        """`listener(cluster_id, releases)` after each change a cache applied (many times a second)."""
        self._listeners.append(listener)

    def get(self, cluster_id: int) -> ClusterCache | None:
        return self._caches.get(cluster_id)

    def cluster_ids(self) -> list[int]:
        return list(self._caches)

    async def ensure(self, access: ClusterAccess, namespaces: Collection[str]) -> ClusterCache | None:
        """The cluster's cache, started if it was not, or started again when the cluster's connection
        changed (another server ran `updateCluster`); None when no client can be made for it."""
        cache = self._caches.get(access.id)
        if cache is not None and self._accesses[access.id] != access:
            await self.forget(access.id)
            cache = None
        if cache is None:
            async with self._lock:
                cache = self._caches.get(access.id)
                if cache is None:
                    try:
                        gateway = await self.registry.gateway(access)
                    except ClusterUnavailable as error:
                        logger.warning("no cache for cluster %s: %s", access.name, error)
                        return None
                    cache = ClusterCache(access.id, gateway, self._changed)
                    cache.start(namespaces)
                    self._caches[access.id], self._accesses[access.id] = cache, access
                    return cache
        cache.watch_namespaces(namespaces)
        return cache

    async def forget(self, cluster_id: int) -> None:
        cache = self._caches.pop(cluster_id, None)
        self._accesses.pop(cluster_id, None)
        if cache is not None:
            await cache.stop()

    async def close(self) -> None:
        for cluster_id in list(self._caches):
            await self.forget(cluster_id)

    def health(self) -> dict[str, CacheHealth]:
        return {self._accesses[i].name: cache.health() for i, cache in self._caches.items()}

    def _changed(self, cluster_id: int, releases: set[Release]) -> None:
        for listener in self._listeners:
            listener(cluster_id, releases)
