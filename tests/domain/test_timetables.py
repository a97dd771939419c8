"""Timetables: weekdays, local times in IANA zones, and the daylight-saving rules."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from app.domain.errors import InvalidInput
from app.domain.timetables import Action, ActionKind, Timetable, Weekday, local_instant

SLEEP, WAKE = ActionKind.SLEEP, ActionKind.WAKE
WEEKDAYS = [Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY, Weekday.FRIDAY]
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("day", "clock", "zone", "expected"),
    [
        pytest.param((2026, 6, 1), time(19, 0), PARIS, _utc(2026, 6, 1, 17, 0), id="summer"),
        pytest.param((2026, 1, 5), time(19, 0), PARIS, _utc(2026, 1, 5, 18, 0), id="winter"),
        # Spring forward in Paris, 29 March 2026: 02:00 jumps to 03:00. 02:30 does not exist: 03:00.
        pytest.param((2026, 3, 29), time(2, 30), PARIS, _utc(2026, 3, 29, 1, 0), id="gap-fires-at-its-end"),
        pytest.param((2026, 3, 29), time(3, 0), PARIS, _utc(2026, 3, 29, 1, 0), id="just-after-gap"),
        # Fall back in Paris, 25 October 2026: 03:00 goes back to 02:00. 02:30 happens twice: the first.
        pytest.param((2026, 10, 25), time(2, 30), PARIS, _utc(2026, 10, 25, 0, 30), id="overlap-first-occurrence"),
        # New York, 8 March 2026: 02:00 jumps to 03:00.
        pytest.param((2026, 3, 8), time(2, 15), NEW_YORK, _utc(2026, 3, 8, 7, 0), id="gap-new-york"),
        pytest.param((2026, 11, 1), time(1, 30), NEW_YORK, _utc(2026, 11, 1, 5, 30), id="overlap-new-york"),
    ],
)
def test_local_instant(day: tuple[int, int, int], clock: time, zone: ZoneInfo, expected: datetime) -> None:
    from datetime import date

    assert local_instant(date(*day), clock, zone) == expected


def test_nightly_on_weekdays_sleeps_friday_night_until_monday_morning() -> None:
    table = Timetable.parse(WEEKDAYS, "19:00", "08:00", "Europe/Paris")
    friday_noon = _utc(2026, 6, 5, 10, 0)

    assert table.next_actions(friday_noon, 3) == [
        Action(_utc(2026, 6, 5, 17, 0), SLEEP),
        Action(_utc(2026, 6, 8, 6, 0), WAKE),
        Action(_utc(2026, 6, 8, 17, 0), SLEEP),
    ]
    assert not table.asleep_at(friday_noon)
    assert table.asleep_at(_utc(2026, 6, 6, 12, 0))  # Saturday
    assert table.asleep_at(_utc(2026, 6, 8, 5, 59))
    assert not table.asleep_at(_utc(2026, 6, 8, 6, 0))
    assert table.next_of(WAKE, friday_noon) == _utc(2026, 6, 8, 6, 0)


def test_without_a_wake_time_it_stays_asleep() -> None:
    table = Timetable.parse([Weekday.FRIDAY], "20:00", None, "UTC")

    assert [a.kind for a in table.next_actions(_utc(2026, 6, 1), 3)] == [SLEEP, SLEEP, SLEEP]
    assert table.asleep_at(_utc(2026, 6, 10))
    assert table.next_of(WAKE, _utc(2026, 6, 10)) is None


def test_a_week_of_actions_across_spring_forward_fires_each_once() -> None:
    # Every day, sleep at 02:30 (inside the gap on 29 March) and wake at 07:00, in Paris.
    table = Timetable.parse(list(Weekday), "02:30", "07:00", "Europe/Paris")

    actions = table.next_actions(_utc(2026, 3, 26, 12, 0), 8)

    assert [a.kind for a in actions] == [SLEEP, WAKE] * 4
    assert actions[4] == Action(_utc(2026, 3, 29, 1, 0), SLEEP)  # 03:00 CEST, the first valid instant
    assert actions[2] == Action(_utc(2026, 3, 28, 1, 30), SLEEP)  # 02:30 CET the day before
    assert actions[6] == Action(_utc(2026, 3, 30, 0, 30), SLEEP)  # 02:30 CEST the day after


def test_a_time_repeated_by_fall_back_fires_once() -> None:
    table = Timetable.parse(list(Weekday), "02:30", "06:00", "Europe/Paris")

    actions = table.next_actions(_utc(2026, 10, 24, 12, 0), 4)

    sleeps = [a.at for a in actions if a.kind is SLEEP]
    assert sleeps == [_utc(2026, 10, 25, 0, 30), _utc(2026, 10, 26, 1, 30)]


@pytest.mark.parametrize(
    ("weekdays", "sleep_at", "wake_at", "zone", "field"),
    [
        pytest.param(WEEKDAYS, "19:00", "08:00", "Mars/Olympus", "timeZone", id="unknown-zone"),
        pytest.param(WEEKDAYS, "19:00", "08:00", "../etc/passwd", "timeZone", id="path-as-zone"),
        pytest.param(WEEKDAYS, "19:00", "08:00", "", "timeZone", id="empty-zone"),
        pytest.param(WEEKDAYS, "24:00", "08:00", "UTC", "sleepAt", id="hour-24"),
        pytest.param(WEEKDAYS, "7pm", "08:00", "UTC", "sleepAt", id="words"),
        pytest.param(WEEKDAYS, "19:00", "8:00", "UTC", "wakeAt", id="one-digit-hour"),
        pytest.param(WEEKDAYS, "19:00", "19:00", "UTC", "wakeAt", id="same-times"),
        pytest.param([], "19:00", "08:00", "UTC", "weekdays", id="no-weekday"),
    ],
)
def test_invalid_timetables(weekdays: list[Weekday], sleep_at: str, wake_at: str, zone: str, field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        Timetable.parse(weekdays, sleep_at, wake_at, zone)
    assert raised.value.field == field
