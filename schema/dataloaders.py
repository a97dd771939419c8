"""Per-request dataloaders. Each batch opens its own short session (sessions are not task-safe)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from app.db.models import (
    App,
    AppEnvironment,
    Cluster,
    Deployment,
    Environment,
    HibernationRecord,
    ScheduleHold,
    Transition,
)
from app.db.repositories.catalog import CatalogRepository
from app.db.repositories.deployments import DeploymentRepository
from app.db.repositories.history import HistoryRepository
from app.db.repositories.schedules import ScheduleRepository
from app.db.repositories.status import ObservationTarget, StatusRepository
from app.services.live_status import LiveStatus, LiveStatusService

K = TypeVar("K")
V = TypeVar("V")


def _by_id(
    session_factory: async_sessionmaker[AsyncSession],
    fetch: Callable[[CatalogRepository, Sequence[int]], Awaitable[Sequence[V]]],
    key: Callable[[V], int],
) -> DataLoader[int, V | None]:
    async def load(ids: list[int]) -> list[V | None]:
        async with session_factory() as session:
            found = {key(row): row for row in await fetch(CatalogRepository(session), ids)}
        return [found.get(i) for i in ids]

    return DataLoader(load_fn=load)


# (app environment id, page size, rows older than this id)
HistoryKey = tuple[int, int, int | None]
HistoryRow = TypeVar("HistoryRow", Deployment, Transition)


async def _deployments(repository: CatalogRepository, ids: Sequence[int]) -> list[Deployment]:
    return await DeploymentRepository(repository.session).by_ids(ids)


def _history_loader(
    session_factory: async_sessionmaker[AsyncSession], model: type[HistoryRow]
) -> DataLoader[HistoryKey, list[HistoryRow]]:
    async def load(keys: list[HistoryKey]) -> list[list[HistoryRow]]:
        # Parents asking for the same page shape share one windowed query.
        shapes: dict[tuple[int, int | None], list[int]] = {}
        for parent, first, before in keys:
            shapes.setdefault((first, before), []).append(parent)
        found: dict[HistoryKey, list[HistoryRow]] = {}
        async with session_factory() as session:
            repository = HistoryRepository(session)
            for (first, before), parents in shapes.items():
                pages = await repository.newest_first(model, parents, first=first, before_id=before)
                found.update({(parent, first, before): rows for parent, rows in pages.items()})
        return [found[key] for key in keys]

    return DataLoader(load_fn=load)


def _count_loader(session_factory: async_sessionmaker[AsyncSession], model: type[HistoryRow]) -> DataLoader[int, int]:
    async def load(ids: list[int]) -> list[int]:
        async with session_factory() as session:
            counts = await HistoryRepository(session).counts(model, ids)
        return [counts[i] for i in ids]

    return DataLoader(load_fn=load)


class Loaders:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession], live_status: LiveStatusService) -> None:
        self.app_by_id: DataLoader[int, App | None] = _by_id(
            session_factory, lambda r, ids: r.apps_by_ids(ids), lambda row: row.id
        )
        self.environment_by_id: DataLoader[int, Environment | None] = _by_id(
            session_factory, lambda r, ids: r.environments_by_ids(ids), lambda row: row.id
        )
        self.cluster_by_id: DataLoader[int, Cluster | None] = _by_id(
            session_factory, lambda r, ids: r.clusters_by_ids(ids), lambda row: row.id
        )
        self.app_environment_by_id: DataLoader[int, AppEnvironment | None] = _by_id(
            session_factory, lambda r, ids: r.app_environments_by_ids(ids), lambda row: row.id
        )

        # Attachments this request has read with their environment and cluster: a live status of
        # them starts from these rows instead of reading them again.
        attachments: dict[int, AppEnvironment] = {}

        async def load_by_app(app_ids: list[int]) -> list[list[AppEnvironment]]:
            async with session_factory() as session:
                rows = await CatalogRepository(session).app_environments_by_app_ids(app_ids)
            grouped: dict[int, list[AppEnvironment]] = {i: [] for i in app_ids}
            for row in rows:
                grouped[row.app_id].append(row)
                attachments[row.id] = row
            return [grouped[i] for i in app_ids]

        self.app_environments_by_app_id: DataLoader[int, list[AppEnvironment]] = DataLoader(load_fn=load_by_app)

        self.deployment_by_id: DataLoader[int, Deployment | None] = _by_id(
            session_factory, lambda r, ids: _deployments(r, ids), lambda row: row.id
        )

        async def load_records(ids: list[int]) -> list[list[HibernationRecord]]:
            async with session_factory() as session:
                found = await StatusRepository(session).hibernation_records(ids)
            return [found.get(i, []) for i in ids]

        self.hibernation_records_by_app_environment_id: DataLoader[int, list[HibernationRecord]] = DataLoader(
            load_fn=load_records
        )

        async def load_holds(ids: list[int]) -> list[ScheduleHold | None]:
            async with session_factory() as session:
                found = await ScheduleRepository(session).holds(ids)
            return [found.get(i) for i in ids]

        self.schedule_hold_by_app_environment_id: DataLoader[int, ScheduleHold | None] = DataLoader(load_fn=load_holds)
        self.deployments_page_by_app_environment_id = _history_loader(session_factory, Deployment)
        self.transitions_page_by_app_environment_id = _history_loader(session_factory, Transition)
        self.deployments_count_by_app_environment_id = _count_loader(session_factory, Deployment)
        self.transitions_count_by_app_environment_id = _count_loader(session_factory, Transition)

        async def load_live(ids: list[int]) -> list[LiveStatus]:
            # The whole batch is one observation: one LIST per kind (per namespace and kind with
            # namespaced Roles).
            known = [ObservationTarget.of(attachments[i]) for i in ids if i in attachments]
            found = await live_status.observe(ids, known=known)
            return [found[i] for i in ids]

        self.live_status_by_app_environment_id: DataLoader[int, LiveStatus] = DataLoader(load_fn=load_live)
