"""Live status through GraphQL, against the simulator over HTTP."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select
from starlette.applications import Starlette

from app.db.models import AppEnvironment, Transition, TransitionCause
from app.db.types import utcnow
from app.domain.workloads import HIBERNATION_ANNOTATION
from app.simulator import SimulatedCluster
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.graphql import GraphQLClient
from tests.schema.live_helpers import SIMULATOR_TOKEN, add_app, add_environment, register_simulator
from tests.schema.operation_helpers import UNHIBERNATE

APP_STATUS = """
query($app: String!, $env: String!) {
  appStatus(app: $app, environment: $env) {
    status reason observedAt
    workloads { kind name desiredReplicas readyReplicas hibernated originalReplicas images }
    appEnvironment { status statusReason app { name } }
  }
}"""


async def _transitions(database: DatabaseUnderTest) -> list[tuple[str, str, str, str]]:
    async with database.engine.connect() as connection:
        rows = await connection.execute(
            select(Transition.from_status, Transition.to_status, Transition.cause, Transition.actor).order_by(
                Transition.id
            )
        )
        return [(str(a), str(b), str(c), d) for a, b, c, d in rows]


async def test_app_status_reports_hibernation_and_records_it(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await register_simulator(graphql, simulator)
    await add_environment(graphql, "dev", "team-dev")
    await add_app(graphql, "api", ["dev"])
    simulator.add_deployment("team-dev", "api", "api", image="registry/api:2", hibernated_from=3)
    simulator.add_statefulset("team-dev", "api-db", "api", image="postgres:16", hibernated_from=1)
    simulator.add_deployment("team-dev", "other", "other", 2)  # another release: not part of the app

    status = (await graphql.query(APP_STATUS, {"app": "api", "env": "dev"}))["appStatus"]

    assert status["status"] == "HIBERNATING"
    assert "api" in status["reason"] and "api-db" in status["reason"]
    assert [
        (w["kind"], w["name"], w["desiredReplicas"], w["hibernated"], w["originalReplicas"])
        for w in status["workloads"]
    ] == [
        ("DEPLOYMENT", "api", 0, True, 3),
        ("STATEFUL_SET", "api-db", 0, True, 1),
    ]
    assert status["workloads"][0]["images"] == ["registry/api:2"]
    assert status["appEnvironment"]["status"] == "HIBERNATING"
    assert await _transitions(database) == [("NOT_DEPLOYED", "HIBERNATING", TransitionCause.OBSERVED.value, "hibernia")]


async def test_observing_the_same_status_twice_writes_one_transition(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await register_simulator(graphql, simulator)
    await add_environment(graphql, "dev", "team-dev")
    await add_app(graphql, "web", ["dev"])
    simulator.add_deployment("team-dev", "web", "web", 2)

    for _ in range(3):
        assert (await graphql.query(APP_STATUS, {"app": "web", "env": "dev"}))["appStatus"]["status"] == "HEALTHY"

    assert await _transitions(database) == [("NOT_DEPLOYED", "HEALTHY", "OBSERVED", "hibernia")]


async def test_app_statuses_answers_a_group_in_the_order_asked(
    graphql: GraphQLClient, simulator: SimulatedCluster
) -> None:
    await register_simulator(graphql, simulator)
    await add_environment(graphql, "dev", "team-dev")
    for name in ("a", "b", "c"):
        await add_app(graphql, name, ["dev"])
    simulator.add_deployment("team-dev", "a", "a", 1)
    simulator.add_deployment("team-dev", "b", "b", hibernated_from=2)

    data = await graphql.query(
        """{ group: appStatuses(environment: "dev", apps: ["c", "b", "a"]) { status appEnvironment { app { name } } }
             all: appStatuses(environment: "dev") { status } }"""
    )

    assert [(s["appEnvironment"]["app"]["name"], s["status"]) for s in data["group"]] == [
        ("c", "NOT_DEPLOYED"),
        ("b", "HIBERNATING"),
        ("a", "HEALTHY"),
    ]
    assert [s["status"] for s in data["all"]] == ["HEALTHY", "HIBERNATING", "NOT_DEPLOYED"]
    # Three kinds, one namespace, for each of the two fields.
    assert simulator.count("list") == 6


async def test_unknown_names_are_not_found_errors(graphql: GraphQLClient, simulator: SimulatedCluster) -> None:
    await register_simulator(graphql, simulator)
    await add_environment(graphql, "dev", "team-dev")
    await add_environment(graphql, "qa", "team-qa")
    await add_app(graphql, "web", ["dev"])

    missing_app = await graphql.errors('{ appStatus(app: "nope", environment: "dev") { status } }')
    not_attached = await graphql.errors(APP_STATUS, {"app": "web", "env": "qa"})
    missing_env = await graphql.errors('{ appStatuses(environment: "nope") { status } }')
    missing_in_group = await graphql.errors('{ appStatuses(environment: "dev", apps: ["web", "ghost"]) { status } }')

    for errors in (missing_app, not_attached, missing_env, missing_in_group):
        assert errors[0]["extensions"]["code"] == "NOT_FOUND"
    assert "ghost" in missing_in_group[0]["message"]
    assert simulator.count() == 0


async def test_asking_only_the_recorded_status_makes_no_cluster_request(
    graphql: GraphQLClient, simulator: SimulatedCluster
) -> None:
    await register_simulator(graphql, simulator)
    await add_environment(graphql, "dev", "team-dev")
    await add_app(graphql, "web", ["dev"])

    await graphql.query("{ apps { edges { node { environments { status statusReason } } } } }")
    await graphql.query("{ appEnvironments { edges { node { status } } } }")

    assert simulator.count() == 0


async def test_one_cluster_down_makes_only_its_rows_unknown(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    async with SimulatedCluster(token=SIMULATOR_TOKEN) as other:
        await register_simulator(graphql, simulator)
        await register_simulator(graphql, other, name="other")
        await add_environment(graphql, "dev", "team-dev")
        await add_environment(graphql, "far", "team-far", cluster="other")
        await add_app(graphql, "web", ["dev", "far"])
        simulator.add_deployment("team-dev", "web", "web", hibernated_from=2)
        other.add_deployment("team-far", "web", "web", hibernated_from=2)
        query = "{ appEnvironments { edges { node { environment { name } status liveStatus { status reason } } } } }"
        await graphql.query(query)  # both observed HIBERNATING and recorded
        await other.go_offline()

        data = await graphql.query(query)

    rows = {e["node"]["environment"]["name"]: e["node"] for e in data["appEnvironments"]["edges"]}
    assert rows["dev"]["liveStatus"]["status"] == "HIBERNATING"
    assert rows["far"]["liveStatus"]["status"] == "UNKNOWN"
    assert rows["far"]["liveStatus"]["reason"]
    # The recorded status keeps the last thing known rather than forgetting the app is hibernated.
    async with database.engine.connect() as connection:
        recorded = (await connection.execute(select(AppEnvironment.status))).scalars().all()
    assert sorted(str(s) for s in recorded) == ["HIBERNATING", "HIBERNATING"]


async def test_refresher_finds_a_workload_hibernated_behind_hibernias_back(
    graphql: GraphQLClient, simulator: SimulatedCluster, refresher_round: object
) -> None:
    await register_simulator(graphql, simulator)
    await add_environment(graphql, "dev", "team-dev")
    await add_app(graphql, "web", ["dev"])
    await add_app(graphql, "api", ["dev"])
    simulator.add_deployment("team-dev", "web", "web", 3)
    simulator.add_deployment("team-dev", "api", "api", 1)
    assert callable(refresher_round)
    await refresher_round()
    hibernating = (
        "{ appEnvironments(filter: {statuses: [HIBERNATING]}) { totalCount edges { node { app { name } } } } }"
    )
    assert (await graphql.query(hibernating))["appEnvironments"]["totalCount"] == 0

    # Someone (winter-soldier, a person with kubectl) hibernates `web` directly through the API.
    async with httpx.AsyncClient(
        base_url=simulator.url, headers={"Authorization": f"Bearer {SIMULATOR_TOKEN}"}
    ) as http:
        response = await http.patch(
            "/apis/apps/v1/namespaces/team-dev/deployments/web",
            json={"metadata": {"annotations": {HIBERNATION_ANNOTATION: "3"}}, "spec": {"replicas": 0}},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert response.status_code == 200
    assert (await graphql.query(hibernating))["appEnvironments"]["totalCount"] == 0

    await refresher_round()

    found = (await graphql.query(hibernating))["appEnvironments"]
    assert found["totalCount"] == 1
    assert found["edges"][0]["node"]["app"]["name"] == "web"


async def test_a_wake_ends_when_the_app_is_seen_healthy(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    from tests.schema.operation_helpers import hibernate, unhibernate

    await register_simulator(graphql, simulator)
    await add_environment(graphql, "dev", "team-dev")
    await add_app(graphql, "web", ["dev"])
    simulator.add_deployment("team-dev", "web", "web", 3)
    await hibernate(graphql)

    woken = await unhibernate(graphql)

    async with database.engine.connect() as connection:
        started = (await connection.execute(select(AppEnvironment.wake_started_at))).scalar_one()
    assert woken["status"]["status"] == "WAKING" and started is not None

    assert (await graphql.query(APP_STATUS, {"app": "web", "env": "dev"}))["appStatus"]["status"] == "HEALTHY"

    # Later rollouts are judged as rollouts again, not against the wake's deadline.
    async with database.engine.connect() as connection:
        assert (await connection.execute(select(AppEnvironment.wake_started_at))).scalar_one() is None


async def test_a_statefulset_stuck_past_its_deadline_is_degraded(
    graphql: GraphQLClient, simulator: SimulatedCluster, hibernia: Starlette
) -> None:
    await register_simulator(graphql, simulator)
    await add_environment(graphql, "dev", "team-dev")
    await add_app(graphql, "db", ["dev"])
    simulator.add_statefulset("team-dev", "db", "db", 2)
    simulator.set_stuck("team-dev/db")
    live_status = hibernia.state.runtime.services.live_status

    assert (await graphql.query(APP_STATUS, {"app": "db", "env": "dev"}))["appStatus"]["status"] == "PROGRESSING"

    # The deadline (600 s by default) counts from the last spec change: an hour later it has passed.
    live_status.clock = lambda: utcnow() + timedelta(hours=1)
    stuck = (await graphql.query(APP_STATUS, {"app": "db", "env": "dev"}))["appStatus"]

    assert stuck["status"] == "DEGRADED"
    assert "600s after its last spec change" in stuck["reason"]
    assert stuck["appEnvironment"]["status"] == "DEGRADED"


async def test_apps_stopped_by_their_owner_are_stopped_and_waking_them_changes_nothing(
    graphql: GraphQLClient, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await register_simulator(graphql, simulator)
    await add_environment(graphql, "dev", "team-dev")
    await add_app(graphql, "batch", ["dev"])
    simulator.add_deployment("team-dev", "batch", "batch", 0)
    simulator.add_cronjob("team-dev", "batch-nightly", "batch", suspend=True)

    status = (await graphql.query(APP_STATUS, {"app": "batch", "env": "dev"}))["appStatus"]
    assert status["status"] == "STOPPED"
    assert "nothing to restore" in status["reason"]

    woken = (await graphql.query(UNHIBERNATE, {"input": {"app": "batch", "environment": "dev"}}))["unhibernate"]

    assert woken["outcome"] == "UNCHANGED" and woken["errors"] == []
    assert woken["status"]["status"] == "STOPPED"
    assert simulator.get("Deployment", "team-dev", "batch")["spec"]["replicas"] == 0
    assert simulator.get("CronJob", "team-dev", "batch-nightly")["spec"]["suspend"] is True
