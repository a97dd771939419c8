"""What status derivation needs from the database, and the recording of what was observed."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, case, func, literal, or_, select, true, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.db.feed import record_transitions
from app.db.ids import one_of
from app.db.models import (
    App,
    AppEnvironment,
    Cluster,
    Deployment,
    DeploymentOutcome,
    Environment,
    HibernationRecord,
    OperationLease,
    TransitionCause,
)
from app.db.types import UtcDateTime
from app.domain.status import AppStatus


@dataclass(frozen=True, slots=True)
class Observation:
    app_environment_id: int
    previous: AppStatus
    status: AppStatus
    reason: str
    previous_reason: str = ""
    # The cluster's resourceVersion of the view it was derived from; None when not a number.
    version: int | None = None


_NEWEST = 2**62  # stands for "no version": compares as newer than any recorded one


def _not_older(observations: Sequence[Observation]) -> ColumnElement[bool]:
    """Rows whose recorded status comes from a view no newer than these observations'."""
    versions = {o.app_environment_id: o.version for o in observations if o.version is not None}
    if not versions:
        return true()
    return or_(
        AppEnvironment.status_version.is_(None),
        AppEnvironment.status_version <= case(versions, value=AppEnvironment.id, else_=_NEWEST),
    )


def _version_after(observations: Sequence[Observation]) -> Any:
    versions = {o.app_environment_id: o.version for o in observations if o.version is not None}
    if not versions:
        return AppEnvironment.status_version
    return case(versions, value=AppEnvironment.id, else_=AppEnvironment.status_version)


@dataclass(frozen=True, slots=True)
class ObservationTarget:
    """What observing an app environment needs of it: fewer columns than the entity, and no
    identity-map bookkeeping for the hundreds of rows a live page observes."""

    id: int
    release_name: str
    status: AppStatus
    status_reason: str
    wake_started_at: datetime | None
    namespace: str
    cluster: Cluster

    @classmethod
    def of(cls, row: AppEnvironment) -> ObservationTarget:
        """From an attachment loaded with its environment and cluster."""
        environment = row.environment
        return cls(
            row.id,
            row.release_name,
            row.status,
            row.status_reason,
            row.wake_started_at,
            environment.namespace,
            environment.cluster,
        )


@dataclass(frozen=True, slots=True)
class LeftBehind:
    """The status an operation leaves an app environment in."""

    app_environment_id: int
    status: AppStatus
    reason: str
    at: datetime  # when the operation saw it
    woke: bool = False
    note: str | None = None  # for the audit row only, after the status reason
    version: int | None = None  # the resourceVersion of what the operation saw or wrote last


_OBSERVATION_TARGETS = (
    select(
        AppEnvironment.id,
        AppEnvironment.release_name,
        AppEnvironment.status,
        AppEnvironment.status_reason,
        AppEnvironment.wake_started_at,
        Environment.namespace,
        Cluster,
    )
    .join(Environment, Environment.id == AppEnvironment.environment_id)
    .join(Cluster, Cluster.id == Environment.cluster_id)
)

# Selected as four entities and wired by hand: contains_eager options cost more to cache-key than the
# query costs to run, and every operation and observation starts here.
_TARGETS = (
    select(AppEnvironment, App, Environment, Cluster)
    .join(App, App.id == AppEnvironment.app_id)
    .join(Environment, Environment.id == AppEnvironment.environment_id)
    .join(Cluster, Cluster.id == Environment.cluster_id)
)


def _wired(rows: Sequence[Row[AppEnvironment, App, Environment, Cluster]]) -> list[AppEnvironment]:
    targets = []
    for target, app, environment, cluster in rows:
        set_committed_value(environment, "cluster", cluster)
        set_committed_value(target, "app", app)
        set_committed_value(target, "environment", environment)
        targets.append(target)
    return targets


class StatusRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def observation_targets(self, ids: Sequence[int]) -> list[ObservationTarget]:
        query = _OBSERVATION_TARGETS.where(one_of(self.session, AppEnvironment.id, ids))
        return [ObservationTarget(*row) for row in await self.session.execute(query)]

    async def idle_targets_of_releases(
        self, cluster_id: int, releases: Collection[tuple[str, str]] | None
    ) -> list[ObservationTarget]:
        """The app environments of these (namespace, release) pairs of a cluster (all its releases when
        None) that no operation holds now: an operation records what it did itself."""
        query = _OBSERVATION_TARGETS.join(OperationLease, OperationLease.app_environment_id == AppEnvironment.id).where(
            Environment.cluster_id == cluster_id, OperationLease.holder.is_(None), AppEnvironment.archived_at.is_(None)
        )
        if releases is not None:
            if not releases:
                return []
            query = query.where(tuple_(Environment.namespace, AppEnvironment.release_name).in_(sorted(releases)))
        return [ObservationTarget(*row) for row in await self.session.execute(query)]

    async def targets_by_ids(self, ids: Sequence[int]) -> list[AppEnvironment]:
        return _wired((await self.session.execute(_TARGETS.where(one_of(self.session, AppEnvironment.id, ids)))).all())

    async def targets_by_names(self, app_names: Sequence[str], environment_name: str) -> list[AppEnvironment]:
        query = _TARGETS.where(
            App.name.in_(app_names),
            Environment.name == environment_name,
            AppEnvironment.archived_at.is_(None),
            App.archived_at.is_(None),
            Environment.archived_at.is_(None),
        )
        return _wired((await self.session.execute(query)).all())

    async def record_operations(self, left: Sequence[LeftBehind], *, cause: TransitionCause, actor: str) -> set[int]:
        """Stores the statuses operations left behind (they hold the leases, so they have the last word).

        Three statements for any number of app environments. On PostgreSQL the rows are locked first,
        in id order (FOR NO KEY UPDATE, which leaves inserts referencing them free), so the previous
        status is the one replaced and two batches never wait on each other in a cycle. SQLite has
        no row locks and takes its write lock at the UPDATE: an observation committed in between can
        make the transition's from-status the one before it (as before batching). Every operation leaves an audit row,
        even when the status did not change; returns the ids whose status changed.
        """
        if not left:
            return set()
        left = sorted(left, key=lambda item: item.app_environment_id)
        previous = {
            row.id: (row.status, row.status_since)
            for row in await self.session.execute(
                select(AppEnvironment.id, AppEnvironment.status, AppEnvironment.status_since)
                .where(one_of(self.session, AppEnvironment.id, [item.app_environment_id for item in left]))
                .order_by(AppEnvironment.id)
                .with_for_update(key_share=True)
            )
        }
        changed = {item.app_environment_id for item in left if previous[item.app_environment_id][0] is not item.status}
        await self.session.execute(
            update(AppEnvironment),
            [
                {
                    "id": item.app_environment_id,
                    "status": item.status,
                    "status_reason": item.reason,
                    "status_observed_at": item.at,
                    "status_since": item.at
                    if item.app_environment_id in changed
                    else previous[item.app_environment_id][1],
                    # A wake that changed something starts the WAKING clock; anything else ends it.
                    "wake_started_at": item.at if item.woke and item.status is not AppStatus.HEALTHY else None,
                    "status_version": item.version,
                }
                for item in left
            ],
        )
        await record_transitions(
            self.session,
            [
                {
                    "app_environment_id": item.app_environment_id,
                    "from_status": previous[item.app_environment_id][0] or item.status,
                    "to_status": item.status,
                    "cause": cause,
                    "reason": f"{item.reason} ({item.note})" if item.note else item.reason,
                    "actor": actor,
                    "at": item.at,
                }
                for item in left
            ],
        )
        return changed

    async def all_target_ids(self) -> list[int]:
        """Every app environment, grouped by environment so a batch shares namespaces."""
        query = (
            select(AppEnvironment.id)
            .where(AppEnvironment.archived_at.is_(None))
            .order_by(AppEnvironment.environment_id, AppEnvironment.id)
        )
        return list(await self.session.scalars(query))

    async def hibernation_records(self, ids: Sequence[int]) -> dict[int, list[HibernationRecord]]:
        rows = await self.session.scalars(
            select(HibernationRecord).where(one_of(self.session, HibernationRecord.app_environment_id, ids))
        )
        grouped: dict[int, list[HibernationRecord]] = {}
        for row in rows:
            grouped.setdefault(row.app_environment_id, []).append(row)
        return grouped

    async def last_deploys(self, ids: Sequence[int]) -> dict[int, datetime]:
        query = (
            select(Deployment.app_environment_id, func.max(Deployment.started_at))
            # Only releases that reached the cluster: a refused or failed first deploy leaves NOT_DEPLOYED.
            .where(
                one_of(self.session, Deployment.app_environment_id, ids),
                Deployment.outcome == DeploymentOutcome.SUCCEEDED,
            )
            .group_by(Deployment.app_environment_id)
        )
        return {row[0]: _aware(row[1]) for row in await self.session.execute(query)}

    async def record(
        self, observations: Sequence[Observation], *, cause: TransitionCause, actor: str, at: datetime
    ) -> list[Observation]:
        """Stores what was observed in at most three statements; returns the status changes made.

        Changes are written with one UPDATE conditional on each row's previous status, so two
        observers racing never both write a transition for the same change, and on the version of the
        view: an observation of an older view than the one recorded changes nothing.
        """
        differing = [o for o in observations if o.status is not o.previous or o.reason != o.previous_reason]
        differing_ids = {o.app_environment_id for o in differing}
        unchanged_ids = [o.app_environment_id for o in observations if o.app_environment_id not in differing_ids]
        changed: list[Observation] = []
        if differing:
            by_id = {o.app_environment_id: o for o in differing}
            status_changes = [i for i, o in by_id.items() if o.status is not o.previous]
            healthy = [i for i, o in by_id.items() if o.status is AppStatus.HEALTHY]
            result = await self.session.execute(
                update(AppEnvironment)
                .where(
                    tuple_(AppEnvironment.id, AppEnvironment.status).in_(
                        [(o.app_environment_id, o.previous.value) for o in differing]
                    ),
                    _not_older(differing),
                )
                .values(
                    status_version=_version_after(differing),
                    status=case({i: o.status.value for i, o in by_id.items()}, value=AppEnvironment.id),
                    status_reason=case({i: o.reason for i, o in by_id.items()}, value=AppEnvironment.id),
                    status_since=case(
                        (AppEnvironment.id.in_(status_changes), literal(at, UtcDateTime())),
                        else_=AppEnvironment.status_since,
                    ),
                    # A wake ends once the app is seen healthy.
                    wake_started_at=case(
                        (AppEnvironment.id.in_(healthy), None),
                        else_=AppEnvironment.wake_started_at,
                    ),
                    status_observed_at=at,
                )
                .returning(AppEnvironment.id)
                .execution_options(synchronize_session=False)
            )
            written = set(result.scalars())
            changed = [by_id[i] for i in status_changes if i in written]
        if changed:
            await record_transitions(
                self.session,
                [
                    {
                        "app_environment_id": o.app_environment_id,
                        "from_status": o.previous,
                        "to_status": o.status,
                        "cause": cause,
                        "reason": o.reason,
                        "actor": actor,
                        "at": at,
                    }
                    for o in changed
                ],
            )
        if unchanged_ids:
            unchanged = [o for o in observations if o.app_environment_id in set(unchanged_ids)]
            await self.session.execute(
                update(AppEnvironment)
                .where(one_of(self.session, AppEnvironment.id, unchanged_ids), _not_older(unchanged))
                .values(status_observed_at=at, status_version=_version_after(unchanged))
                .execution_options(synchronize_session=False)
            )
        return changed


def _aware(value: datetime | str) -> datetime:
    # Aggregates bypass the column type's result processing on SQLite.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
