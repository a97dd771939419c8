"""Mutations that change or delete catalog entries. Deleting archives: history keeps its rows, and
nothing is ever deleted from a Kubernetes cluster."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app.services.catalog_changes import CatalogChanges, ClusterChange
from schema.context import Info
from schema.errors import OperationError
from schema.mutations import cluster_check, run_catalog_change
from schema.types import App, AppEnvironment, Cluster, Environment

_INPUT = "What to do; see the input type for each field."
_ERRORS = "Expected failures; empty when the mutation did what was asked."


@strawberry.input(description="Change how a cluster reached by URL is reached; omitted fields stay as they are.")
class UpdateClusterInput:
    name: str = strawberry.field(description="The cluster's name.")
    server: str | None = strawberry.field(default=None, description="New API server URL.")
    token: str | None = strawberry.field(default=None, description="New bearer token (empty: none).")
    ca_data: str | None = strawberry.field(default=None, description="New base64 PEM of the CA (empty: none).")
    insecure_skip_tls_verify: bool | None = strawberry.field(
        default=None, description="Skip TLS verification (test clusters only)."
    )
    verify: bool = strawberry.field(
        default=True,
        description="Check before saving that the API server answers and the credentials may list and patch "
        "the workload kinds in the namespaces of the cluster's environments.",
    )


@strawberry.input(description="Delete a catalog entry by name.")
class DeleteByNameInput:
    name: str = strawberry.field(description="Its name.")


@strawberry.input(description="Move an environment to another cluster or namespace; omitted fields stay.")
class UpdateEnvironmentInput:
    name: str = strawberry.field(description="The environment's name.")
    cluster: str | None = strawberry.field(default=None, description="Name of the cluster it moves to.")
    namespace: str | None = strawberry.field(default=None, description="The namespace it moves to.")


@strawberry.input(description="Change an app's owning team.")
class UpdateAppInput:
    name: str = strawberry.field(description="The app's name.")
    team: str = strawberry.field(description="The owning team.")


@strawberry.input(description="Detach an app from an environment: Hibernia stops managing it there.")
class DetachAppInput:
    app: str = strawberry.field(description="The app's name.")
    environment: str = strawberry.field(description="The environment's name.")


@strawberry.type(description="The result of `updateCluster` or `deleteCluster`.")
class ClusterPayload:
    cluster: Cluster | None = strawberry.field(description="The cluster as it is now; null on error.")
    errors: list[OperationError] = strawberry.field(description=_ERRORS)


@strawberry.type(description="The result of `updateEnvironment` or `deleteEnvironment`.")
class EnvironmentPayload:
    environment: Environment | None = strawberry.field(description="The environment as it is now; null on error.")
    errors: list[OperationError] = strawberry.field(description=_ERRORS)


@strawberry.type(description="The result of `updateApp` or `deleteApp`.")
class AppPayload:
    app: App | None = strawberry.field(description="The app as it is now; null on error.")
    errors: list[OperationError] = strawberry.field(description=_ERRORS)


@strawberry.type(description="The result of `detachApp`.")
class DetachAppPayload:
    app_environment: AppEnvironment | None = strawberry.field(
        description="The detached attachment (its history stays readable); null on error."
    )
    errors: list[OperationError] = strawberry.field(description=_ERRORS)


async def _clusters_changed(info: Info, cluster_id: int) -> None:
    """This server closes its client of the cluster and syncs its caches now; other servers follow at
    the cluster's next use (the registry and the caches compare connections) or their next sync."""
    await info.context.services.live_status.registry.forget(cluster_id)
    info.context.services.cluster_health.forget(cluster_id)
    info.context.services.cache_keeper.sync_soon()


@strawberry.type(description="Change or delete catalog entries (deleting archives; history stays).")
class CatalogLifecycleMutation:
    @strawberry.mutation(description="Change how a cluster is reached (server, token, CA).")
    async def update_cluster(
        self, info: Info, input: Annotated[UpdateClusterInput, strawberry.argument(description=_INPUT)]
    ) -> ClusterPayload:
        change = ClusterChange(
            name=input.name,
            server=input.server,
            token=input.token,
            ca_data=input.ca_data,
            insecure_skip_tls_verify=input.insecure_skip_tls_verify,
        )
        check = cluster_check(info) if input.verify else None
        row, errors = await run_catalog_change(info, lambda s: CatalogChanges(s).update_cluster(change, check))
        if row is not None:
            await _clusters_changed(info, row.id)
        return ClusterPayload(cluster=None if row is None else Cluster.from_row(row), errors=errors)

    @strawberry.mutation(description="Delete a cluster no environment uses; refused naming the environments that do.")
    async def delete_cluster(
        self, info: Info, input: Annotated[DeleteByNameInput, strawberry.argument(description=_INPUT)]
    ) -> ClusterPayload:
        row, errors = await run_catalog_change(info, lambda s: CatalogChanges(s).delete_cluster(input.name))
        if row is not None:
            await _clusters_changed(info, row.id)
        return ClusterPayload(cluster=None if row is None else Cluster.from_row(row), errors=errors)

    @strawberry.mutation(description="Move an environment to another cluster or namespace.")
    async def update_environment(
        self, info: Info, input: Annotated[UpdateEnvironmentInput, strawberry.argument(description=_INPUT)]
    ) -> EnvironmentPayload:
        row, errors = await run_catalog_change(
            info,
            lambda s: CatalogChanges(s).update_environment(input.name, input.cluster, input.namespace),
            [input.name],
        )
        if row is not None:
            info.context.services.cache_keeper.sync_soon()
        return EnvironmentPayload(environment=None if row is None else Environment.from_row(row), errors=errors)

    @strawberry.mutation(
        description="Delete an environment no app is attached to and no token is limited to; refused naming them."
    )
    async def delete_environment(
        self, info: Info, input: Annotated[DeleteByNameInput, strawberry.argument(description=_INPUT)]
    ) -> EnvironmentPayload:
        row, errors = await run_catalog_change(
            info, lambda s: CatalogChanges(s).delete_environment(input.name), [input.name]
        )
        if row is not None:
            info.context.services.cache_keeper.sync_soon()
        return EnvironmentPayload(environment=None if row is None else Environment.from_row(row), errors=errors)

    @strawberry.mutation(description="Change an app's owning team.")
    async def update_app(
        self, info: Info, input: Annotated[UpdateAppInput, strawberry.argument(description=_INPUT)]
    ) -> AppPayload:
        row, errors = await run_catalog_change(info, lambda s: CatalogChanges(s).update_app(input.name, input.team))
        return AppPayload(app=None if row is None else App.from_row(row), errors=errors)

    @strawberry.mutation(
        description="Detach an app from an environment; its workloads stay in the cluster as they are. Attaching "
        "it again continues the same history."
    )
    async def detach_app(
        self, info: Info, input: Annotated[DetachAppInput, strawberry.argument(description=_INPUT)]
    ) -> DetachAppPayload:
        row, errors = await run_catalog_change(
            info, lambda s: CatalogChanges(s).detach_app(input.app, input.environment), [input.environment]
        )
        return DetachAppPayload(
            app_environment=None
            if row is None
            else AppEnvironment.from_row(row, app=row.app, environment=row.environment),
            errors=errors,
        )

    @strawberry.mutation(
        description="Delete an app attached nowhere; refused naming the environments it is attached to."
    )
    async def delete_app(
        self, info: Info, input: Annotated[DeleteByNameInput, strawberry.argument(description=_INPUT)]
    ) -> AppPayload:
        row, errors = await run_catalog_change(info, lambda s: CatalogChanges(s).delete_app(input.name))
        return AppPayload(app=None if row is None else App.from_row(row), errors=errors)
