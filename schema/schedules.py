"""Schedules and keep-awake in the graph: types, inputs, the mutations and the queries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

import strawberry

from app.db import models
from app.domain.access import Action
from app.domain.errors import HiberniaError, InvalidInputs
from app.domain.timetables import Weekday as DomainWeekday
from app.services.schedules import ScheduleService, ScheduleSpec, timetable_of
from schema.context import Info
from schema.enums import OperationOutcome, ScheduledActionKind, Weekday
from schema.errors import OperationError, operation_errors
from schema.live_status import AppEnvironmentStatus
from schema.pagination import DEFAULT_PAGE_SIZE, Connection, connection, page_request
from schema.types import AppEnvironment, Environment
from schema.visibility import require_action

_INPUT = "What to do; see the input type for each field."
_ERRORS = "Expected failures; empty when the mutation did what was asked."


@strawberry.type(description="One thing a schedule will do.")
class ScheduledAction:
    at: datetime = strawberry.field(description="When (UTC), by the schedule's time zone and its daylight saving.")
    action: ScheduledActionKind = strawberry.field(description="SLEEP or WAKE.")
    app_environments: list[AppEnvironment] = strawberry.field(
        description="The app environments it applies to, as attached now (holds and statuses aside)."
    )


@strawberry.type(description="A recurring sleep and wake rule for apps of one environment, in a time zone.")
class Schedule:
    name: str = strawberry.field(description="Unique name.")
    apps: list[str] | None = strawberry.field(
        description="The apps it covers; null: every app attached to the environment, now and later."
    )
    teams: list[str] | None = strawberry.field(description="With `apps` null: only apps of these teams.")
    exclude_apps: list[str] = strawberry.field(description="With `apps` null: apps left out.")
    time_zone: str = strawberry.field(description="IANA time zone of `sleepAt` and `wakeAt`, e.g. Europe/Paris.")
    weekdays: list[Weekday] = strawberry.field(description="The days it sleeps and wakes on.")
    sleep_at: str = strawberry.field(description="When it sleeps, HH:MM local time.")
    wake_at: str | None = strawberry.field(description="When it wakes, HH:MM; null: asleep until woken by hand.")
    reduce_to: int | None = strawberry.field(description="Sleep to this many replicas (reduced mode); null: to 0.")
    paused_until: datetime | None = strawberry.field(description="It does nothing until then; null: not paused.")
    last_error: str | None = strawberry.field(
        description="Why its last attempt failed, kept until one succeeds; null when all went well."
    )
    last_error_at: datetime | None = strawberry.field(description="When `lastError` happened.")
    retry_at: datetime | None = strawberry.field(description="When a failed attempt is retried (backoff).")
    row: strawberry.Private[models.Schedule]

    @strawberry.field(description="The environment whose apps it covers.")
    def environment(self) -> Environment:
        return Environment.from_row(self.row.environment)

    @strawberry.field(description="The next actions, however far ahead (after a pause, from its end).")
    async def next_actions(
        self, info: Info, first: Annotated[int, strawberry.argument(description="How many, 1 to 100.")] = 5
    ) -> list[ScheduledAction]:
        async with info.context.read_session() as session:
            planned = await ScheduleService(session).next_actions(
                self.row, first, info.context.services.scheduler.clock()
            )
        return [
            ScheduledAction(
                at=p.action.at,
                action=ScheduledActionKind[p.action.kind.value],
                app_environments=[
                    AppEnvironment.from_row(row, app=row.app, environment=row.environment) for row in p.app_environments
                ],
            )
            for p in planned
        ]

    @classmethod
    def from_row(cls, row: models.Schedule) -> Self:
        return cls(
            name=row.name,
            apps=row.apps,
            teams=row.teams,
            exclude_apps=list(row.exclude_apps or []),
            time_zone=row.time_zone,
            weekdays=[Weekday[day.name] for day in sorted(timetable_of(row).weekdays)],
            sleep_at=row.sleep_at,
            wake_at=row.wake_at,
            reduce_to=row.reduce_to,
            paused_until=row.paused_until,
            last_error=row.last_error,
            last_error_at=row.last_error_at,
            retry_at=row.retry_at,
            row=row,
        )


@strawberry.input(description="A schedule's definition (`updateSchedule` replaces the whole definition).")
class ScheduleInput:
    name: str = strawberry.field(description="Unique DNS-1123 name, e.g. `nightly-dev`.")
    environment: str = strawberry.field(description="The environment's name.")
    apps: list[str] | None = strawberry.field(
        default=None, description="These apps; omitted: every app attached to the environment, now and later."
    )
    teams: list[str] | None = strawberry.field(default=None, description="With `apps` omitted: only these teams.")
    exclude_apps: list[str] | None = strawberry.field(
        default=None, description="With `apps` omitted: leave these apps out."
    )
    time_zone: str = strawberry.field(description="IANA time zone, e.g. Europe/Paris.")
    weekdays: list[Weekday] = strawberry.field(description="The days to sleep and wake on.")
    sleep_at: str = strawberry.field(
        description="When to sleep, HH:MM local time (a time skipped by daylight "
        "saving fires at the first valid instant after it; a repeated one fires once)."
    )
    wake_at: str | None = strawberry.field(default=None, description="When to wake, HH:MM; omitted: stay asleep.")
    reduce_to: int | None = strawberry.field(
        default=None, description="Sleep to this many replicas (1 or more, reduced mode); omitted: to 0."
    )

    def to_spec(self) -> ScheduleSpec:
        return ScheduleSpec(
            name=self.name,
            environment=self.environment,
            apps=self.apps,
            teams=self.teams,
            exclude_apps=self.exclude_apps,
            time_zone=self.time_zone,
            weekdays=[DomainWeekday[day.name] for day in self.weekdays],
            sleep_at=self.sleep_at,
            wake_at=self.wake_at,
            reduce_to=self.reduce_to,
        )


@strawberry.input(description="A schedule, by name.")
class ScheduleNameInput:
    name: str = strawberry.field(description="The schedule's name.")


@strawberry.input(description="Pause a schedule until a time, or resume it.")
class PauseScheduleInput:
    name: str = strawberry.field(description="The schedule's name.")
    until: datetime | None = strawberry.field(
        default=None, description="It does nothing until then; null resumes it now."
    )


@strawberry.type(description="The result of a schedule mutation.")
class SchedulePayload:
    schedule: Schedule | None = strawberry.field(description="The schedule (as deleted, for `deleteSchedule`).")
    errors: list[OperationError] = strawberry.field(description=_ERRORS)


@strawberry.input(description="Keep an app environment awake: every schedule leaves it alone until `until`.")
class KeepAwakeInput:
    app: str = strawberry.field(description="The app's name.")
    environment: str = strawberry.field(description="The environment's name.")
    until: datetime = strawberry.field(description="Until when, at most 31 days ahead.")


@strawberry.type(description="The result of `keepAwake`.")
class KeepAwakePayload:
    outcome: OperationOutcome = strawberry.field(description="APPLIED when it was woken, UNCHANGED when awake.")
    keep_awake_until: datetime | None = strawberry.field(description="Until when schedules leave it alone.")
    status: AppEnvironmentStatus | None = strawberry.field(description="The status the wake left behind.")
    errors: list[OperationError] = strawberry.field(description=_ERRORS)


async def _define(info: Info, environment: str, work: str, spec_or_name: ScheduleSpec | str) -> SchedulePayload:
    try:
        require_action(info, Action.OPERATE, environment)
        async with info.context.write_session() as session:
            service = ScheduleService(session)
            if isinstance(spec_or_name, ScheduleSpec):
                row = await (service.create(spec_or_name) if work == "create" else service.update(spec_or_name))
            else:
                row = await service.delete(spec_or_name)
            return SchedulePayload(schedule=Schedule.from_row(row), errors=[])
    except (HiberniaError, InvalidInputs) as error:
        return SchedulePayload(schedule=None, errors=operation_errors(error))


async def _environment_of(info: Info, name: str) -> str | None:
    async with info.context.read_session() as session:
        row = await ScheduleService(session).find(name)
    return None if row is None else row.environment.name


@strawberry.type(description="Schedules and keep-awake.")
class ScheduleMutation:
    @strawberry.mutation(description="Create a schedule. One app environment follows at most one schedule.")
    async def create_schedule(
        self, info: Info, input: Annotated[ScheduleInput, strawberry.argument(description=_INPUT)]
    ) -> SchedulePayload:
        return await _define(info, input.environment, "create", input.to_spec())

    @strawberry.mutation(description="Replace a schedule's definition; its failures are forgotten.")
    async def update_schedule(
        self, info: Info, input: Annotated[ScheduleInput, strawberry.argument(description=_INPUT)]
    ) -> SchedulePayload:
        current = await _environment_of(info, input.name)
        try:
            if current is not None:
                require_action(info, Action.OPERATE, current)  # moving it needs both environments
        except HiberniaError as error:
            return SchedulePayload(schedule=None, errors=operation_errors(error))
        return await _define(info, input.environment, "update", input.to_spec())

    @strawberry.mutation(description="Delete a schedule; what it slept stays asleep until woken.")
    async def delete_schedule(
        self, info: Info, input: Annotated[ScheduleNameInput, strawberry.argument(description=_INPUT)]
    ) -> SchedulePayload:
        environment = await _environment_of(info, input.name)
        return await _define(info, environment or "", "delete", input.name)

    @strawberry.mutation(description="Pause a schedule until a time (it does nothing meanwhile), or resume it.")
    async def pause_schedule(
        self, info: Info, input: Annotated[PauseScheduleInput, strawberry.argument(description=_INPUT)]
    ) -> SchedulePayload:
        environment = await _environment_of(info, input.name)
        try:
            require_action(info, Action.OPERATE, environment or "")
            async with info.context.write_session() as session:
                row = await ScheduleService(session).pause(input.name, input.until)
                return SchedulePayload(schedule=Schedule.from_row(row), errors=[])
        except (HiberniaError, InvalidInputs) as error:
            return SchedulePayload(schedule=None, errors=operation_errors(error))

    @strawberry.mutation(
        description="Wake an app environment if it sleeps and keep every schedule off it until `until`."
    )
    async def keep_awake(
        self, info: Info, input: Annotated[KeepAwakeInput, strawberry.argument(description=_INPUT)]
    ) -> KeepAwakePayload:
        try:
            require_action(info, Action.OPERATE, input.environment)
            result = await info.context.services.scheduler.keep_awake(
                input.app, input.environment, input.until, actor=info.context.actor
            )
        except (HiberniaError, InvalidInputs) as error:
            return KeepAwakePayload(
                outcome=OperationOutcome.FAILED, keep_awake_until=None, status=None, errors=operation_errors(error)
            )
        return KeepAwakePayload(
            outcome=OperationOutcome[result.outcome.value],
            keep_awake_until=input.until,
            status=None if result.status is None else AppEnvironmentStatus.from_live(result.status),
            errors=[e for error in result.errors for e in operation_errors(error)],
        )


@strawberry.input(description="Which schedules to list.")
class ScheduleFilter:
    environments: list[str] | None = strawberry.field(default=None, description="Only schedules of these environments.")


@strawberry.type(description="Schedules.")
class ScheduleQuery:
    @strawberry.field(description="Schedules by name, paged.")
    async def schedules(
        self,
        info: Info,
        first: Annotated[
            int, strawberry.argument(description="How many rows, 1 to 100 (default 20).")
        ] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description="Rows after this cursor.")] = None,
        filter: Annotated[ScheduleFilter | None, strawberry.argument(description="What to include.")] = None,
    ) -> Connection[Schedule]:
        environments = None if filter is None else filter.environments
        visible = info.context.principal.environments
        visible_list = None if visible is None else sorted(visible)
        request = page_request(first, after, "schedules")
        async with info.context.read_session() as session:
            page = await ScheduleService(session).page(environments, visible_list, request)

        async def count() -> int:
            async with info.context.read_session() as session:
                return await ScheduleService(session).count(environments, visible_list)

        return connection(page, Schedule.from_row, "schedules", count)

    @strawberry.field(description="One schedule by name; null when there is none (or it is not visible).")
    async def schedule(
        self, info: Info, name: Annotated[str, strawberry.argument(description="Its name.")]
    ) -> Schedule | None:
        async with info.context.read_session() as session:
            row = await ScheduleService(session).find(name)
        if row is None or not info.context.principal.sees(row.environment.name):
            return None
        return Schedule.from_row(row)
