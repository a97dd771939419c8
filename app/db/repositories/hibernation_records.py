"""Hibernation records: per workload, what hibernation changed and unhibernate must restore."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import HibernationRecord
from app.domain.workloads import WorkloadKind

WorkloadKey = tuple[WorkloadKind, str]


class HibernationRecordRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def for_target(self, app_environment_id: int) -> list[HibernationRecord]:
        return list(
            await self.session.scalars(
                select(HibernationRecord).where(HibernationRecord.app_environment_id == app_environment_id)
            )
        )

    async def delete_ids(self, ids: Iterable[int]) -> None:
        await self.session.execute(delete(HibernationRecord).where(HibernationRecord.id.in_(list(ids))))

    async def delete(self, app_environment_id: int, keys: Iterable[WorkloadKey]) -> None:
        for kind, name in keys:
            await self.session.execute(
                delete(HibernationRecord).where(
                    HibernationRecord.app_environment_id == app_environment_id,
                    HibernationRecord.workload_kind == kind,
                    HibernationRecord.workload_name == name,
                )
            )

    async def write(
        self,
        app_environment_id: int,
        originals: Mapping[WorkloadKey, tuple[int | None, bool | None]],
        *,
        actor: str,
        at: datetime,
    ) -> None:
        """Records originals; an existing record is replaced only when the original really changed."""
        existing = {(r.workload_kind, r.workload_name): r for r in await self.for_target(app_environment_id)}
        for (kind, name), (replicas, suspend) in originals.items():
            if replicas is not None and replicas <= 0:
                raise ValueError("an original of 0 replicas would make the app unwakeable")
            record = existing.get((kind, name))
            if record is None:
                self.session.add(
                    HibernationRecord(
                        app_environment_id=app_environment_id,
                        workload_kind=kind,
                        workload_name=name,
                        original_replicas=replicas,
                        original_suspend=suspend,
                        actor=actor,
                        since=at,
                    )
                )
            elif (record.original_replicas, record.original_suspend) != (replicas, suspend):
                # A stale record (the workload was woken outside Hibernia): this hibernation replaces it.
                record.original_replicas = replicas
                record.original_suspend = suspend
                record.actor = actor
                record.since = at
        await self.session.flush()
