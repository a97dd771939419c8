"""Clusters, environments, apps and their attachments: lookups and inserts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager

from app.db.ids import one_of
from app.db.models import App, AppEnvironment, Cluster, Environment, OperationLease
from app.domain.errors import InvalidInput


def _live(model: type[Cluster] | type[Environment] | type[App] | type[AppEnvironment]) -> ColumnElement[bool]:
    """Not archived: archived rows stay for the history that names them, and are found only by id."""
    return model.archived_at.is_(None)


# An attachment that is used: neither it, its app nor its environment archived.
_LIVE = (AppEnvironment.archived_at.is_(None), App.archived_at.is_(None), Environment.archived_at.is_(None))


class CatalogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def cluster_by_name(self, name: str) -> Cluster | None:
        return await self.session.scalar(select(Cluster).where(Cluster.name == name, Cluster.archived_at.is_(None)))

    async def environment_by_name(self, name: str) -> Environment | None:
        return await self.session.scalar(
            select(Environment).where(Environment.name == name, Environment.archived_at.is_(None))
        )

    async def environments_by_names(self, names: Sequence[str]) -> list[Environment]:
        result = await self.session.scalars(
            select(Environment).where(Environment.name.in_(names), Environment.archived_at.is_(None))
        )
        return list(result)

    async def environments(self) -> list[Environment]:
        return list(
            await self.session.scalars(
                select(Environment).where(Environment.archived_at.is_(None)).order_by(Environment.name)
            )
        )

    async def clusters(self) -> list[Cluster]:
        return list(
            await self.session.scalars(select(Cluster).where(Cluster.archived_at.is_(None)).order_by(Cluster.name))
        )

    async def app_by_name(self, name: str) -> App | None:
        return await self.session.scalar(select(App).where(App.name == name, App.archived_at.is_(None)))

    async def apps_by_ids(self, ids: Sequence[int]) -> list[App]:
        return list(await self.session.scalars(select(App).where(App.id.in_(ids))))

    async def environments_by_ids(self, ids: Sequence[int]) -> list[Environment]:
        return list(await self.session.scalars(select(Environment).where(Environment.id.in_(ids))))

    async def clusters_by_ids(self, ids: Sequence[int]) -> list[Cluster]:
        return list(await self.session.scalars(select(Cluster).where(Cluster.id.in_(ids))))

    async def app_environment(self, app_name: str, environment_name: str) -> AppEnvironment | None:
        query = (
            select(AppEnvironment)
            .join(AppEnvironment.app)
            .join(AppEnvironment.environment)
            .options(contains_eager(AppEnvironment.app), contains_eager(AppEnvironment.environment))
            .where(App.name == app_name, Environment.name == environment_name, *_LIVE)
        )
        return await self.session.scalar(query)

    async def app_environments_by_ids(self, ids: Sequence[int]) -> list[AppEnvironment]:
        query = (
            select(AppEnvironment)
            .join(AppEnvironment.app)
            .join(AppEnvironment.environment)
            .options(contains_eager(AppEnvironment.app), contains_eager(AppEnvironment.environment))
            .where(one_of(self.session, AppEnvironment.id, ids))
        )
        return list(await self.session.scalars(query))

    async def app_environments_in(self, environment_id: int, app_names: Sequence[str] | None) -> list[AppEnvironment]:
        query = (
            select(AppEnvironment)
            .join(AppEnvironment.app)
            .join(AppEnvironment.environment)
            .options(contains_eager(AppEnvironment.app), contains_eager(AppEnvironment.environment))
            .where(AppEnvironment.environment_id == environment_id, AppEnvironment.archived_at.is_(None))
        )
        if app_names is not None:
            query = query.where(App.name.in_(app_names))
        return list(await self.session.scalars(query))

    async def app_names_in(
        self, environment_id: int, *, teams: Sequence[str] | None = None, exclude: Sequence[str] = ()
    ) -> list[str]:
        """The names of the apps attached to an environment, of these teams, but these: by name."""
        query = (
            select(App.name)
            .join(AppEnvironment, AppEnvironment.app_id == App.id)
            .where(AppEnvironment.environment_id == environment_id)
            .order_by(App.name)
        )
        if teams is not None:
            query = query.where(App.team.in_(teams))
        if exclude:
            query = query.where(App.name.not_in(exclude))
        return list(await self.session.scalars(query))

    async def app_environments_by_app_ids(self, app_ids: Sequence[int]) -> list[AppEnvironment]:
        """Every attachment of the given apps with its environment and cluster, in one statement (so a
        live status of these rows needs no other read of them)."""
        query = (
            select(AppEnvironment)
            .join(AppEnvironment.environment)
            .join(Environment.cluster)
            .options(contains_eager(AppEnvironment.environment).contains_eager(Environment.cluster))
            .where(one_of(self.session, AppEnvironment.app_id, app_ids), AppEnvironment.archived_at.is_(None))
            .order_by(AppEnvironment.app_id, Environment.name)
        )
        return list(await self.session.scalars(query))

    # -- what uses a catalog entry (live rows only) ---------------------------------------------------

    async def environment_names_on_cluster(self, cluster_id: int) -> list[str]:
        query = select(Environment.name).where(Environment.cluster_id == cluster_id, _live(Environment))
        return list(await self.session.scalars(query.order_by(Environment.name)))

    async def namespaces_on_cluster(self, cluster_id: int) -> list[str]:
        query = select(Environment.namespace).where(Environment.cluster_id == cluster_id, _live(Environment))
        return sorted(set(await self.session.scalars(query)))

    async def app_names_in_environment(self, environment_id: int) -> list[str]:
        query = (
            select(App.name)
            .join(AppEnvironment, AppEnvironment.app_id == App.id)
            .where(AppEnvironment.environment_id == environment_id, *_LIVE[:2])
        )
        return list(await self.session.scalars(query.order_by(App.name)))

    async def environment_names_of_app(self, app_id: int) -> list[str]:
        query = (
            select(Environment.name)
            .join(AppEnvironment, AppEnvironment.environment_id == Environment.id)
            .where(AppEnvironment.app_id == app_id, _live(AppEnvironment), _live(Environment))
        )
        return list(await self.session.scalars(query.order_by(Environment.name)))

    async def archived_attachment(self, app_id: int, environment_id: int) -> AppEnvironment | None:
        query = select(AppEnvironment).where(
            AppEnvironment.app_id == app_id,
            AppEnvironment.environment_id == environment_id,
            AppEnvironment.archived_at.is_not(None),
        )
        return await self.session.scalar(query)

    async def lease_of(self, app_environment_id: int) -> OperationLease | None:
        return await self.session.get(OperationLease, app_environment_id)

    async def add(self, row: Cluster | Environment | App) -> None:
        self.session.add(row)
        try:
            await self.session.flush()
        except IntegrityError:
            # Lost a race with a concurrent create of the same name; the transaction is rolled back.
            raise InvalidInput(
                f"A {type(row).__name__.lower()} named '{row.name}' already exists.", field="name"
            ) from None

    async def attach(self, attachment: AppEnvironment) -> None:
        self.session.add(attachment)
        try:
            await self.session.flush()
        except IntegrityError:
            # Lost a race with a concurrent attach of the same pair; the transaction is rolled back.
            raise InvalidInput("The app is already attached to this environment.", field="environment") from None
        # The lease row exists from the start, so acquiring it is always a single conditional UPDATE.
        self.session.add(OperationLease(app_environment_id=attachment.id))
        await self.session.flush()
