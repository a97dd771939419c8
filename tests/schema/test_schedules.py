"""Schedules: create, update, pause, delete; next actions; overlaps and invalid input refused."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.applications import Starlette

from app.simulator import SimulatedCluster
from tests.fixtures.graphql import GraphQLClient
from tests.schema.live_helpers import add_app, add_environment, register_simulator
from tests.schema.schedule_helpers import (
    DELETE,
    NEXT_ACTIONS,
    PAUSE,
    UPDATE,
    Clock,
    create_schedule,
    nightly,
    scheduler_of,
)

NS = "team-dev"
FRIDAY_NOON = datetime(2026, 6, 5, 10, 0, tzinfo=UTC)  # 12:00 in Paris


async def _setup(graphql: GraphQLClient, simulator: SimulatedCluster) -> None:
    await register_simulator(graphql, simulator)
    await add_environment(graphql, "dev", NS)
    await add_environment(graphql, "prod", "team-prod")
    for app, team in (("api", "core"), ("web", "core"), ("shop", "sales")):
        await add_app(graphql, app, ["dev", "prod"], team=team)


async def test_a_nightly_schedule_shows_its_next_actions(
    graphql: GraphQLClient, simulator: SimulatedCluster, hibernia: Starlette
) -> None:
    await _setup(graphql, simulator)
    scheduler_of(hibernia, Clock(FRIDAY_NOON))

    created = await create_schedule(graphql, **nightly(excludeApps=["shop"]))

    assert created["errors"] == []
    schedule = created["schedule"]
    assert (schedule["apps"], schedule["excludeApps"], schedule["environment"]["name"]) == (None, ["shop"], "dev")
    assert schedule["weekdays"] == ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
    actions = (await graphql.query(NEXT_ACTIONS, {"name": "nightly", "first": 3}))["schedule"]["nextActions"]
    assert [(a["at"], a["action"]) for a in actions] == [
        ("2026-06-05T17:00:00+00:00", "SLEEP"),
        ("2026-06-08T06:00:00+00:00", "WAKE"),
        ("2026-06-08T17:00:00+00:00", "SLEEP"),
    ]
    assert [e["app"]["name"] for e in actions[0]["appEnvironments"]] == ["api", "web"]


async def test_update_pause_and_delete(
    graphql: GraphQLClient, simulator: SimulatedCluster, hibernia: Starlette
) -> None:
    await _setup(graphql, simulator)
    scheduler_of(hibernia, Clock(FRIDAY_NOON))
    await create_schedule(graphql, **nightly())

    updated = (await graphql.query(UPDATE, {"input": nightly(apps=["api"], wakeAt=None, reduceTo=1)}))["updateSchedule"]
    assert updated["errors"] == []
    assert (updated["schedule"]["apps"], updated["schedule"]["wakeAt"], updated["schedule"]["reduceTo"]) == (
        ["api"],
        None,
        1,
    )

    paused = await graphql.query(PAUSE, {"input": {"name": "nightly", "until": "2026-06-20T00:00:00Z"}})
    assert paused["pauseSchedule"]["schedule"]["pausedUntil"] == "2026-06-20T00:00:00+00:00"
    actions = (await graphql.query(NEXT_ACTIONS, {"name": "nightly", "first": 1}))["schedule"]["nextActions"]
    assert actions[0]["at"] == "2026-06-22T17:00:00+00:00"  # the first Monday sleep after the pause
    resumed = (await graphql.query(PAUSE, {"input": {"name": "nightly", "until": None}}))["pauseSchedule"]
    assert resumed["schedule"]["pausedUntil"] is None

    deleted = (await graphql.query(DELETE, {"input": {"name": "nightly"}}))["deleteSchedule"]
    assert deleted == {"schedule": {"name": "nightly"}, "errors": []}
    assert (await graphql.query(NEXT_ACTIONS, {"name": "nightly", "first": 1}))["schedule"] is None
    gone = (await graphql.query(DELETE, {"input": {"name": "nightly"}}))["deleteSchedule"]
    assert [e["code"] for e in gone["errors"]] == ["NOT_FOUND"]


@pytest.mark.parametrize(
    ("first", "second", "overlap"),
    [
        pytest.param({}, {}, True, id="both-every-app"),
        pytest.param({"apps": ["api"]}, {"apps": ["api", "web"]}, True, id="same-app-named"),
        pytest.param({"apps": ["api"]}, {"apps": ["web"]}, False, id="other-apps"),
        pytest.param({}, {"apps": ["shop"]}, True, id="named-inside-every-app"),
        pytest.param({"excludeApps": ["shop"]}, {"apps": ["shop"]}, False, id="named-excluded-from-every-app"),
        pytest.param({"teams": ["core"]}, {"teams": ["sales"]}, False, id="other-teams"),
        pytest.param({"teams": ["core"]}, {"apps": ["api"]}, True, id="named-in-team"),
        pytest.param({"teams": ["core", "sales"]}, {"teams": ["sales"]}, True, id="shared-team"),
        pytest.param({}, {"environment": "prod"}, False, id="other-environment"),
    ],
)
async def test_overlapping_schedules_are_refused_naming_both(
    graphql: GraphQLClient, simulator: SimulatedCluster, first: dict[str, Any], second: dict[str, Any], overlap: bool
) -> None:
    await _setup(graphql, simulator)
    assert (await create_schedule(graphql, **nightly("one", **first)))["errors"] == []

    answer = await create_schedule(graphql, **{**nightly("two"), **second})

    if overlap:
        assert [e["code"] for e in answer["errors"]] == ["INVALID_INPUT"] and answer["schedule"] is None
        assert "'one'" in answer["errors"][0]["message"] and "'two'" in answer["errors"][0]["message"]
    else:
        assert answer["errors"] == []


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        pytest.param({"timeZone": "Mars/Olympus"}, "INVALID_INPUT", "timeZone", id="zone"),
        pytest.param({"sleepAt": "25:00"}, "INVALID_INPUT", "sleepAt", id="sleep-time"),
        pytest.param({"wakeAt": "8am"}, "INVALID_INPUT", "wakeAt", id="wake-time"),
        pytest.param({"weekdays": []}, "INVALID_INPUT", "weekdays", id="no-weekday"),
        pytest.param({"reduceTo": 0}, "INVALID_INPUT", "reduceTo", id="reduce-to-zero"),
        pytest.param({"name": "Not_A_Name"}, "INVALID_INPUT", "name", id="name"),
        pytest.param({"environment": "nowhere"}, "NOT_FOUND", "environment", id="environment"),
        pytest.param({"apps": ["ghost"]}, "NOT_FOUND", "apps", id="app-not-attached"),
        pytest.param({"apps": ["api"], "teams": ["core"]}, "INVALID_INPUT", "teams", id="teams-with-apps"),
    ],
)
async def test_invalid_schedules_are_refused(
    graphql: GraphQLClient, simulator: SimulatedCluster, change: dict[str, Any], code: str, field: str
) -> None:
    await _setup(graphql, simulator)

    answer = await create_schedule(graphql, **{**nightly(), **change})

    assert [(e["code"], e["field"]) for e in answer["errors"]] == [(code, field)]
    listed = await graphql.query("{ schedules { totalCount } }")
    assert listed["schedules"]["totalCount"] == 0


async def test_schedules_are_listed_by_name_and_filtered_by_environment(
    graphql: GraphQLClient, simulator: SimulatedCluster
) -> None:
    await _setup(graphql, simulator)
    await create_schedule(graphql, **nightly("b-dev"))
    await create_schedule(graphql, **nightly("a-prod", environment="prod"))

    everything = await graphql.query("{ schedules(first: 1) { nodes { name } totalCount pageInfo { endCursor } } }")
    assert [n["name"] for n in everything["schedules"]["nodes"]] == ["a-prod"]
    assert everything["schedules"]["totalCount"] == 2
    after = everything["schedules"]["pageInfo"]["endCursor"]
    rest = await graphql.query("query($a: String) { schedules(after: $a) { nodes { name } } }", {"a": after})
    assert [n["name"] for n in rest["schedules"]["nodes"]] == ["b-dev"]
    dev = await graphql.query('{ schedules(filter: {environments: ["dev"]}) { nodes { name } totalCount } }')
    assert dev["schedules"] == {"nodes": [{"name": "b-dev"}], "totalCount": 1}
