"""When a schedule sleeps and wakes: local wall-clock times on weekdays in an IANA time zone, as instants.

Pure: the caller passes the clock. Daylight-saving rules: a time inside a spring-forward gap (02:30 on
a night that jumps from 02:00 to 03:00) fires at the first valid instant after it (03:00); a time inside
a fall-back overlap (01:30 on a night that repeats 01:00 to 02:00) fires once, at its first occurrence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import IntEnum, StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.domain.errors import InvalidInput

_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


class Weekday(IntEnum):
    # The values of `date.weekday()`.
    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6


class ActionKind(StrEnum):
    SLEEP = "SLEEP"
    WAKE = "WAKE"


@dataclass(frozen=True, slots=True)
class Action:
    at: datetime  # UTC
    kind: ActionKind


def parse_clock(value: str, *, field: str) -> time:
    """ "HH:MM", 00:00 to 23:59."""
    match = _CLOCK.fullmatch(value)
    if match is None:
        raise InvalidInput(f"{field} must be a time as HH:MM from 00:00 to 23:59; got '{value[:20]}'.", field=field)
    return time(int(match.group(1)), int(match.group(2)))


def parse_zone(name: str) -> ZoneInfo:
    """An IANA time zone such as Europe/Paris."""
    if not name or len(name) > 64 or name.startswith("/") or ".." in name:
        raise InvalidInput(f"'{name[:64]}' is not an IANA time zone such as Europe/Paris.", field="timeZone")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidInput(f"'{name}' is not an IANA time zone such as Europe/Paris.", field="timeZone") from None


def local_instant(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of `clock` on `day` in `zone`, by the daylight-saving rules of the module."""
    wall = datetime.combine(day, clock)
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first  # exists; fold=0 is its first occurrence when it exists twice
    # In a gap: the transition is the first instant whose wall time is at or after `wall`.
    low, high = wall.replace(tzinfo=zone, fold=1).astimezone(UTC), first
    while high - low > timedelta(seconds=1):
        middle = low + timedelta(seconds=(high - low).total_seconds() // 2)
        if middle.astimezone(zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high


@dataclass(frozen=True, slots=True)
class Timetable:
    weekdays: frozenset[Weekday]
    sleep_at: time
    wake_at: time | None  # None: asleep until someone wakes it
    zone: ZoneInfo

    @classmethod
    def parse(cls, weekdays: Sequence[Weekday], sleep_at: str, wake_at: str | None, time_zone: str) -> Timetable:
        if not weekdays:
            raise InvalidInput("Give at least one weekday.", field="weekdays")
        sleep = parse_clock(sleep_at, field="sleepAt")
        wake = None if wake_at is None else parse_clock(wake_at, field="wakeAt")
        if wake == sleep:
            raise InvalidInput("sleepAt and wakeAt must differ.", field="wakeAt")
        return cls(frozenset(weekdays), sleep, wake, parse_zone(time_zone))

    def _on(self, day: date) -> list[Action]:
        if Weekday(day.weekday()) not in self.weekdays:
            return []
        actions = [Action(local_instant(day, self.sleep_at, self.zone), ActionKind.SLEEP)]
        if self.wake_at is not None:
            actions.append(Action(local_instant(day, self.wake_at, self.zone), ActionKind.WAKE))
        return sorted(actions, key=lambda a: a.at)

    @staticmethod
    def _days(start: date, step: int, count: int) -> Iterator[date]:
        # Every week holds an action (weekdays is never empty), so a bounded walk always finds them.
        for offset in range(count):
            yield start + timedelta(days=step * offset)

    def next_actions(self, after: datetime, count: int) -> list[Action]:
        """The next `count` actions strictly after `after`, however far ahead."""
        found: list[Action] = []
        start = after.astimezone(self.zone).date() - timedelta(days=1)
        for day in self._days(start, 1, 7 * (count + 2)):
            found.extend(a for a in self._on(day) if a.at > after)
            if len(found) >= count:
                return found[:count]
        raise ValueError("a timetable needs at least one weekday")

    def last_action(self, at: datetime) -> Action:
        """The latest action at or before `at`."""
        start = at.astimezone(self.zone).date() + timedelta(days=1)
        for day in self._days(start, -1, 16):
            past = [a for a in self._on(day) if a.at <= at]
            if past:
                return past[-1]
        raise ValueError("a timetable needs at least one weekday")

    def asleep_at(self, at: datetime) -> bool:
        return self.last_action(at).kind is ActionKind.SLEEP

    def next_of(self, kind: ActionKind, after: datetime) -> datetime | None:
        """The next `kind` action after `after`; None for WAKE when the schedule never wakes."""
        if kind is ActionKind.WAKE and self.wake_at is None:
            return None
        start = after.astimezone(self.zone).date() - timedelta(days=1)
        for day in self._days(start, 1, 16):
            for action in self._on(day):
                if action.kind is kind and action.at > after:
                    return action.at
        raise ValueError("a timetable needs at least one weekday")
