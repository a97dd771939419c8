"""Admin use cases: register clusters and environments, create apps and attach them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.cluster.verification import Credentials
from app.db.models import App, AppEnvironment, Cluster, Environment
from app.db.repositories.catalog import CatalogRepository
from app.domain.errors import ErrorCode, HiberniaError, InvalidInput, InvalidInputs, NotFound
from app.domain.names import RELEASE_NAME_MAX, validate_dns_label, validate_server_url

MAX_REPLICAS = 1000

# Verifies a cluster before it is saved (credentials, the namespaces its environments use); raises
# the HiberniaError saying what is wrong.
ClusterCheck = Callable[[Credentials, Sequence[str]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ClusterSpec:
    name: str
    server: str | None = None
    token: str | None = None
    ca_data: str | None = None
    client_certificate_data: str | None = None
    client_key_data: str | None = None
    insecure_skip_tls_verify: bool = False
    kubeconfig_path: str | None = None
    kubeconfig_context: str | None = None
    in_cluster: bool = False
    simulated: bool = False


class CatalogService:
    def __init__(self, session: AsyncSession) -> None:
        self.repository = CatalogRepository(session)

    # -- reads ------------------------------------------------------------------------------------

    async def app(self, name: str) -> App | None:
        return await self.repository.app_by_name(name)

    async def app_environment(self, app_name: str, environment_name: str) -> AppEnvironment | None:
        """One attachment by names, with its app and environment loaded."""
        return await self.repository.app_environment(app_name, environment_name)

    async def environment(self, name: str) -> Environment | None:
        return await self.repository.environment_by_name(name)

    async def environments(self, scope: frozenset[str] | None = None) -> list[Environment]:
        """Every environment by name, or those in `scope` (a token limited to environments)."""
        return [e for e in await self.repository.environments() if scope is None or e.name in scope]

    async def clusters(self, scope: frozenset[str] | None = None) -> list[Cluster]:
        """Every cluster by name, or those hosting an environment in `scope`."""
        clusters = await self.repository.clusters()
        if scope is None:
            return clusters
        used = {e.cluster_id for e in await self.repository.environments_by_names(sorted(scope))}
        return [c for c in clusters if c.id in used]

    # -- changes ----------------------------------------------------------------------------------

    async def create_cluster(self, spec: ClusterSpec, check: ClusterCheck | None = None) -> Cluster:
        """Validates, then (with `check`) verifies the cluster answers and accepts the credentials,
        then saves it."""
        errors: list[HiberniaError] = []
        _try(errors, lambda: validate_dns_label(spec.name, field="name", what="Cluster name"))
        sources = [bool(spec.server), bool(spec.kubeconfig_path), spec.in_cluster]
        if sum(sources) != 1:
            errors.append(
                InvalidInput(
                    "Give exactly one way to reach the cluster: a server URL, a kubeconfig, or in-cluster config.",
                    field="server",
                )
            )
        if spec.server:
            _try(errors, lambda: validate_server_url(spec.server or ""))
        if not errors and await self.repository.cluster_by_name(spec.name):
            errors.append(InvalidInput(f"A cluster named '{spec.name}' already exists.", field="name"))
        _raise_all(errors)
        if check is not None and spec.server:
            await check(
                Credentials(
                    server=spec.server,
                    token=spec.token,
                    ca_data=spec.ca_data,
                    client_certificate_data=spec.client_certificate_data,
                    client_key_data=spec.client_key_data,
                    insecure_skip_tls_verify=spec.insecure_skip_tls_verify,
                ),
                [],
            )
        cluster = Cluster(
            name=spec.name,
            server=spec.server,
            token=spec.token,
            ca_data=spec.ca_data,
            client_certificate_data=spec.client_certificate_data,
            client_key_data=spec.client_key_data,
            insecure_skip_tls_verify=spec.insecure_skip_tls_verify,
            kubeconfig_path=spec.kubeconfig_path,
            kubeconfig_context=spec.kubeconfig_context,
            in_cluster=spec.in_cluster,
            simulated=spec.simulated,
        )
        await self.repository.add(cluster)
        return cluster

    async def create_environment(self, name: str, cluster_name: str, namespace: str) -> Environment:
        errors: list[HiberniaError] = []
        _try(errors, lambda: validate_dns_label(name, field="name", what="Environment name"))
        _try(errors, lambda: validate_dns_label(namespace, field="namespace", what="Namespace"))
        cluster = await self.repository.cluster_by_name(cluster_name)
        if cluster is None:
            errors.append(NotFound("Cluster", cluster_name, field="cluster"))
        if not errors and await self.repository.environment_by_name(name):
            errors.append(InvalidInput(f"An environment named '{name}' already exists.", field="name"))
        _raise_all(errors)
        assert cluster is not None
        environment = Environment(name=name, cluster_id=cluster.id, namespace=namespace)
        await self.repository.add(environment)
        return environment

    async def create_app(self, name: str, team: str, environment_names: Sequence[str]) -> App:
        errors: list[HiberniaError] = []
        _try(errors, lambda: validate_dns_label(name, field="name", what="App name"))
        if not team.strip():
            errors.append(InvalidInput("Team must not be empty.", field="team"))
        elif len(team) > 63:
            errors.append(InvalidInput("Team is longer than 63 characters.", field="team"))
        environments = await self._environments(environment_names, errors)
        if not errors and await self.repository.app_by_name(name):
            errors.append(InvalidInput(f"An app named '{name}' already exists.", field="name"))
        _raise_all(errors)
        app = App(name=name, team=team.strip())
        await self.repository.add(app)
        for environment in environments:
            await self.repository.attach(
                AppEnvironment(app_id=app.id, environment_id=environment.id, release_name=name, desired_replicas=1)
            )
        return app

    async def attach_app(
        self, app_name: str, environment_name: str, release_name: str | None, replicas: int | None
    ) -> AppEnvironment:
        errors: list[HiberniaError] = []
        if release_name is not None:
            _try(
                errors,
                lambda: validate_dns_label(
                    release_name, field="releaseName", what="Release name", max_length=RELEASE_NAME_MAX
                ),
            )
        if replicas is not None and not 0 <= replicas <= MAX_REPLICAS:
            errors.append(InvalidInput(f"Replicas must be between 0 and {MAX_REPLICAS}.", field="replicas"))
        app = await self.repository.app_by_name(app_name)
        if app is None:
            errors.append(NotFound("App", app_name, field="app"))
        environment = await self.repository.environment_by_name(environment_name)
        if environment is None:
            errors.append(NotFound("Environment", environment_name, field="environment"))
        if app is not None and environment is not None:
            if release_name is None and len(app.name) > RELEASE_NAME_MAX:
                errors.append(
                    InvalidInput(
                        f"App name '{app.name}' is too long to be a release name; give a releaseName.",
                        field="releaseName",
                    )
                )
            if await self.repository.app_environment(app.name, environment.name):
                errors.append(
                    InvalidInput(
                        f"App '{app.name}' is already attached to environment '{environment.name}'.",
                        field="environment",
                    )
                )
        _raise_all(errors)
        assert app is not None and environment is not None
        archived = await self.repository.archived_attachment(app.id, environment.id)
        if archived is not None:  # attached before: the same row again, with its history
            archived.archived_at = None
            archived.release_name = release_name or app.name
            archived.desired_replicas = 1 if replicas is None else replicas
            await self.repository.session.flush()
            archived.app, archived.environment = app, environment
            return archived
        attachment = AppEnvironment(
            app_id=app.id,
            environment_id=environment.id,
            release_name=release_name or app.name,
            desired_replicas=1 if replicas is None else replicas,
        )
        await self.repository.attach(attachment)
        attachment.app = app
        attachment.environment = environment
        return attachment

    async def _environments(self, names: Sequence[str], errors: list[HiberniaError]) -> list[Environment]:
        if len(set(names)) != len(names):
            errors.append(InvalidInput("Environments are listed more than once.", field="environments"))
            return []
        found = {e.name: e for e in await self.repository.environments_by_names(names)} if names else {}
        errors.extend(NotFound("Environment", n, field="environments") for n in names if n not in found)
        return [found[n] for n in names if n in found]


async def missing_attachment(catalog: CatalogRepository, app_name: str, environment_name: str) -> HiberniaError:
    """Why no app environment matches these names: the app, the environment, or the attachment is missing."""
    if await catalog.app_by_name(app_name) is None:
        return NotFound("App", app_name, field="app")
    if await catalog.environment_by_name(environment_name) is None:
        return NotFound("Environment", environment_name, field="environment")
    return HiberniaError(
        ErrorCode.NOT_FOUND,
        f"App '{app_name}' is not attached to environment '{environment_name}'; attach it first.",
        field="environment",
    )


def _try(errors: list[HiberniaError], check: Callable[[], object]) -> None:
    try:
        check()
    except HiberniaError as error:
        errors.append(error)


def _raise_all(errors: list[HiberniaError]) -> None:
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise InvalidInputs(errors)
