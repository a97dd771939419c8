"""Schedules through the public API, and a scheduler clock tests move by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.applications import Starlette

from app.services.scheduler import Scheduler, TickResult
from tests.fixtures.graphql import GraphQLClient

ERRORS = "errors { code message field }"
SCHEDULE_FIELDS = (
    "name apps teams excludeApps timeZone weekdays sleepAt wakeAt reduceTo pausedUntil lastError retryAt "
    "environment { name }"
)
CREATE = f"""
mutation($input: ScheduleInput!) {{ createSchedule(input: $input) {{ schedule {{ {SCHEDULE_FIELDS} }} {ERRORS} }} }}"""
UPDATE = f"""
mutation($input: ScheduleInput!) {{ updateSchedule(input: $input) {{ schedule {{ {SCHEDULE_FIELDS} }} {ERRORS} }} }}"""
DELETE = f"""
mutation($input: ScheduleNameInput!) {{ deleteSchedule(input: $input) {{ schedule {{ name }} {ERRORS} }} }}"""
PAUSE = f"""
mutation($input: PauseScheduleInput!) {{
  pauseSchedule(input: $input) {{ schedule {{ name pausedUntil }} {ERRORS} }}
}}"""
KEEP_AWAKE = f"""
mutation($input: KeepAwakeInput!) {{
  keepAwake(input: $input) {{ outcome keepAwakeUntil status {{ status }} {ERRORS} }}
}}"""
NEXT_ACTIONS = """
query($name: String!, $first: Int!) {
  schedule(name: $name) { name nextActions(first: $first) { at action appEnvironments { app { name } } } }
}"""
WEEKDAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]


def nightly(name: str = "nightly", environment: str = "dev", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "environment": environment,
        "timeZone": "Europe/Paris",
        "weekdays": WEEKDAYS,
        "sleepAt": "19:00",
        "wakeAt": "08:00",
        **extra,
    }


async def create_schedule(graphql: GraphQLClient, **input_: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await graphql.query(CREATE, {"input": input_}))["createSchedule"]
    return payload


@dataclass
class Clock:
    """The scheduler's clock: tests set the time, never wait for it."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


def scheduler_of(hibernia: Starlette, clock: Clock) -> Scheduler:
    scheduler: Scheduler = hibernia.state.runtime.services.scheduler
    scheduler.clock = clock
    return scheduler


async def tick(scheduler: Scheduler) -> TickResult:
    return await scheduler.tick()
