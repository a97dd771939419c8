"""The relational model. Relationships are lazy="raise": every query states what it loads."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from app.db.types import UtcDateTime, utcnow
from app.domain.status import AppStatus, RecordedHibernation
from app.domain.workloads import WorkloadKind

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class DeploymentOutcome(StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"
    # The release was sent but the cluster's answer was lost and it could not be read back: it may
    # be running. The reconciler makes it SUCCEEDED or FAILED from what the cluster shows.
    UNCONFIRMED = "UNCONFIRMED"


class TransitionCause(StrEnum):
    OBSERVED = "OBSERVED"
    DEPLOY = "DEPLOY"
    HIBERNATE = "HIBERNATE"
    UNHIBERNATE = "UNHIBERNATE"
    ATTACH = "ATTACH"
    SCHEDULE = "SCHEDULE"


def _str_enum(enum_cls: type[StrEnum], name: str) -> Enum:
    # Stored as plain strings (no native PostgreSQL enum) so adding a value never needs a type migration.
    return Enum(enum_cls, name=name, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


def _unique_live_name(table: str) -> Index:
    # Names are unique among rows not archived: a deleted one's name may be used again, its rows stay.
    live = text("archived_at IS NULL")
    return Index(f"uq_{table}_name_live", "name", unique=True, sqlite_where=live, postgresql_where=live)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Cluster(Base):
    __tablename__ = "clusters"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63))
    server: Mapped[str | None] = mapped_column(String(2048))
    token: Mapped[str | None] = mapped_column(Text)
    ca_data: Mapped[str | None] = mapped_column(Text)
    # A client certificate and key (base64 of PEM, as in a kubeconfig), for clusters that take them.
    client_certificate_data: Mapped[str | None] = mapped_column(Text)
    client_key_data: Mapped[str | None] = mapped_column(Text)
    insecure_skip_tls_verify: Mapped[bool] = mapped_column(Boolean, default=False)
    kubeconfig_path: Mapped[str | None] = mapped_column(String(4096))
    kubeconfig_context: Mapped[str | None] = mapped_column(String(253))
    in_cluster: Mapped[bool] = mapped_column(Boolean, default=False)
    simulated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Deleted: kept (with what used it) so the audit trail stays whole; never used again.
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (_unique_live_name("clusters"),)


class Environment(Base):
    __tablename__ = "environments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63))
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="RESTRICT"), index=True)
    namespace: Mapped[str] = mapped_column(String(63))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    cluster: Mapped[Cluster] = relationship(lazy="raise")

    __table_args__ = (_unique_live_name("environments"),)


class App(Base):
    __tablename__ = "apps"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63))
    team: Mapped[str] = mapped_column(String(63))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    environments: Mapped[list[AppEnvironment]] = relationship(lazy="raise", back_populates="app")

    __table_args__ = (
        Index("ix_apps_team_name", "team", "name"),
        _unique_live_name("apps"),
    )


class AppEnvironment(Base):
    """An app attached to an environment, with its recorded status."""

    __tablename__ = "app_environments"

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="RESTRICT"))
    release_name: Mapped[str] = mapped_column(String(53))
    desired_replicas: Mapped[int] = mapped_column(Integer, default=1)
    # The recorded status: what Hibernia last observed. Lists and filters read only these columns.
    status: Mapped[AppStatus] = mapped_column(_str_enum(AppStatus, "app_status"), default=AppStatus.NOT_DEPLOYED)
    status_reason: Mapped[str] = mapped_column(Text, default="Never deployed")
    status_since: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    status_observed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The cluster's resourceVersion the recorded status was derived from (an etcd revision): an
    # observation of an older view never overwrites it. None where versions are not numbers.
    status_version: Mapped[int | None] = mapped_column(BigInteger)
    # When the last unhibernate that changed something started; cleared once the app is HEALTHY or a
    # later deploy or hibernate takes over. The status rules judge WAKING against it.
    wake_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Detached: kept with its history, out of every list and operation; attaching again revives it.
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    app: Mapped[App] = relationship(lazy="raise", back_populates="environments")
    environment: Mapped[Environment] = relationship(lazy="raise")

    __table_args__ = (
        UniqueConstraint("app_id", "environment_id"),
        # Status filters join from apps by app_id, or scan one environment by status.
        Index("ix_app_environments_app_id_status", "app_id", "status"),
        Index("ix_app_environments_environment_id_status", "environment_id", "status"),
        Index("ix_app_environments_status_app_id", "status", "app_id"),
    )


class Deployment(Base):
    __tablename__ = "deployments"

    id: Mapped[int] = mapped_column(primary_key=True)
    app_environment_id: Mapped[int] = mapped_column(ForeignKey("app_environments.id", ondelete="CASCADE"))
    image: Mapped[str] = mapped_column(String(1024))
    on_hibernated: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[DeploymentOutcome] = mapped_column(
        _str_enum(DeploymentOutcome, "deployment_outcome"), default=DeploymentOutcome.RUNNING
    )
    error: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(253))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # A rollback's link to the deployment it rolled back (the release that ran before it).
    rolled_back_from_id: Mapped[int | None] = mapped_column(ForeignKey("deployments.id", ondelete="SET NULL"))

    __table_args__ = (
        Index("ix_deployments_app_environment_id_id", "app_environment_id", "id"),
        # The reconciler looks for deployments without an outcome: few among many.
        Index("ix_deployments_outcome", "outcome"),
    )


class HibernationRecord(Base):
    """Per workload, what hibernation changed, so unhibernate can restore it exactly."""

    __tablename__ = "hibernation_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    app_environment_id: Mapped[int] = mapped_column(ForeignKey("app_environments.id", ondelete="CASCADE"))
    workload_kind: Mapped[WorkloadKind] = mapped_column(_str_enum(WorkloadKind, "workload_kind"))
    workload_name: Mapped[str] = mapped_column(String(253))
    original_replicas: Mapped[int | None] = mapped_column(Integer)
    original_suspend: Mapped[bool | None] = mapped_column(Boolean)
    actor: Mapped[str] = mapped_column(String(253))
    since: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("app_environment_id", "workload_kind", "workload_name"),)

    def as_recorded(self) -> RecordedHibernation:
        """The record as the status rules see it."""
        return RecordedHibernation(
            kind=self.workload_kind,
            name=self.workload_name,
            original_replicas=self.original_replicas,
            original_suspend=self.original_suspend,
            since=self.since,
            actor=self.actor,
        )


class Transition(Base):
    """One audit row: a status change and what caused it."""

    __tablename__ = "transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    app_environment_id: Mapped[int] = mapped_column(ForeignKey("app_environments.id", ondelete="CASCADE"))
    from_status: Mapped[AppStatus] = mapped_column(_str_enum(AppStatus, "app_status"))
    to_status: Mapped[AppStatus] = mapped_column(_str_enum(AppStatus, "app_status"))
    cause: Mapped[TransitionCause] = mapped_column(_str_enum(TransitionCause, "transition_cause"))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(253))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (Index("ix_transitions_app_environment_id_id", "app_environment_id", "id"),)


class Server(Base):
    """A running Hibernia server process. It proves it is alive by a heartbeat; a server whose
    heartbeat stopped is dead, and what it held is settled by the others."""

    __tablename__ = "servers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    host: Mapped[str] = mapped_column(String(253))
    pid: Mapped[int] = mapped_column(Integer)
    # Host name and process id namespace: servers on one machine can see whether the others' processes
    # still exist, and need not wait for a heartbeat to time out. None where that cannot be known.
    machine: Mapped[str | None] = mapped_column(String(300))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Election(Base):
    """A role one server holds at a time (observing a cluster, running schedules), like a lease of
    its own: free when unheld, expired, or held by a server that is dead or gone."""

    __tablename__ = "elections"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    server_id: Mapped[str | None] = mapped_column(String(32))
    acquired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class OperationLease(Base):
    """One row per app environment; an operation of a live server holds it until `expires_at`.

    A lease whose holder is set but whose server is dead, or which expired, is left to settle: the
    reconciler takes it, makes the records true to the cluster, and frees it. `operation` and `actor`
    stay what the interrupted operation was, for the audit row the settling writes.
    """

    __tablename__ = "operation_leases"

    app_environment_id: Mapped[int] = mapped_column(
        ForeignKey("app_environments.id", ondelete="CASCADE"), primary_key=True
    )
    holder: Mapped[str | None] = mapped_column(String(253), index=True)
    server_id: Mapped[str | None] = mapped_column(String(32))
    operation: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(253))
    acquired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Why it waits to be settled, once it does: the cluster's answer was lost, the database was away.
    unsettled: Mapped[str | None] = mapped_column(String(64))


class Schedule(Base):
    """A recurring sleep/wake rule for apps of one environment, run by the elected scheduler."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="RESTRICT"), index=True)
    # Named apps; None: every app attached to the environment, now and later, narrowed by teams and exclusions.
    apps: Mapped[list[str] | None] = mapped_column(JSON)
    teams: Mapped[list[str] | None] = mapped_column(JSON)
    exclude_apps: Mapped[list[str]] = mapped_column(JSON, default=list)
    time_zone: Mapped[str] = mapped_column(String(64))
    # Weekday names, comma-separated in week order ("MONDAY,FRIDAY").
    weekdays: Mapped[str] = mapped_column(String(80))
    sleep_at: Mapped[str] = mapped_column(String(5))
    wake_at: Mapped[str | None] = mapped_column(String(5))
    # None: hibernate to 0; N >= 1: reduced mode.
    reduce_to: Mapped[int | None] = mapped_column(Integer)
    paused_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The last failure of the scheduler on it, kept until a tick succeeds; retried from `retry_at`.
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    environment: Mapped[Environment] = relationship(lazy="raise")


class ScheduleHold(Base):
    """A manual choice the schedules respect until `until`: keep awake, or leave asleep."""

    __tablename__ = "schedule_holds"

    app_environment_id: Mapped[int] = mapped_column(
        ForeignKey("app_environments.id", ondelete="CASCADE"), primary_key=True
    )
    awake: Mapped[bool] = mapped_column(Boolean)
    until: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(253))
    # True for `keepAwake`; False for a hold a manual hibernate or wake left until the next boundary.
    explicit: Mapped[bool] = mapped_column(Boolean, default=False)


class ApiToken(Base):
    """An API token; only its SHA-256 is stored, the token itself is shown once at creation."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    environments: Mapped[list[ApiTokenEnvironment]] = relationship(lazy="raise", cascade="all, delete-orphan")


class ApiTokenEnvironment(Base):
    """An environment a token is limited to; a token without rows here reaches every environment."""

    __tablename__ = "api_token_environments"

    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True)
    # RESTRICT: deleting an environment must never silently widen a token limited to it.
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="RESTRICT"), primary_key=True)
