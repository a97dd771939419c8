"""Every use case, built once per process from the shared runtime pieces."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.cluster.caches import ClusterCaches
from app.cluster.registry import ClusterRegistry
from app.config import Settings
from app.metrics import Metrics
from app.services.bulk import BulkService
from app.services.cache_keeper import CacheKeeper
from app.services.cluster_checks import ClusterHealth
from app.services.deploy import DeployService
from app.services.elections import Elections
from app.services.hibernation import HibernationService
from app.services.leases import LeaseManager
from app.services.live_status import LiveStatusService
from app.services.observer import ClusterObserver
from app.services.presence import ServerPresence
from app.services.reconciler import Reconciler
from app.services.refresher import StatusRefresher
from app.services.rollback import RollbackService
from app.services.scheduler import Scheduler
from app.services.settling import Settler
from app.services.status_feed import StatusFeed
from app.services.targets import TargetAccess


@dataclass(frozen=True)
class Services:
    live_status: LiveStatusService
    refresher: StatusRefresher
    hibernation: HibernationService
    deploy: DeployService
    rollback: RollbackService
    bulk: BulkService
    leases: LeaseManager
    presence: ServerPresence
    reconciler: Reconciler
    status_feed: StatusFeed
    caches: ClusterCaches
    elections: Elections
    observer: ClusterObserver
    cache_keeper: CacheKeeper
    cluster_health: ClusterHealth
    scheduler: Scheduler


def build_services(
    settings: Settings,
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    registry: ClusterRegistry,
    metrics: Metrics | None = None,
) -> Services:
    caches = ClusterCaches(registry)
    deadline = settings.statefulset_progress_deadline_seconds
    live_status = LiveStatusService(
        session_factory,
        registry,
        caches=caches if settings.watch_clusters else None,
        stateful_set_deadline_seconds=deadline,
    )
    access = TargetAccess(session_factory, registry, stateful_set_deadline_seconds=deadline)
    presence = ServerPresence(
        session_factory, heartbeat_seconds=settings.heartbeat_seconds, timeout_seconds=settings.server_timeout_seconds
    )
    leases = LeaseManager(
        session_factory,
        settings.lease_seconds,
        on_conflict=None if metrics is None else metrics.lease_conflicts.inc,
        presence=presence,
    )
    hibernation = HibernationService(access, leases, write_seconds=settings.cluster_timeout_seconds)
    refresher = StatusRefresher(
        session_factory,
        live_status,
        settings.status_refresh_seconds,
        on_round=None if metrics is None else metrics.refreshed,
    )
    # What changed in the clusters while the database was away is recorded once it is back.
    presence.on_back = refresher.refresh_soon
    elections = Elections(session_factory, presence, interval=settings.heartbeat_seconds)
    observer = ClusterObserver(session_factory, live_status, caches, elections)
    deploy = DeployService(access, leases, hibernation, settings)
    bulk = BulkService(session_factory, settings.bulk_concurrency)
    scheduler = Scheduler(session_factory, hibernation, bulk, elections, tick_seconds=settings.scheduler_tick_seconds)
    return Services(
        live_status=live_status,
        refresher=refresher,
        hibernation=hibernation,
        deploy=deploy,
        rollback=RollbackService(access, deploy),
        bulk=bulk,
        leases=leases,
        presence=presence,
        reconciler=Reconciler(
            session_factory,
            Settler(access, presence.now),
            presence,
            lease_seconds=settings.lease_seconds,
            interval_seconds=settings.reconcile_seconds,
        ),
        status_feed=StatusFeed(session_factory, engine),
        caches=caches,
        elections=elections,
        observer=observer,
        # Clusters created on another server get their cache here within a heartbeat.
        cache_keeper=CacheKeeper(session_factory, caches, observer, interval=settings.heartbeat_seconds),
        cluster_health=ClusterHealth(settings.cluster_timeout_seconds),
        scheduler=scheduler,
    )
