"""Watch events turned into recorded statuses, by the one server elected for each cluster.

The informer caches tell every server which releases changed; only the holder of the role
`observe:<cluster id>` records them, so a change made behind Hibernia's back (kubectl, another
tool) shows in the list filters and is pushed to subscribers within a second or two, once. Changes
arriving together are observed together (one batch per cluster, read from the cache: no request).
App environments an operation holds are left to it: it records what it did. When the role is
gained, the whole cluster is observed once (level-triggered: nothing missed while another server
held it, or none did). The polling refresher stays as the safety net.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.background import BackgroundTask
from app.cluster.caches import ClusterCaches
from app.cluster.informers import Release
from app.db.repositories.status import StatusRepository
from app.services.elections import Elections
from app.services.live_status import LiveStatusService

logger = logging.getLogger("hibernia.observer")

WATCH_ACTOR = "hibernia-watch"
ROLE = "observe:"
DEBOUNCE_SECONDS = 0.05


def role_of(cluster_id: int) -> str:
    return f"{ROLE}{cluster_id}"


class ClusterObserver:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        live_status: LiveStatusService,
        caches: ClusterCaches,
        elections: Elections,
    ) -> None:
        self.session_factory = session_factory
        self.live_status = live_status
        self.elections = elections
        self._changed: dict[int, set[Release]] = {}
        self._everything: set[int] = set()
        self._wake = asyncio.Event()
        self._task = BackgroundTask("hibernia-observer")
        self.observed = 0
        caches.on_change(self._heard)
        elections.on_change(self._role)

    def observe_clusters(self, cluster_ids: Collection[int]) -> None:
        """Stands for the roles of these clusters (the catalog's)."""
        for cluster_id in cluster_ids:
            self.elections.want(role_of(cluster_id))

    def _heard(self, cluster_id: int, releases: set[Release]) -> None:
        if self.elections.holds(role_of(cluster_id)):
            self._changed.setdefault(cluster_id, set()).update(releases)
            self._wake.set()

    def _role(self, role: str, held: bool) -> None:
        if held and role.startswith(ROLE):
            self._everything.add(int(role.removeprefix(ROLE)))
            self._wake.set()

    async def run_pass(self) -> int:
        """Observes what changed since the last pass; returns how many app environments it read."""
        changed, self._changed = self._changed, {}
        everything, self._everything = self._everything, set()
        total = 0
        for cluster_id in sorted(set(changed) | everything):
            if not self.elections.holds(role_of(cluster_id)):
                continue
            try:
                async with self.session_factory() as session:
                    targets = await StatusRepository(session).idle_targets_of_releases(
                        cluster_id, None if cluster_id in everything else changed.get(cluster_id, set())
                    )
                if targets:
                    await self.live_status.observe([t.id for t in targets], actor=WATCH_ACTOR, known=targets)
            except Exception:
                self._everything.add(cluster_id)  # looked at again, whole, at the next pass
                raise
            total += len(targets)
        self.observed += total
        return total

    def start(self) -> None:
        self._task.start(self._run)

    async def stop(self) -> None:
        await self._task.stop()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(DEBOUNCE_SECONDS)  # changes that come together are observed together
            self._wake.clear()
            try:
                await self.run_pass()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database is away: again after a pause, whole clusters
                logger.warning("observing watch events failed; trying again", exc_info=True)
                await asyncio.sleep(1)
                self._wake.set()
