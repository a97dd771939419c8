"""All configuration, read once from the environment (and an optional `.env` file)."""

from __future__ import annotations

import os
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def default_database_path() -> Path:
    """The per-user data file used when HIBERNIA_DATABASE_URL is not set: absolute, so the command
    finds the same database from any directory ($XDG_DATA_HOME, else ~/.local/share)."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home).expanduser().resolve() / "hibernia" / "hibernia.db"


def default_database_url() -> str:
    return f"sqlite+aiosqlite:///{default_database_path().as_posix()}"


class RunMode(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class HibernatedPolicySetting(StrEnum):
    REFUSE = "REFUSE"
    SKIP = "SKIP"
    WAKE = "WAKE"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field(
        default_factory=default_database_url, validation_alias=AliasChoices("HIBERNIA_DATABASE_URL")
    )
    # The exact name Devtron uses, so operators can carry their setting over unchanged.
    fetch_helm_pipeline_app_status: bool = Field(
        default=True, validation_alias=AliasChoices("FETCH_HELM_PIPELINE_APP_STATUS")
    )
    default_on_hibernated: HibernatedPolicySetting = Field(
        default=HibernatedPolicySetting.REFUSE,
        validation_alias=AliasChoices("HIBERNIA_DEFAULT_ON_HIBERNATED"),
    )
    status_refresh_seconds: float = Field(
        default=30.0, ge=0, validation_alias=AliasChoices("HIBERNIA_STATUS_REFRESH_SECONDS")
    )
    cluster_timeout_seconds: float = Field(
        default=10.0, gt=0, validation_alias=AliasChoices("HIBERNIA_CLUSTER_TIMEOUT_SECONDS")
    )
    cluster_rate_limit_per_second: float = Field(
        default=20.0, gt=0, validation_alias=AliasChoices("HIBERNIA_CLUSTER_RATE_LIMIT")
    )
    cluster_rate_limit_burst: int = Field(
        default=40, ge=1, validation_alias=AliasChoices("HIBERNIA_CLUSTER_RATE_BURST")
    )
    lease_seconds: float = Field(default=120.0, gt=0, validation_alias=AliasChoices("HIBERNIA_LEASE_SECONDS"))
    # A server beats every heartbeat; one silent for the timeout is dead and its leases are settled
    # by the others, which look every reconcile interval: an app is free again within
    # timeout + reconcile seconds (12 by default) of its server's death.
    heartbeat_seconds: float = Field(default=3.0, gt=0, validation_alias=AliasChoices("HIBERNIA_HEARTBEAT_SECONDS"))
    server_timeout_seconds: float = Field(
        default=10.0, gt=0, validation_alias=AliasChoices("HIBERNIA_SERVER_TIMEOUT_SECONDS")
    )
    # Informer caches (LIST + WATCH) per cluster: live reads cost no request, changes are recorded
    # within seconds. Off: every live read lists, and the refresher alone catches outside changes.
    watch_clusters: bool = Field(default=True, validation_alias=AliasChoices("HIBERNIA_WATCH_CLUSTERS"))
    reconcile_seconds: float = Field(default=2.0, ge=0, validation_alias=AliasChoices("HIBERNIA_RECONCILE_SECONDS"))
    # A StatefulSet still rolling out this long after its last spec change is DEGRADED (Deployments
    # carry their own deadline in spec.progressDeadlineSeconds).
    statefulset_progress_deadline_seconds: int = Field(
        default=600, ge=1, validation_alias=AliasChoices("HIBERNIA_STATEFULSET_PROGRESS_DEADLINE_SECONDS")
    )
    # The elected scheduler: converges scheduled app environments at start-up and every tick.
    scheduler_enabled: bool = Field(default=True, validation_alias=AliasChoices("HIBERNIA_SCHEDULER_ENABLED"))
    scheduler_tick_seconds: float = Field(
        default=15.0, gt=0, le=15, validation_alias=AliasChoices("HIBERNIA_SCHEDULER_TICK_SECONDS")
    )
    bulk_concurrency: int = Field(default=8, ge=1, validation_alias=AliasChoices("HIBERNIA_BULK_CONCURRENCY"))
    max_query_depth: int = Field(default=12, ge=2, validation_alias=AliasChoices("HIBERNIA_MAX_QUERY_DEPTH"))
    max_query_tokens: int = Field(default=4000, ge=50, validation_alias=AliasChoices("HIBERNIA_MAX_QUERY_TOKENS"))
    max_query_aliases: int = Field(default=30, ge=1, validation_alias=AliasChoices("HIBERNIA_MAX_QUERY_ALIASES"))
    log_format: str | None = Field(
        default=None, pattern="^(json|text)$", validation_alias=AliasChoices("HIBERNIA_LOG_FORMAT")
    )
    env: RunMode = Field(default=RunMode.DEVELOPMENT, validation_alias=AliasChoices("HIBERNIA_ENV"))
    # Pages of these origins may open GraphQL WebSockets (subscriptions); the server's own always may.
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias=AliasChoices("HIBERNIA_ALLOWED_ORIGINS")
    )
    # In production /metrics needs a token (any role) unless this says a scraper may read it freely.
    metrics_public: bool = Field(default=False, validation_alias=AliasChoices("HIBERNIA_METRICS_PUBLIC"))
    # Move what startup allocated out of the garbage collector's reach (gc.freeze) once serving starts.
    gc_freeze: bool = Field(default=True, validation_alias=AliasChoices("HIBERNIA_GC_FREEZE"))

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        # "https://a.example, https://b.example" in the environment; a list in code.
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    @model_validator(mode="after")
    def _heartbeats_fit_the_timeout(self) -> Settings:
        if self.server_timeout_seconds <= 2 * self.heartbeat_seconds:
            raise ValueError(
                "HIBERNIA_SERVER_TIMEOUT_SECONDS must be more than twice HIBERNIA_HEARTBEAT_SECONDS, "
                "or a server that misses one beat is taken for dead"
            )
        return self

    @property
    def is_production(self) -> bool:
        return self.env is RunMode.PRODUCTION

    @property
    def json_logs(self) -> bool:
        """JSON lines unless asked otherwise; readable text by default in development."""
        return self.log_format == "json" if self.log_format else self.is_production


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
