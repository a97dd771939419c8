"""What every operation on one app environment starts from: the row, its cluster and its workloads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.cluster.gateway import ClusterError, ClusterGateway, ClusterUnavailable, InvalidWorkload, WriteOutcomeUnknown
from app.cluster.registry import ClusterRegistry
from app.db.models import AppEnvironment, HibernationRecord, TransitionCause
from app.db.repositories.catalog import CatalogRepository
from app.db.repositories.status import LeftBehind, StatusRepository
from app.domain.errors import ErrorCode, HiberniaError
from app.domain.status import DerivedStatus
from app.domain.status_rules import DEFAULT_STATEFUL_SET_DEADLINE_SECONDS, derive_status
from app.domain.workloads import Workload
from app.services.catalog import missing_attachment
from app.services.live_status import LiveStatus, access_of
from app.services.release_reads import current_batcher
from app.services.workload_lists import read_releases
from app.services.workload_writes import KeptChanging, NotApplied


@dataclass(frozen=True, slots=True)
class Target:
    row: AppEnvironment

    @property
    def id(self) -> int:
        return self.row.id

    @property
    def namespace(self) -> str:
        return self.row.environment.namespace

    @property
    def release(self) -> str:
        return self.row.release_name

    @property
    def label(self) -> str:
        return f"App '{self.row.app.name}' on environment '{self.row.environment.name}'"


def cluster_error(error: ClusterError, target: Target) -> HiberniaError:
    """The payload error for a cluster failure, saying only what is known of what was changed."""
    environment = f"The cluster of environment '{target.row.environment.name}'"
    if isinstance(error, KeptChanging):
        return conflict_error(target, error.workload.name)
    if isinstance(error, WriteOutcomeUnknown):
        return HiberniaError(
            ErrorCode.CLUSTER_UNAVAILABLE,
            f"{environment} did not answer a change ({error.reason}), and it could not be read back: the change "
            f"may have landed. Hibernia checks {target.label} against the cluster once it answers and records what "
            "it finds; look at its status in a minute, or retry.",
        )
    if isinstance(error, NotApplied):
        return HiberniaError(
            ErrorCode.CLUSTER_UNAVAILABLE,
            f"{environment} did not confirm a change ({error.reason}), so nothing more was changed. "
            "Retry when it is reachable.",
        )
    if not isinstance(error, ClusterUnavailable):
        # A workload that vanished or was refused mid-operation: the state read is no longer true.
        return HiberniaError(
            ErrorCode.CONFLICT,
            f"{target.label}: the cluster changed while the operation ran ({error}); nothing more was changed. "
            "Retry to act on what is there now.",
        )
    return HiberniaError(
        ErrorCode.CLUSTER_UNAVAILABLE,
        f"{environment} did not answer ({error.reason}); nothing more was changed. Retry when it is reachable.",
    )


def not_recorded(target: Target) -> HiberniaError:
    """The operation reached the cluster, but the database did not answer when it was recorded."""
    return HiberniaError(
        ErrorCode.SERVICE_UNAVAILABLE,
        f"{target.label}: the cluster was changed, but Hibernia's database did not answer while recording it. "
        "Nothing is lost: Hibernia records it from the cluster as soon as the database is back.",
    )


def conflict_error(target: Target, name: str) -> HiberniaError:
    return HiberniaError(
        ErrorCode.CONFLICT,
        f"{target.label}: workload '{name}' kept changing while being updated. Someone else is changing it; "
        "retry later.",
    )


def invalid_workload_error(error: InvalidWorkload) -> HiberniaError:
    return HiberniaError(ErrorCode.INVALID_INPUT, f"The cluster rejected the change: {error.message}")


class TargetAccess:
    """Loads targets and their workloads; records what an operation leaves behind."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        registry: ClusterRegistry,
        stateful_set_deadline_seconds: int = DEFAULT_STATEFUL_SET_DEADLINE_SECONDS,
    ) -> None:
        self.session_factory = session_factory
        self.registry = registry
        self.stateful_set_deadline_seconds = stateful_set_deadline_seconds

    async def resolve(self, app_name: str, environment_name: str) -> Target:
        found = (await self.resolve_many([app_name], environment_name))[app_name]
        if isinstance(found, HiberniaError):
            raise found
        return found

    async def resolve_many(self, app_names: Sequence[str], environment_name: str) -> dict[str, Target | HiberniaError]:
        """Each app's target in one environment, in one statement; why not, for the apps without one."""
        async with self.session_factory() as session:
            rows = await StatusRepository(session).targets_by_names(app_names, environment_name)
            found: dict[str, Target | HiberniaError] = {row.app.name: Target(row) for row in rows}
            for name in app_names:
                if name not in found:
                    found[name] = await missing_attachment(CatalogRepository(session), name, environment_name)
        return found

    async def gateway(self, target: Target) -> ClusterGateway:
        return await self.registry.gateway(access_of(target.row.environment.cluster))

    async def read_workloads(self, gateway: ClusterGateway, target: Target) -> list[Workload]:
        batcher = current_batcher()
        if batcher is not None:
            cluster_id = target.row.environment.cluster_id
            return await batcher.read(gateway, cluster_id, target.namespace, target.release)
        return (await read_releases(gateway, target.namespace, [target.release]))[target.release]

    async def records(self, target: Target) -> list[HibernationRecord]:
        async with self.session_factory() as session:
            return (await StatusRepository(session).hibernation_records([target.id])).get(target.id, [])

    def derive(
        self,
        target: Target,
        workloads: Sequence[Workload],
        records: Sequence[HibernationRecord],
        *,
        now: datetime,
        ever_deployed: bool = True,
        wake_started_at: datetime | None = None,
    ) -> DerivedStatus:
        return derive_status(
            workloads=workloads,
            ever_deployed=ever_deployed,
            hibernation={(r.workload_kind, r.workload_name): r.as_recorded() for r in records},
            wake_started_at=wake_started_at,
            now=now,
            stateful_set_deadline_seconds=self.stateful_set_deadline_seconds,
        )

    async def record_status(
        self,
        session: AsyncSession,
        target: Target,
        derived: DerivedStatus,
        *,
        cause: TransitionCause,
        actor: str,
        at: datetime,
        woke: bool = False,
        version: int | None = None,
    ) -> LiveStatus:
        left = LeftBehind(target.id, derived.status, derived.reason, at, woke, version=version)
        await StatusRepository(session).record_operations([left], cause=cause, actor=actor)
        return LiveStatus(target.id, derived, at)
