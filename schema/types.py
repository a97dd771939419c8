"""The object types of the graph. Built from database rows; related objects come through dataloaders."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Annotated, Any, Self, TypeVar

import strawberry
from strawberry import relay
from strawberry.dataloader import DataLoader

from app.db import models
from schema.context import Info
from schema.enums import AppStatus
from schema.history import Deployment, Hibernation, Transition
from schema.live_status import AppEnvironmentStatus
from schema.pagination import DEFAULT_PAGE_SIZE, Connection, history_connection, node_keys
from schema.visibility import visible_app

RowT = TypeVar("RowT")
NodeT = TypeVar("NodeT")


async def _load(loader: DataLoader[int, RowT | None], key: int, to_node: Callable[[RowT], NodeT]) -> NodeT:
    row = await loader.load(key)
    assert row is not None, "rows reference each other with foreign keys"
    return to_node(row)


_FIRST = "How many rows to return, 1 to 100 (default 20)."
_AFTER = "Return rows after this cursor (a previous page's `pageInfo.endCursor`)."


@strawberry.type(description="Whether a cluster answers, as this server sees it.")
class ClusterHealth:
    reachable: bool | None = strawberry.field(
        description="True when the API server answered (even to refuse the credentials); null when not checked."
    )
    last_contact_at: datetime | None = strawberry.field(description="When it last answered; null if not yet.")
    last_error: str | None = strawberry.field(description="What went wrong the last time; null when all was well.")


@strawberry.type(description="A Kubernetes API server Hibernia talks to. Credentials are never returned.")
class Cluster(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Unique name of the cluster.")
    server: str | None = strawberry.field(description="API server URL, when the cluster is reached by URL.")
    simulated: bool = strawberry.field(description="True for the built-in cluster simulator.")
    archived_at: datetime | None = strawberry.field(
        description="When it was deleted (archived, kept for its history); null while in use."
    )

    @strawberry.field(
        description="Whether this server reaches the cluster now (asked at most every few seconds): null for "
        "clusters reached by a kubeconfig path or in-cluster config."
    )
    async def health(self, info: Info) -> ClusterHealth:
        row = await info.context.loaders.cluster_by_id.load(self.id)
        assert row is not None
        health = await info.context.services.cluster_health.of(row)
        return ClusterHealth(
            reachable=health.reachable, last_contact_at=health.last_contact_at, last_error=health.last_error
        )

    @classmethod
    def from_row(cls, row: models.Cluster) -> Self:
        return cls(id=row.id, name=row.name, server=row.server, simulated=row.simulated, archived_at=row.archived_at)

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Self | None]:
        rows = await info.context.loaders.cluster_by_id.load_many(node_keys(node_ids))
        if info.context.principal.environments is not None:
            return [None] * len(rows)  # clusters are listed to environment-limited tokens via `clusters` only
        return [None if row is None else cls.from_row(row) for row in rows]


@strawberry.type(description="A named target for deploys: one namespace on one cluster.")
class Environment(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Unique name of the environment, e.g. `staging`.")
    namespace: str = strawberry.field(description="The Kubernetes namespace apps run in.")
    archived_at: datetime | None = strawberry.field(
        description="When it was deleted (archived, kept for its history); null while in use."
    )
    cluster_id: strawberry.Private[int]

    @strawberry.field(description="The cluster the namespace lives on.")
    async def cluster(self, info: Info) -> Cluster:
        row = await info.context.loaders.cluster_by_id.load(self.cluster_id)
        assert row is not None, "environments reference clusters with a foreign key"
        return Cluster.from_row(row)

    @classmethod
    def from_row(cls, row: models.Environment) -> Self:
        return cls(
            id=row.id, name=row.name, namespace=row.namespace, archived_at=row.archived_at, cluster_id=row.cluster_id
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Self | None]:
        rows = await info.context.loaders.environment_by_id.load_many(node_keys(node_ids))
        principal = info.context.principal
        return [None if row is None or not principal.sees(row.name) else cls.from_row(row) for row in rows]


@strawberry.type(description="An application, owned by a team, attached to any number of environments.")
class App(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Unique DNS-1123 name of the app.")
    team: str = strawberry.field(description="The team that owns the app.")
    created_at: datetime = strawberry.field(description="When the app was created.")
    archived_at: datetime | None = strawberry.field(
        description="When it was deleted (archived, kept for its history); null while in use."
    )

    @strawberry.field(description="The environments this app is attached to, with recorded status, by name.")
    async def environments(self, info: Info) -> list[AppEnvironment]:
        rows = await info.context.loaders.app_environments_by_app_id.load(self.id)
        principal = info.context.principal
        return [
            AppEnvironment.from_row(row, environment=row.environment)
            for row in rows
            if principal.sees(row.environment.name)
        ]

    @classmethod
    def from_row(cls, row: models.App) -> Self:
        return cls(id=row.id, name=row.name, team=row.team, created_at=row.created_at, archived_at=row.archived_at)

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Self | None]:
        rows = await info.context.loaders.app_by_id.load_many(node_keys(node_ids))
        return [None if row is None or not await visible_app(info, row.id) else cls.from_row(row) for row in rows]


@strawberry.type(description="An app attached to an environment, with its recorded status.")
class AppEnvironment(relay.Node):
    id: relay.NodeID[int]
    release_name: str = strawberry.field(description="The release whose workloads make up the app here.")
    desired_replicas: int = strawberry.field(description="Replicas the main workload runs with when awake.")
    status: AppStatus = strawberry.field(
        description="The recorded status: what Hibernia last observed. Cheap; lists filter on it."
    )
    status_reason: str = strawberry.field(description="Why the recorded status is what it is, in words.")
    status_since: datetime = strawberry.field(description="When the recorded status last changed.")
    status_observed_at: datetime | None = strawberry.field(
        description="When the status was last checked against the cluster; null if never."
    )
    archived_at: datetime | None = strawberry.field(
        description="When the app was detached from the environment (kept for its history); null while attached."
    )
    app_id: strawberry.Private[int]
    environment_id: strawberry.Private[int]
    loaded_app: strawberry.Private[models.App | None] = None
    loaded_environment: strawberry.Private[models.Environment | None] = None

    @strawberry.field(
        description="The status read from the cluster now (batched: one LIST per workload kind for the "
        "whole request, per namespace where Hibernia may not list across namespaces). Also refreshes the "
        "recorded status."
    )
    async def live_status(self, info: Info) -> AppEnvironmentStatus:
        return AppEnvironmentStatus.from_live(
            await info.context.loaders.live_status_by_app_environment_id.load(self.id)
        )

    @strawberry.field(description="Deployments to this app environment, newest first.")
    async def deployments(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description=_FIRST)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=_AFTER)] = None,
    ) -> Connection[Deployment]:
        loaders = info.context.loaders
        return await history_connection(
            self.id,
            first,
            after,
            "deployments",
            loaders.deployments_page_by_app_environment_id,
            loaders.deployments_count_by_app_environment_id,
            Deployment.from_row,
        )

    @strawberry.field(description="Status transitions and operations (the audit trail), newest first.")
    async def transitions(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description=_FIRST)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=_AFTER)] = None,
    ) -> Connection[Transition]:
        loaders = info.context.loaders
        return await history_connection(
            self.id,
            first,
            after,
            "transitions",
            loaders.transitions_page_by_app_environment_id,
            loaders.transitions_count_by_app_environment_id,
            Transition.from_row,
        )

    @strawberry.field(
        description="What hibernation recorded (per workload: original replicas, since, by whom); "
        "null when nothing is hibernated."
    )
    async def hibernation(self, info: Info) -> Hibernation | None:
        return Hibernation.from_rows(await info.context.loaders.hibernation_records_by_app_environment_id.load(self.id))

    @strawberry.field(
        description="Until when schedules leave it awake (a `keepAwake`, or a manual wake inside a sleep window); "
        "null when no schedule is held off."
    )
    async def keep_awake_until(self, info: Info) -> datetime | None:
        hold = await info.context.loaders.schedule_hold_by_app_environment_id.load(self.id)
        if hold is None or not hold.awake or hold.until <= info.context.services.scheduler.clock():
            return None
        return hold.until

    @strawberry.field(description="The app.")
    def app(self, info: Info) -> App:
        # Synchronous when the row came with the page (the common case): no coroutine per row.
        if self.loaded_app is not None:
            return App.from_row(self.loaded_app)
        return _load(info.context.loaders.app_by_id, self.app_id, App.from_row)  # type: ignore[return-value]

    @strawberry.field(description="The environment.")
    def environment(self, info: Info) -> Environment:
        if self.loaded_environment is not None:
            return Environment.from_row(self.loaded_environment)
        return _load(  # type: ignore[return-value]
            info.context.loaders.environment_by_id, self.environment_id, Environment.from_row
        )

    @classmethod
    def from_row(cls, row: models.AppEnvironment, *, app: models.App | None = None, environment: Any = None) -> Self:
        return cls(
            id=row.id,
            release_name=row.release_name,
            desired_replicas=row.desired_replicas,
            status=AppStatus(row.status.value),
            status_reason=row.status_reason,
            status_since=row.status_since,
            status_observed_at=row.status_observed_at,
            archived_at=row.archived_at,
            app_id=row.app_id,
            environment_id=row.environment_id,
            loaded_app=app,
            loaded_environment=environment,
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[Self | None]:
        rows = await info.context.loaders.app_environment_by_id.load_many(node_keys(node_ids))
        principal = info.context.principal
        return [
            None
            if row is None or not principal.sees(row.environment.name)
            else cls.from_row(row, app=row.app, environment=row.environment)
            for row in rows
        ]
