"""Finds what interrupted operations left, and has it settled against the cluster.

Every server runs it every `HIBERNIA_RECONCILE_SECONDS`; claims are conditional UPDATEs, so two
servers never settle the same app environment. It takes:
- leases left to settle (a lost answer, a database outage, an operation that raised);
- leases that expired, or whose server stopped beating or left;
- deployments without an outcome that no lease protects.
A settling that cannot read the cluster leaves the lease to settle again at the next round.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.background import BackgroundTask
from app.db.repositories.deployments import DeploymentRepository
from app.db.repositories.leases import LeaseRepository, LeaseToSettle
from app.db.repositories.servers import ServerRepository
from app.services.presence import ServerPresence
from app.services.settling import Settler

logger = logging.getLogger("hibernia.reconciler")

BATCH = 50
LEFT_WITHOUT_LEASE = "the deploy ended without an outcome"


class Reconciler:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        settler: Settler,
        presence: ServerPresence,
        *,
        lease_seconds: float,
        interval_seconds: float,
    ) -> None:
        self.session_factory = session_factory
        self.settler = settler
        self.presence = presence
        self.lease_seconds = lease_seconds
        self.interval_seconds = interval_seconds
        self._task = BackgroundTask("hibernia-reconciler")
        self._lock = asyncio.Lock()

    async def run_round(self) -> int:
        """One pass; returns how many app environments it settled."""
        async with self._lock:
            holder = f"settle-{uuid.uuid4().hex[:24]}"
            now = self.presence.now()
            dead_before = self.presence.dead_before()
            async with self.session_factory() as session, session.begin():
                servers = ServerRepository(session)
                gone = await self.presence.gone_neighbours(servers)
                leases = await LeaseRepository(session).to_settle(
                    now=now, dead_before=dead_before, limit=BATCH, gone=gone
                )
                orphans = await DeploymentRepository(session).unsettled_without_lease(BATCH)
                await servers.remove_dead(dead_before=dead_before, gone=gone)
            settled = 0
            for lease in leases:
                settled += await self._settle(lease, holder)
            for app_environment_id, actor in orphans:
                orphan = LeaseToSettle(app_environment_id, "", "deploy", actor, LEFT_WITHOUT_LEASE)
                settled += await self._settle(orphan, holder)
            return settled

    async def _settle(self, lease: LeaseToSettle, holder: str) -> int:
        now = self.presence.now()
        expires_at = now + timedelta(seconds=self.lease_seconds)
        async with self.session_factory() as session, session.begin():
            repository = LeaseRepository(session)
            if lease.holder:
                claimed = await repository.claim(
                    lease, holder=holder, server_id=self.presence.id, now=now, expires_at=expires_at
                )
            else:
                claimed = await repository.claim_free(
                    lease.app_environment_id,
                    holder=holder,
                    server_id=self.presence.id,
                    operation=lease.operation or "deploy",
                    actor=lease.actor or "",
                    now=now,
                    expires_at=expires_at,
                    why=lease.why,
                )
        if not claimed:
            return 0  # another server was first
        try:
            done = await self.settler.settle(
                lease.app_environment_id, holder=holder, operation=lease.operation, actor=lease.actor, why=lease.why
            )
        except Exception:
            logger.exception("settling app environment %s failed; trying again later", lease.app_environment_id)
            done = False
        if not done:
            with contextlib.suppress(Exception):  # if the database is away, the claim expires by itself
                async with self.session_factory() as session, session.begin():
                    await LeaseRepository(session).leave_to_settle(
                        [lease.app_environment_id], holder=holder, why=lease.why, now=self.presence.now()
                    )
        return int(done)

    def start(self) -> None:
        if self.interval_seconds > 0:
            self._task.start(self._run_forever)

    async def stop(self) -> None:
        await self._task.stop()

    async def _run_forever(self) -> None:
        while True:
            try:
                settled = await self.run_round()
                if settled:
                    logger.info("reconciler settled %d app environment(s)", settled)
            except asyncio.CancelledError:
                raise
            except Exception:  # the database is away: try again next round
                logger.warning("reconciler round failed", exc_info=True)
            await asyncio.sleep(self.interval_seconds)
