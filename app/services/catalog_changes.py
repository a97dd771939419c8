"""Changing and deleting catalog entries. Deleting archives the row (its history stays readable and
keeps naming it) and is refused, naming what uses it, while anything still does. Nothing here ever
touches a Kubernetes cluster."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import App, AppEnvironment, Cluster, Environment
from app.db.repositories.catalog import CatalogRepository
from app.db.repositories.tokens import TokenRepository
from app.db.types import utcnow
from app.domain.errors import ErrorCode, HiberniaError, InvalidInput, NotFound
from app.domain.names import validate_dns_label, validate_server_url
from app.services.catalog import ClusterCheck, missing_attachment
from app.services.cluster_checks import credentials_of


@dataclass(frozen=True, slots=True)
class ClusterChange:
    """What to change on a cluster reached by URL; None leaves a part as it is."""

    name: str
    server: str | None = None
    token: str | None = None
    ca_data: str | None = None
    insecure_skip_tls_verify: bool | None = None


def _in_use(what: str, users: str, names: list[str], then: str) -> HiberniaError:
    return HiberniaError(
        ErrorCode.INVALID_INPUT, f"{what} is still used by {users} {', '.join(names)}; {then} first.", field="name"
    )


class CatalogChanges:
    def __init__(self, session: AsyncSession) -> None:
        self.repository = CatalogRepository(session)
        self.tokens = TokenRepository(session)

    async def update_cluster(self, change: ClusterChange, check: ClusterCheck | None = None) -> Cluster:
        """Changes how a cluster is reached; with `check`, only once the new way is verified against the
        namespaces of its environments."""
        cluster = await self._cluster(change.name)
        if change.server is not None:
            if not cluster.server:
                raise InvalidInput(
                    f"Cluster '{cluster.name}' is not reached by URL; register another cluster instead.",
                    field="server",
                )
            cluster.server = validate_server_url(change.server)
        if change.token is not None:
            cluster.token = change.token or None
        if change.ca_data is not None:
            cluster.ca_data = change.ca_data or None
        if change.insecure_skip_tls_verify is not None:
            cluster.insecure_skip_tls_verify = change.insecure_skip_tls_verify
        credentials = credentials_of(cluster)
        if check is not None and credentials is not None:
            namespaces = await self.repository.namespaces_on_cluster(cluster.id)
            await check(credentials, namespaces)  # a failure rolls the change back
        await self.repository.session.flush()
        return cluster

    async def delete_cluster(self, name: str) -> Cluster:
        cluster = await self._cluster(name)
        environments = await self.repository.environment_names_on_cluster(cluster.id)
        if environments:
            raise _in_use(
                f"Cluster '{name}'",
                "environments",
                environments,
                "delete them or move them to another cluster (updateEnvironment)",
            )
        cluster.archived_at = utcnow()
        await self.repository.session.flush()
        return cluster

    async def update_environment(self, name: str, cluster_name: str | None, namespace: str | None) -> Environment:
        environment = await self._environment(name)
        if cluster_name is not None:
            cluster = await self.repository.cluster_by_name(cluster_name)
            if cluster is None:
                raise NotFound("Cluster", cluster_name, field="cluster")
            environment.cluster_id = cluster.id
        if namespace is not None:
            environment.namespace = validate_dns_label(namespace, field="namespace", what="Namespace")
        await self.repository.session.flush()
        return environment

    async def delete_environment(self, name: str) -> Environment:
        environment = await self._environment(name)
        apps = await self.repository.app_names_in_environment(environment.id)
        if apps:
            raise _in_use(f"Environment '{name}'", "apps", apps, "detach them (detachApp)")
        tokens = await self.tokens.names_limited_to(environment.id)
        if tokens:
            raise _in_use(f"Environment '{name}'", "the tokens limited to it:", tokens, "revoke them")
        environment.archived_at = utcnow()
        await self.repository.session.flush()
        return environment

    async def update_app(self, name: str, team: str) -> App:
        app = await self._app(name)
        if not team.strip() or len(team.strip()) > 63:
            raise InvalidInput("Team must be 1 to 63 characters.", field="team")
        app.team = team.strip()
        await self.repository.session.flush()
        return app

    async def detach_app(self, app_name: str, environment_name: str) -> AppEnvironment:
        attachment = await self.repository.app_environment(app_name, environment_name)
        if attachment is None:
            raise await missing_attachment(self.repository, app_name, environment_name)
        lease = await self.repository.lease_of(attachment.id)
        if lease is not None and lease.holder is not None:
            raise HiberniaError(
                ErrorCode.OPERATION_IN_PROGRESS,
                f"{app_name} on {environment_name} is busy ({lease.operation} by {lease.actor}); "
                "detach it once that ends.",
                field="app",
            )
        attachment.archived_at = utcnow()
        await self.repository.session.flush()
        return attachment

    async def delete_app(self, name: str) -> App:
        app = await self._app(name)
        environments = await self.repository.environment_names_of_app(app.id)
        if environments:
            raise _in_use(f"App '{name}'", "its attachments to", environments, "detach it (detachApp)")
        app.archived_at = utcnow()
        await self.repository.session.flush()
        return app

    async def _cluster(self, name: str) -> Cluster:
        cluster = await self.repository.cluster_by_name(name)
        if cluster is None:
            raise NotFound("Cluster", name, field="name")
        return cluster

    async def _environment(self, name: str) -> Environment:
        environment = await self.repository.environment_by_name(name)
        if environment is None:
            raise NotFound("Environment", name, field="name")
        return environment

    async def _app(self, name: str) -> App:
        app = await self.repository.app_by_name(name)
        if app is None:
            raise NotFound("App", name, field="name")
        return app
