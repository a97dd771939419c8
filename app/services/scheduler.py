"""The scheduler: one server across replicas (the election role `scheduler`) converges every scheduled
app environment to the state its schedule says it should be in now.

Level-triggered: at each tick (and as soon as the role is gained, so a server that was down at 19:00
hibernates within a tick of start-up) it reads the schedules and the recorded statuses of their
environments, in two statements, and acts only where they differ, through the ordinary hibernate and
unhibernate operations (leases, guard, records, transitions with cause SCHEDULE and actor
`schedule:<name>`), batched like `hibernateMany`. A tick with nothing to do writes nothing. Holds (a
`keepAwake`, or a manual operation against the schedule) keep it off an app environment until they
end. A failure is written on the schedule (`lastError`) and retried with backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.background import BackgroundTask
from app.db.engine import write_transaction
from app.db.models import Schedule, TransitionCause
from app.db.repositories.schedules import Member, ScheduleRepository
from app.db.types import utcnow
from app.domain.errors import InvalidInput
from app.domain.status import AppStatus
from app.domain.wording import some_of
from app.services.bulk import MAX_BULK_APPS, BulkService
from app.services.elections import Elections
from app.services.hibernation import HibernationService, OperationResult
from app.services.results import AppResult, BulkItem
from app.services.schedules import ScheduleService, selection_of, timetable_of

logger = logging.getLogger("hibernia.scheduler")

ROLE = "scheduler"
BACKOFF_BASE_SECONDS = 30.0
BACKOFF_MAX_SECONDS = 900.0
MAX_KEEP_AWAKE = timedelta(days=31)

_AWAKE = {AppStatus.HEALTHY, AppStatus.PROGRESSING, AppStatus.DEGRADED, AppStatus.WAKING}
# What each desired state acts on; every other status (STOPPED, MISSING, UNKNOWN, ...) is left alone.
_TO_SLEEP = _AWAKE | {AppStatus.PARTIALLY_HIBERNATED, AppStatus.REDUCED}
_TO_REDUCE = _AWAKE | {AppStatus.PARTIALLY_HIBERNATED, AppStatus.HIBERNATING}
_TO_WAKE = {AppStatus.HIBERNATING, AppStatus.PARTIALLY_HIBERNATED, AppStatus.REDUCED}


@dataclass
class TickResult:
    schedules: int = 0
    slept: list[str] = field(default_factory=list)  # "app@environment"
    woken: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def backoff(failures: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(failures - 1, 0), BACKOFF_MAX_SECONDS))


class Scheduler:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        hibernation: HibernationService,
        bulk: BulkService,
        elections: Elections,
        *,
        tick_seconds: float,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.session_factory = session_factory
        self.hibernation = hibernation
        self.bulk = bulk
        self.elections = elections
        self.tick_seconds = tick_seconds
        self.clock = clock
        self.ticks = 0
        self._task = BackgroundTask("hibernia-scheduler")
        elections.on_change(self._role)

    def _role(self, role: str, held: bool) -> None:
        if role == ROLE and held:
            self._task.wake()  # at once: whatever was missed while no one held it

    async def tick(self) -> TickResult:
        """One convergence pass; callers (the loop, tests, the bench) make sure this server may act."""
        now = self.clock()
        async with self.session_factory() as session:
            repository = ScheduleRepository(session)
            schedules = await repository.every()
            members = await repository.members(sorted({s.environment_id for s in schedules})) if schedules else []
        result = TickResult(schedules=len(schedules))
        by_environment: dict[int, list[Member]] = {}
        for member in members:
            by_environment.setdefault(member.environment_id, []).append(member)
        work: list[tuple[Schedule, bool, list[str]]] = []  # (schedule, asleep wanted, apps)
        for schedule in schedules:
            if schedule.paused_until is not None and schedule.paused_until > now:
                continue
            if schedule.retry_at is not None and schedule.retry_at > now:
                continue
            asleep = timetable_of(schedule).asleep_at(now)
            apps = _to_change(schedule, asleep, by_environment.get(schedule.environment_id, []), now)
            if apps:
                work.append((schedule, asleep, apps))
            elif schedule.last_error is not None:
                work.append((schedule, asleep, []))  # nothing left to do: its error is over
        if not work:
            self.ticks += 1
            return result
        failures: dict[int, str] = {}
        for schedule, asleep, apps in work:
            items = await self._converge(schedule, asleep, apps)
            failed = [item for item in items if item.errors]
            done = [f"{item.app}@{schedule.environment.name}" for item in items if not item.errors]
            (result.slept if asleep else result.woken).extend(done)
            result.failed.extend(f"{item.app}@{schedule.environment.name}" for item in failed)
            if failed:
                first = failed[0]
                failures[schedule.id] = (
                    f"{'Sleeping' if asleep else 'Waking'} {some_of([i.app for i in failed])} failed: "
                    f"{first.app}: {first.errors[0].message}"
                )
        await self._record(work, failures, now)
        self.ticks += 1
        return result

    async def _converge(self, schedule: Schedule, asleep: bool, apps: list[str]) -> list[BulkItem]:
        actor = f"schedule:{schedule.name}"
        environment = schedule.environment.name
        reduce_to = schedule.reduce_to

        async def operate(app: str) -> AppResult:
            if asleep:
                done = await self.hibernation.hibernate(
                    app, environment, reduce_to=reduce_to, actor=actor, cause=TransitionCause.SCHEDULE
                )
            else:
                done = await self.hibernation.unhibernate(app, environment, actor=actor, cause=TransitionCause.SCHEDULE)
            return AppResult(done.outcome, status=done.status, errors=done.errors)

        items: list[BulkItem] = []
        for start in range(0, len(apps), MAX_BULK_APPS):
            items.extend(await self.bulk.run(environment, apps[start : start + MAX_BULK_APPS], operate))
        return items

    async def _record(
        self, work: list[tuple[Schedule, bool, list[str]]], failures: dict[int, str], now: datetime
    ) -> None:
        recovered = [s.id for s, _, _ in work if s.id not in failures and s.last_error is not None]
        if not failures and not recovered:
            return
        async with write_transaction(self.session_factory) as session:
            repository = ScheduleRepository(session)
            for schedule, _, _ in work:
                if schedule.id in failures:
                    retry_at = now + backoff(schedule.failures + 1)
                    await repository.failed([schedule.id], failures[schedule.id], at=now, retry_at=retry_at)
                    logger.warning("schedule %s: %s; retrying at %s", schedule.name, failures[schedule.id], retry_at)
            if recovered:
                await repository.succeeded(recovered)

    async def keep_awake(self, app: str, environment: str, until: datetime, *, actor: str) -> OperationResult:
        """Wakes the app environment if it sleeps; every schedule leaves it alone until `until`."""
        now = self.clock()
        if until.tzinfo is None:
            raise InvalidInput("`until` needs a time zone offset, e.g. 2026-12-01T20:00:00Z.", field="until")
        if not now < until <= now + MAX_KEEP_AWAKE:
            raise InvalidInput(
                f"`until` must be in the future and at most {MAX_KEEP_AWAKE.days} days ahead.", field="until"
            )
        target = await self.hibernation.access.resolve(app, environment)
        async with write_transaction(self.session_factory) as session:
            await ScheduleRepository(session).hold(target.id, awake=True, until=until, actor=actor, explicit=True)
        return await self.hibernation.unhibernate(app, environment, actor=actor)

    async def after_manual(self, app_environment_ids: Sequence[int], *, woke: bool, actor: str) -> None:
        """Manual operations against their schedules hold the app environments until the next boundary."""
        if not app_environment_ids:
            return
        async with self.session_factory() as session:
            changes = await ScheduleService(session).holds_after_manual(
                app_environment_ids, woke=woke, now=self.clock()
            )
        if changes:  # the write lock only when there is something to write
            async with write_transaction(self.session_factory) as session:
                await ScheduleService(session).apply_holds(changes, actor=actor)

    def start(self) -> None:
        self.elections.want(ROLE)
        self._task.start(lambda: self._task.repeat(self._round, self.tick_seconds, self._round_failed))

    async def stop(self) -> None:
        await self._task.stop()

    async def _round(self) -> None:
        if self.elections.holds(ROLE):
            await self.tick()

    def _round_failed(self) -> None:  # the database is away: the next tick looks again
        logger.warning("a scheduler tick failed; trying again at the next", exc_info=True)


def _to_change(schedule: Schedule, asleep: bool, members: list[Member], now: datetime) -> list[str]:
    selection = selection_of(schedule)
    acting_on = (_TO_SLEEP if schedule.reduce_to is None else _TO_REDUCE) if asleep else _TO_WAKE
    apps = []
    for member in members:
        if not selection.includes(member.app, member.team):
            continue
        if member.hold_until is not None and member.hold_until > now:
            continue  # a keep-awake, or a manual operation, holds it until then
        if member.status in acting_on:
            apps.append(member.app)
    return apps
