"""Root query fields. Thin: they call services and loaders, nothing else."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from app.db.pagination import SortDirection as DomainSortDirection
from app.db.repositories.listing import AppEnvironmentOrderField as DomainAppEnvOrder
from app.db.repositories.listing import AppOrderField as DomainAppOrder
from app.db.repositories.listing import ListFilter
from app.domain.errors import ErrorCode, HiberniaError
from app.services.catalog import CatalogService
from app.services.listing import ListingService
from schema import audit
from schema.context import Info
from schema.enums import HibernatedPolicy
from schema.history import Deployment, Transition
from schema.inputs import AppEnvironmentOrder, AppFilter, AppOrder
from schema.live_status import AppEnvironmentStatus
from schema.pagination import DEFAULT_PAGE_SIZE, Connection, connection, page_request
from schema.schedules import ScheduleQuery
from schema.types import App, AppEnvironment, Cluster, Environment
from schema.viewer import StatusCount, Viewer
from schema.visibility import require_visible, visible_app

_FIRST = "How many rows to return, 1 to 100 (default 20)."
_AFTER = "Return rows after this cursor (a previous page's `pageInfo.endCursor`)."


@strawberry.type(description="How this server behaves, so a frontend knows what to offer.")
class ServerConfig:
    hibernation_check_enabled: bool = strawberry.field(
        description="True when deploys check the live status first (FETCH_HELM_PIPELINE_APP_STATUS); offer "
        '"skip hibernated" only then.'
    )
    default_on_hibernated: HibernatedPolicy = strawberry.field(
        description="The policy a deploy applies to a hibernated target when it does not name one."
    )
    subscriptions_enabled: bool = strawberry.field(
        description="True when this server pushes `statusChanges` over WebSocket (graphql-transport-ws at "
        "`/graphql`); otherwise poll the lists for changes."
    )


@strawberry.type(description="Read the catalog, the recorded and live status of every app, and the history.")
class Query(ScheduleQuery):
    @strawberry.field(description="How this server behaves (deploy-time hibernation check, default policy).")
    def server_config(self, info: Info) -> ServerConfig:
        settings = info.context.settings
        return ServerConfig(
            hibernation_check_enabled=settings.fetch_helm_pipeline_app_status,
            default_on_hibernated=HibernatedPolicy[settings.default_on_hibernated.value],
            subscriptions_enabled=_pushes_status_changes(info),
        )

    @strawberry.field(description="Who is asking: the API token (or the local admin in development) and its reach.")
    def viewer(self, info: Info) -> Viewer:
        return Viewer.from_principal(info.context.principal)

    node: relay.Node | None = relay.node(description="Any object by its global `id`.")

    transitions: Connection[Transition] = strawberry.field(
        resolver=audit.transitions,
        description="The audit trail of every app environment the caller may see (status changes and the "
        "operations that caused them), newest first, filtered in the database and keyset-paged.",
    )
    deployments: Connection[Deployment] = strawberry.field(
        resolver=audit.deployments,
        description="Every recorded deployment the caller may see, newest first, filtered in the database and "
        "keyset-paged.",
    )

    @strawberry.field(description="Apps, filtered and paged; filters run in the database before paging.")
    async def apps(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description=_FIRST)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=_AFTER)] = None,
        filter: Annotated[AppFilter | None, strawberry.argument(description="What to include.")] = None,
        order_by: Annotated[AppOrder | None, strawberry.argument(description="Sort order (default: by name).")] = None,
    ) -> Connection[App]:
        order = order_by or AppOrder()
        domain_filter = (filter or AppFilter()).to_domain(info.context.principal.environments)
        field, direction = DomainAppOrder(order.field.name), DomainSortDirection(order.direction.name)
        ordering = f"apps:{field}:{direction}"
        request = page_request(first, after, ordering)
        async with info.context.read_session() as session:
            page = await ListingService(session).apps(domain_filter, field, direction, request)
        return connection(page, App.from_row, ordering, lambda: _count_apps(info, domain_filter))

    @strawberry.field(description="One row per app and environment, filtered and paged in the database.")
    async def app_environments(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description=_FIRST)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=_AFTER)] = None,
        filter: Annotated[AppFilter | None, strawberry.argument(description="What to include.")] = None,
        order_by: Annotated[
            AppEnvironmentOrder | None,
            strawberry.argument(description="Sort order (default: by app name, then environment name)."),
        ] = None,
    ) -> Connection[AppEnvironment]:
        order = order_by or AppEnvironmentOrder()
        domain_filter = (filter or AppFilter()).to_domain(info.context.principal.environments)
        field, direction = DomainAppEnvOrder(order.field.name), DomainSortDirection(order.direction.name)
        ordering = f"appEnvironments:{field}:{direction}"
        request = page_request(first, after, ordering)
        async with info.context.read_session() as session:
            page = await ListingService(session).app_environments(domain_filter, field, direction, request)
        return connection(
            page,
            lambda row: AppEnvironment.from_row(row, app=row.app, environment=row.environment),
            ordering,
            lambda: _count_app_environments(info, domain_filter),
        )

    @strawberry.field(
        description="How many app environments have each recorded status (every status, zero included, in the "
        "enum's order), for the filter's search, teams and environments; its `statuses` is not applied, so the "
        "counts can sit beside a list narrowed to some statuses. One grouped query."
    )
    async def status_counts(
        self,
        info: Info,
        filter: Annotated[AppFilter | None, strawberry.argument(description="What to include.")] = None,
    ) -> list[StatusCount]:
        domain_filter = (filter or AppFilter()).to_domain(info.context.principal.environments)
        async with info.context.read_session() as session:
            counts = await ListingService(session).status_counts(domain_filter)
        return StatusCount.from_counts(counts)

    @strawberry.field(description="One app environment by its app's and environment's names; null when there is none.")
    async def app_environment(
        self,
        info: Info,
        app: Annotated[str, strawberry.argument(description="The app's name.")],
        environment: Annotated[str, strawberry.argument(description="The environment's name.")],
    ) -> AppEnvironment | None:
        if not info.context.principal.sees(environment):
            return None
        async with info.context.read_session() as session:
            row = await CatalogService(session).app_environment(app, environment)
        return None if row is None else AppEnvironment.from_row(row, app=row.app, environment=row.environment)

    @strawberry.field(description="One app by name; null when there is none.")
    async def app(
        self, info: Info, name: Annotated[str, strawberry.argument(description="The app's name.")]
    ) -> App | None:
        async with info.context.read_session() as session:
            row = await CatalogService(session).app(name)
        if row is None or not await visible_app(info, row.id):
            return None
        return App.from_row(row)

    @strawberry.field(description="Every environment, by name.")
    async def environments(self, info: Info) -> list[Environment]:
        async with info.context.read_session() as session:
            rows = await CatalogService(session).environments(info.context.principal.environments)
        return [Environment.from_row(row) for row in rows]

    @strawberry.field(description="One environment by name; null when there is none.")
    async def environment(
        self, info: Info, name: Annotated[str, strawberry.argument(description="The environment's name.")]
    ) -> Environment | None:
        async with info.context.read_session() as session:
            row = await CatalogService(session).environment(name)
        if row is None or not info.context.principal.sees(row.name):
            return None
        return Environment.from_row(row)

    @strawberry.field(description="The authoritative live status of one app environment, read from the cluster now.")
    async def app_status(
        self,
        info: Info,
        app: Annotated[str, strawberry.argument(description="The app's name.")],
        environment: Annotated[str, strawberry.argument(description="The environment's name.")],
    ) -> AppEnvironmentStatus:
        require_visible(info, environment)
        try:
            live = await info.context.live_status.observe_one(app, environment)
        except HiberniaError as error:
            if info.context.principal.environments is None or error.code is not ErrorCode.NOT_FOUND:
                raise
            # A token limited to environments learns nothing about apps elsewhere: one answer for all.
            raise HiberniaError(
                ErrorCode.NOT_FOUND, f"No app '{app}' in environment '{environment}'.", field="app"
            ) from None
        return AppEnvironmentStatus.from_live(live)

    @strawberry.field(
        description="Live status of an app group in one environment: the given apps in the given order, "
        "or every app attached to it by name. One LIST per workload kind for the whole group."
    )
    async def app_statuses(
        self,
        info: Info,
        environment: Annotated[str, strawberry.argument(description="The environment's name.")],
        apps: Annotated[
            list[str] | None, strawberry.argument(description="App names; omit for every attached app.")
        ] = None,
    ) -> list[AppEnvironmentStatus]:
        require_visible(info, environment)
        statuses = await info.context.live_status.observe_group(environment, apps)
        return [AppEnvironmentStatus.from_live(s) for s in statuses]

    @strawberry.field(description="Every team that owns an app (one the caller may see), by name.")
    async def teams(self, info: Info) -> list[str]:
        async with info.context.read_session() as session:
            return await ListingService(session).teams(info.context.principal.environments)

    @strawberry.field(description="Every registered cluster, by name.")
    async def clusters(self, info: Info) -> list[Cluster]:
        async with info.context.read_session() as session:
            rows = await CatalogService(session).clusters(info.context.principal.environments)
        return [Cluster.from_row(row) for row in rows]


def _pushes_status_changes(info: Info) -> bool:
    subscription = info.schema.get_type_by_name("Subscription")
    fields = getattr(subscription, "fields", None) or []
    return any(field.python_name == "status_changes" for field in fields)


async def _count_apps(info: Info, filter_: ListFilter) -> int:
    async with info.context.read_session() as session:
        return await ListingService(session).count_apps(filter_)


async def _count_app_environments(info: Info, filter_: ListFilter) -> int:
    async with info.context.read_session() as session:
        return await ListingService(session).count_app_environments(filter_)
