"""Keeps an informer cache, and a standing for the observer's role, for every cluster in the catalog.

At start-up, on demand after a catalog change on this server, and every `interval` seconds for the
changes made on other servers, the catalog's clusters and their environments' namespaces are read
once and the caches brought in line: started for new clusters (synced within seconds), told of new
namespaces (watched one by one where cluster-wide lists are refused), stopped for removed clusters.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.background import BackgroundTask
from app.cluster.caches import ClusterCaches
from app.db.repositories.catalog import CatalogRepository
from app.services.live_status import access_of
from app.services.observer import ClusterObserver

logger = logging.getLogger("hibernia.caches")


class CacheKeeper:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        caches: ClusterCaches,
        observer: ClusterObserver,
        *,
        interval: float = 30.0,
    ) -> None:
        self.session_factory = session_factory
        self.caches = caches
        self.observer = observer
        self.interval = interval
        self._task = BackgroundTask("hibernia-cache-keeper")

    async def sync(self) -> None:
        """A changed cluster's cache starts again (`ensure` compares connections); a removed one's
        cache and client go."""
        async with self.session_factory() as session:
            repository = CatalogRepository(session)
            clusters = await repository.clusters()
            namespaces: dict[int, set[str]] = {}
            for environment in await repository.environments():
                namespaces.setdefault(environment.cluster_id, set()).add(environment.namespace)
        known = {cluster.id for cluster in clusters}
        for cluster in clusters:
            await self.caches.ensure(access_of(cluster), namespaces.get(cluster.id, set()))
        for cluster_id in set(self.caches.cluster_ids()) - known:
            await self.caches.forget(cluster_id)
            await self.caches.registry.forget(cluster_id)
        self.observer.observe_clusters(known)

    def sync_soon(self) -> None:
        """After a change of the catalog on this server: sync now rather than at the next interval."""
        self._task.wake()

    def start(self) -> None:
        self._task.start(lambda: self._task.repeat(self.sync, self.interval, _sync_failed))

    async def stop(self) -> None:
        await self._task.stop()


def _sync_failed() -> None:  # the database is away: the caches go on as they are
    logger.warning("could not read the catalog for the caches", exc_info=True)
