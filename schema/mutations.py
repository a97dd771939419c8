"""Root mutation fields: each takes one `input` and returns a payload carrying `errors`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from app.cluster.verification import Credentials
from app.domain.access import Action
from app.domain.errors import HiberniaError, InvalidInputs
from app.services.catalog import CatalogService, ClusterCheck, ClusterSpec
from app.services.cluster_checks import check_cluster
from schema.context import Info
from schema.errors import OperationError, operation_errors
from schema.types import App, AppEnvironment, Cluster, Environment
from schema.visibility import require_action

T = TypeVar("T")

_INPUT = "What to do; see the input type for each field."
_ERRORS = "Expected failures; empty when the mutation did what was asked."


async def run_catalog_change(
    info: Info, work: Callable[[AsyncSession], Awaitable[T]], environments: Sequence[str | None] = (None,)
) -> tuple[T | None, list[OperationError]]:
    """Runs `work` in one transaction; an expected failure rolls back and becomes errors.

    Only admins may change the catalog, and an admin limited to environments only inside them
    (`None`: a change to no one environment, which needs an unlimited admin).
    """
    try:
        for environment in environments:
            require_action(info, Action.MANAGE, environment)
        async with info.context.write_session() as session:
            return await work(session), []
    except (HiberniaError, InvalidInputs) as error:
        return None, operation_errors(error)


def cluster_check(info: Info) -> ClusterCheck:
    """Verifies clusters with this server's Kubernetes timeout."""
    seconds = info.context.settings.cluster_timeout_seconds

    async def check(credentials: Credentials, namespaces: Sequence[str]) -> None:
        await check_cluster(credentials, namespaces, request_seconds=seconds)

    return check


@strawberry.input(description="A cluster to register. Give exactly one of `server`, or `simulated: true`.")
class CreateClusterInput:
    name: str = strawberry.field(description="Unique DNS-1123 name, e.g. `prod-eu`.")
    server: str | None = strawberry.field(default=None, description="API server URL, e.g. `https://10.0.0.1:6443`.")
    token: str | None = strawberry.field(default=None, description="Bearer token of a service account.")
    ca_data: str | None = strawberry.field(default=None, description="Base64 PEM of the cluster's CA.")
    insecure_skip_tls_verify: bool = strawberry.field(
        default=False, description="Skip TLS verification (test clusters only)."
    )
    simulated: bool = strawberry.field(default=False, description="True when `server` is a Hibernia cluster simulator.")
    verify: bool = strawberry.field(
        default=True,
        description="Check before saving that the API server answers `/version` and accepts the credentials "
        "(a SelfSubjectAccessReview); false registers a cluster that is not reachable yet.",
    )


@strawberry.type(description="The result of `createCluster`.")
class CreateClusterPayload:
    cluster: Cluster | None = strawberry.field(description="The new cluster; null on error.")
    errors: list[OperationError] = strawberry.field(description=_ERRORS)


@strawberry.input(description="An environment to create: a namespace on a registered cluster.")
class CreateEnvironmentInput:
    name: str = strawberry.field(description="Unique DNS-1123 name, e.g. `staging`.")
    cluster: str = strawberry.field(description="Name of a registered cluster.")
    namespace: str = strawberry.field(description="Kubernetes namespace the apps run in.")


@strawberry.type(description="The result of `createEnvironment`.")
class CreateEnvironmentPayload:
    environment: Environment | None = strawberry.field(description="The new environment; null on error.")
    errors: list[OperationError] = strawberry.field(description=_ERRORS)


@strawberry.input(description="An app to create, optionally attached to environments at once.")
class CreateAppInput:
    name: str = strawberry.field(description="Unique DNS-1123 name; also the default release name.")
    team: str = strawberry.field(description="The owning team.")
    environments: list[str] = strawberry.field(
        default_factory=list, description="Environments to attach it to, with default release and replicas."
    )


@strawberry.type(description="The result of `createApp`.")
class CreateAppPayload:
    app: App | None = strawberry.field(description="The new app; null on error.")
    errors: list[OperationError] = strawberry.field(description=_ERRORS)


@strawberry.input(description="Attach an existing app to an environment.")
class AttachAppInput:
    app: str = strawberry.field(description="The app's name.")
    environment: str = strawberry.field(description="The environment's name.")
    release_name: str | None = strawberry.field(default=None, description="Release name; default the app's name.")
    replicas: int | None = strawberry.field(default=None, description="Replicas when awake, 0 to 1000; default 1.")


@strawberry.type(description="The result of `attachApp`.")
class AttachAppPayload:
    app_environment: AppEnvironment | None = strawberry.field(description="The new attachment; null on error.")
    errors: list[OperationError] = strawberry.field(description=_ERRORS)


@strawberry.type(description="Change the catalog: clusters, environments, apps and attachments.")
class CatalogMutation:
    @strawberry.mutation(description="Register a Kubernetes cluster.")
    async def create_cluster(
        self, info: Info, input: Annotated[CreateClusterInput, strawberry.argument(description=_INPUT)]
    ) -> CreateClusterPayload:
        spec = ClusterSpec(
            name=input.name,
            server=input.server,
            token=input.token,
            ca_data=input.ca_data,
            insecure_skip_tls_verify=input.insecure_skip_tls_verify,
            simulated=input.simulated,
        )
        check = cluster_check(info) if input.verify else None
        row, errors = await run_catalog_change(info, lambda s: CatalogService(s).create_cluster(spec, check))
        if row is not None:
            info.context.services.cache_keeper.sync_soon()  # its cache is synced within seconds
        return CreateClusterPayload(cluster=None if row is None else Cluster.from_row(row), errors=errors)

    @strawberry.mutation(description="Create an environment: a namespace on a registered cluster.")
    async def create_environment(
        self, info: Info, input: Annotated[CreateEnvironmentInput, strawberry.argument(description=_INPUT)]
    ) -> CreateEnvironmentPayload:
        row, errors = await run_catalog_change(
            info, lambda s: CatalogService(s).create_environment(input.name, input.cluster, input.namespace)
        )
        if row is not None:
            info.context.services.cache_keeper.sync_soon()  # a namespace to watch, where lists are namespaced
        return CreateEnvironmentPayload(environment=None if row is None else Environment.from_row(row), errors=errors)

    @strawberry.mutation(description="Create an app, optionally attached to environments.")
    async def create_app(
        self, info: Info, input: Annotated[CreateAppInput, strawberry.argument(description=_INPUT)]
    ) -> CreateAppPayload:
        row, errors = await run_catalog_change(
            info,
            lambda s: CatalogService(s).create_app(input.name, input.team, input.environments),
            input.environments or [None],
        )
        return CreateAppPayload(app=None if row is None else App.from_row(row), errors=errors)

    @strawberry.mutation(description="Attach an app to an environment with a release name and replicas.")
    async def attach_app(
        self, info: Info, input: Annotated[AttachAppInput, strawberry.argument(description=_INPUT)]
    ) -> AttachAppPayload:
        row, errors = await run_catalog_change(
            info,
            lambda s: CatalogService(s).attach_app(input.app, input.environment, input.release_name, input.replicas),
            [input.environment],
        )
        return AttachAppPayload(
            app_environment=None
            if row is None
            else AppEnvironment.from_row(row, app=row.app, environment=row.environment),
            errors=errors,
        )
