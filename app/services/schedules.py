"""Schedules: define them, see what they will do next, and the holds manual operations put on them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AppEnvironment, Schedule
from app.db.pagination import Page, PageRequest
from app.db.repositories.catalog import CatalogRepository
from app.db.repositories.schedules import ScheduleRepository
from app.domain.app_selection import AppSelection
from app.domain.errors import ErrorCode, HiberniaError, InvalidInput, NotFound
from app.domain.names import validate_dns_label
from app.domain.timetables import Action, ActionKind, Timetable, Weekday
from app.domain.wording import some_of
from app.services.hibernation import check_reduce_to

MAX_NEXT_ACTIONS = 100


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    name: str
    environment: str
    apps: Sequence[str] | None
    teams: Sequence[str] | None
    exclude_apps: Sequence[str] | None
    time_zone: str
    weekdays: Sequence[Weekday]
    sleep_at: str
    wake_at: str | None
    reduce_to: int | None


def timetable_of(row: Schedule) -> Timetable:
    weekdays = [Weekday[name] for name in row.weekdays.split(",") if name]
    return Timetable.parse(weekdays, row.sleep_at, row.wake_at, row.time_zone)


def selection_of(row: Schedule) -> AppSelection:
    return AppSelection(
        apps=None if row.apps is None else tuple(row.apps),
        teams=None if row.teams is None else tuple(row.teams),
        exclude_apps=tuple(row.exclude_apps or ()),
    )


@dataclass(frozen=True, slots=True)
class HoldChange:
    app_environment_id: int
    awake: bool
    until: datetime | None  # None: the hold ends


@dataclass(frozen=True, slots=True)
class PlannedAction:
    action: Action
    app_environments: list[AppEnvironment]


class ScheduleService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repository = ScheduleRepository(session)

    async def find(self, name: str) -> Schedule | None:
        return await self.repository.by_name(name)

    async def get(self, name: str) -> Schedule:
        row = await self.repository.by_name(name)
        if row is None:
            raise NotFound("Schedule", name, field="name")
        return row

    async def page(
        self, environments: Sequence[str] | None, visible: Sequence[str] | None, request: PageRequest
    ) -> Page[Schedule]:
        return await self.repository.page(environments, visible, request)

    async def count(self, environments: Sequence[str] | None, visible: Sequence[str] | None) -> int:
        return await self.repository.count(environments, visible)

    async def create(self, spec: ScheduleSpec) -> Schedule:
        validate_dns_label(spec.name, field="name", what="Schedule name")
        if await self.repository.by_name(spec.name) is not None:
            raise InvalidInput(f"A schedule named '{spec.name}' exists already; pick another name.", field="name")
        row = Schedule(name=spec.name, failures=0)
        await self._define(row, spec)
        await self.repository.add(row)
        return await self.get(spec.name)

    async def update(self, spec: ScheduleSpec) -> Schedule:
        row = await self.get(spec.name)
        await self._define(row, spec)
        # A new definition starts afresh: the previous failures were of the old one.
        row.last_error, row.last_error_at, row.failures, row.retry_at = None, None, 0, None
        await self.session.flush()
        return await self.get(spec.name)

    async def delete(self, name: str) -> Schedule:
        row = await self.get(name)
        await self.repository.delete(row)
        return row

    async def pause(self, name: str, until: datetime | None) -> Schedule:
        if until is not None and until.tzinfo is None:
            raise InvalidInput("`until` needs a time zone offset, e.g. 2026-12-01T08:00:00Z.", field="until")
        row = await self.get(name)
        row.paused_until = until
        await self.session.flush()
        return row

    async def _define(self, row: Schedule, spec: ScheduleSpec) -> None:
        timetable = Timetable.parse(spec.weekdays, spec.sleep_at, spec.wake_at, spec.time_zone)
        check_reduce_to(spec.reduce_to)
        catalog = CatalogRepository(self.session)
        environment = await catalog.environment_by_name(spec.environment)
        if environment is None:
            raise NotFound("Environment", spec.environment, field="environment")
        if spec.apps is not None and not spec.apps:
            raise InvalidInput("Give at least one app, or omit `apps` for every app of the environment.", field="apps")
        if spec.teams is not None and not spec.teams:
            raise InvalidInput("Give at least one team, or omit `teams` for every team.", field="teams")
        if spec.apps is not None and (spec.teams is not None or spec.exclude_apps):
            raise InvalidInput("`teams` and `excludeApps` narrow a schedule of every app; omit `apps`.", field="teams")
        selection = AppSelection(
            apps=None if spec.apps is None else tuple(dict.fromkeys(spec.apps)),
            teams=None if spec.teams is None else tuple(dict.fromkeys(spec.teams)),
            exclude_apps=tuple(dict.fromkeys(spec.exclude_apps or ())),
        )
        if selection.apps is not None:
            attached = set(await catalog.app_names_in(environment.id))
            missing = [app for app in selection.apps if app not in attached]
            if missing:
                raise HiberniaError(
                    ErrorCode.NOT_FOUND,
                    f"Not attached to environment '{spec.environment}': {some_of(missing)}.",
                    field="apps",
                )
        await self._refuse_overlaps(spec.name, environment.id, selection)
        row.environment_id = environment.id
        row.apps = None if selection.apps is None else list(selection.apps)
        row.teams = None if selection.teams is None else list(selection.teams)
        row.exclude_apps = list(selection.exclude_apps)
        row.time_zone = spec.time_zone
        row.weekdays = ",".join(day.name for day in sorted(timetable.weekdays))
        row.sleep_at, row.wake_at = spec.sleep_at, spec.wake_at
        row.reduce_to = spec.reduce_to

    async def _refuse_overlaps(self, name: str, environment_id: int, selection: AppSelection) -> None:
        others = [row for row in await self.repository.in_environment(environment_id) if row.name != name]
        named = {app for row in [*others] for app in row.apps or ()} | set(selection.apps or ())
        teams_of = await self.repository.teams_of(sorted(named))
        for other in others:
            shared = selection.shared_with(selection_of(other), teams_of)
            if shared:
                raise InvalidInput(
                    f"Schedule '{name}' would overlap schedule '{other.name}' on {some_of(shared)}: one app "
                    "environment follows one schedule. Narrow either with `apps`, `teams` or `excludeApps`.",
                    field="apps",
                )

    async def next_actions(self, row: Schedule, first: int, now: datetime) -> list[PlannedAction]:
        """The next `first` actions (after a pause), each with the app environments it applies to now."""
        if not 1 <= first <= MAX_NEXT_ACTIONS:
            raise InvalidInput(f"`first` must be between 1 and {MAX_NEXT_ACTIONS}; got {first}.", field="first")
        start = max(now, row.paused_until) if row.paused_until is not None else now
        actions = timetable_of(row).next_actions(start, first)
        selection = selection_of(row)
        covered = [
            attachment
            for attachment in await self.repository.attachments(row.environment_id)
            if selection.includes(attachment.app.name, attachment.app.team)
        ]
        return [PlannedAction(action, covered) for action in actions]

    async def holds_after_manual(
        self, app_environment_ids: Sequence[int], *, woke: bool, now: datetime
    ) -> list[HoldChange]:
        """What manual operations do to their schedules' holds (read only; two statements for any number
        of app environments): a manual wake inside a sleep window keeps the app awake until the
        schedule's next sleep, a manual hibernate outside one keeps it asleep until the next wake; an
        operation that agrees with the schedule ends a hold. A wake leaves a keep-awake as it is."""
        members = await self.repository.members_by_ids(app_environment_ids)
        if not members:
            return []
        schedules = await self.repository.in_environments(sorted({m.environment_id for m in members}))
        changes: list[HoldChange] = []
        for member in members:
            schedule = next(
                (
                    s
                    for s in schedules
                    if s.environment_id == member.environment_id and selection_of(s).includes(member.app, member.team)
                ),
                None,
            )
            if schedule is None:
                continue
            held = member.hold_until is not None and member.hold_until > now
            if woke and held and member.hold_awake:
                continue
            timetable = timetable_of(schedule)
            if woke == timetable.asleep_at(now):  # against the schedule: held until its next boundary
                until = timetable.next_of(ActionKind.SLEEP if woke else ActionKind.WAKE, now)
                if until is not None:
                    changes.append(HoldChange(member.id, woke, until))
            elif member.hold_until is not None:
                changes.append(HoldChange(member.id, woke, None))
        return changes

    async def apply_holds(self, changes: Sequence[HoldChange], *, actor: str) -> None:
        for change in changes:
            if change.until is None:
                await self.repository.release(change.app_environment_id)
            else:
                await self.repository.hold(
                    change.app_environment_id, awake=change.awake, until=change.until, actor=actor, explicit=False
                )
