"""deploy, hibernate and wake from a pipeline: the exit-code matrix, `--output json`, bulk, `--wait`."""

from __future__ import annotations

from app.simulator import SimulatedCluster
from tests.commands.pipeline import NS, catalog, hibernia, plant_lease, token
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.servers import ServerProcess, free_port
from tests.schema.operation_helpers import hibernate, replicas


def _image(simulator: SimulatedCluster, app: str) -> str:
    image: str = simulator.get("Deployment", NS, app)["spec"]["template"]["spec"]["containers"][0]["image"]
    return image


async def test_a_deploy_exits_0_and_prints_the_payload_as_json(
    cli_server: ServerProcess, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await catalog(cli_server, simulator)

    run = await hibernia(
        cli_server, "deploy", "--app", "web", "--environment", "dev", "--image", "web:2", "--output", "json"
    )

    assert run.code == 0, run.stderr
    payload = run.json()["deploy"]
    assert payload["outcome"] == "APPLIED" and payload["errors"] == []
    assert payload["deployment"]["image"] == "web:2" and payload["deployment"]["id"]
    assert _image(simulator, "web") == "web:2"


async def test_a_hibernated_app_is_refused_with_3_and_skipped_with_0(
    cli_server: ServerProcess, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await catalog(cli_server, simulator)
    assert (await hibernate(cli_server.client, "web"))["outcome"] == "APPLIED"
    deploy = ("deploy", "--app", "web", "--environment", "dev", "--image", "web:2")

    refused = await hibernia(cli_server, *deploy)
    refused_explicitly = await hibernia(cli_server, *deploy, "--on-hibernated", "refuse", "--output", "json")
    skipped = await hibernia(cli_server, *deploy, "--on-hibernated", "skip", "--output", "json")

    assert refused.code == 3 and refused.stdout.strip().startswith("web on dev: FAILED")
    assert refused.stderr.startswith("error: ") and "hibernated" in refused.stderr
    assert refused_explicitly.code == 3
    assert [e["code"] for e in refused_explicitly.json()["deploy"]["errors"]] == ["APP_HIBERNATED"]
    assert skipped.code == 0 and skipped.json()["deploy"]["outcome"] == "SKIPPED"
    assert _image(simulator, "web") == "web:1" and replicas(simulator, NS, "web") == 0


async def test_unchanged_is_done_and_unknown_names_and_bad_usage_exit_2(
    cli_server: ServerProcess, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await catalog(cli_server, simulator)

    first = await hibernia(cli_server, "hibernate", "--app", "web", "--environment", "dev")
    again = await hibernia(cli_server, "hibernate", "--app", "web", "--environment", "dev", "--output", "json")
    unknown_app = await hibernia(cli_server, "wake", "--app", "nope", "--environment", "dev")
    unknown_environment = await hibernia(cli_server, "deploy", "--all", "--environment", "nope", "--image", "x:1")
    no_image = await hibernia(cli_server, "deploy", "--app", "web", "--environment", "dev")
    bad_image = await hibernia(cli_server, "deploy", "--app", "web", "--environment", "dev", "--image", "Not An Image")

    assert first.code == 0 and again.code == 0, (first.stderr, again.stderr)
    assert again.json()["hibernate"]["outcome"] == "UNCHANGED"
    assert unknown_app.code == 2 and unknown_app.stderr.startswith("error: ")
    assert unknown_environment.code == 2
    assert no_image.code == 2 and "--image" in no_image.stderr
    assert bad_image.code == 2, bad_image.stderr


async def test_a_busy_app_exits_4(
    cli_server: ServerProcess, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await catalog(cli_server, simulator)
    await plant_lease(database, "web")

    busy = await hibernia(cli_server, "wake", "--app", "web", "--environment", "dev")

    assert busy.code == 4 and "night-bot" in busy.stderr


async def test_an_unreachable_cluster_or_server_exits_5(
    cli_server: ServerProcess, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await catalog(cli_server, simulator)
    await simulator.go_offline()

    cluster_down = await hibernia(cli_server, "hibernate", "--app", "web", "--environment", "dev")
    await simulator.go_online()
    server_down = await hibernia(f"http://127.0.0.1:{free_port()}", "status")

    assert cluster_down.code == 5, cluster_down.stderr
    assert server_down.code == 5 and server_down.stderr.count("\n") == 1
    assert "cannot reach the Hibernia server" in server_down.stderr


async def test_a_forbidden_or_unknown_token_exits_7(
    cli_server: ServerProcess, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await catalog(cli_server, simulator)
    viewer = await token(database, "reader", "viewer")

    forbidden = await hibernia(cli_server, "hibernate", "--app", "web", "--environment", "dev", token=viewer)
    unknown = await hibernia(cli_server, "status", token="hib_not-a-token")
    allowed = await hibernia(cli_server, "status", "--environment", "dev", token=viewer)

    assert forbidden.code == 7 and forbidden.stderr.startswith("error: ")
    assert unknown.code == 7 and "token" in unknown.stderr
    assert allowed.code == 0 and len(allowed.stdout.splitlines()) == 3
    assert replicas(simulator, NS, "web") == 2


async def test_a_bulk_command_exits_with_the_worst_of_its_apps(
    cli_server: ServerProcess, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await catalog(cli_server, simulator)
    assert (await hibernate(cli_server.client, "worker"))["outcome"] == "APPLIED"
    await plant_lease(database, "api")
    deploy_all = ("deploy", "--all", "--environment", "dev", "--image", "team/app:2", "--output", "json")

    refusing = await hibernia(
        cli_server, "deploy", "--apps", "web", "worker", "--environment", "dev", "--image", "team/app:2"
    )
    busy_and_skipped = await hibernia(cli_server, *deploy_all, "--on-hibernated", "skip")

    assert refusing.code == 3
    assert "worker: " in refusing.stderr
    assert busy_and_skipped.code == 4
    results = {r["app"]: r["outcome"] for r in busy_and_skipped.json()["deployMany"]["results"]}
    assert results == {"api": "FAILED", "web": "UNCHANGED", "worker": "SKIPPED"} or results == {
        "api": "FAILED",
        "web": "APPLIED",
        "worker": "SKIPPED",
    }
    assert _image(simulator, "web") == "team/app:2" and _image(simulator, "worker") == "worker:1"


async def test_wait_follows_a_wake_through_waking_to_healthy(
    cli_server: ServerProcess, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await catalog(cli_server, simulator)
    assert (await hibernate(cli_server.client, "web"))["outcome"] == "APPLIED"
    simulator.controller.rollout_seconds = 3

    woken = await hibernia(cli_server, "wake", "--app", "web", "--environment", "dev", "--wait", "--output", "json")

    assert woken.code == 0, woken.stderr
    progress = [line.split(": ", 1)[1].split()[0] for line in woken.stderr.splitlines()]
    assert progress[0] == "WAKING" and progress[-1] == "HEALTHY"
    assert woken.json()["wait"] == [
        {"app": "web", "status": "HEALTHY", "reason": woken.json()["wait"][0]["reason"], "exitCode": 0}
    ]


async def test_wait_fails_with_1_on_a_stuck_workload_and_with_6_at_the_timeout(
    cli_server: ServerProcess, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await catalog(cli_server, simulator)
    for app in ("web", "api"):
        assert (await hibernate(cli_server.client, app))["outcome"] == "APPLIED"
    simulator.set_stuck(f"{NS}/web", f"{NS}/api")
    simulator.controller.rollout_seconds = 2  # the simulator's progress deadline

    degraded = await hibernia(cli_server, "wake", "--app", "web", "--environment", "dev", "--wait", "--timeout", "60")
    simulator.controller.rollout_seconds = 600
    timed_out = await hibernia(cli_server, "wake", "--app", "api", "--environment", "dev", "--wait", "--timeout", "2")

    assert degraded.code == 1, degraded.stderr
    assert "WAKING" in degraded.stderr and "error: DEGRADED" in degraded.stderr
    assert timed_out.code == 6, timed_out.stderr
    assert "still WAKING" in timed_out.stderr


async def test_hibernate_all_waits_until_every_app_is_hibernating(
    cli_server: ServerProcess, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await catalog(cli_server, simulator)

    run = await hibernia(cli_server, "hibernate", "--all", "--environment", "dev", "--wait")

    assert run.code == 0, run.stderr
    assert run.stdout.splitlines() == [
        "api on dev: APPLIED; HIBERNATING",
        "web on dev: APPLIED; HIBERNATING",
        "worker on dev: APPLIED; HIBERNATING",
    ]
    assert [replicas(simulator, NS, app) for app in ("api", "web", "worker")] == [0, 0, 0]


async def test_reduced_mode_from_the_command_line_waits_for_reduced_and_wakes_exactly(
    cli_server: ServerProcess, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await catalog(cli_server, simulator, replicas=3)

    reduced = await hibernia(
        cli_server, "hibernate", "--app", "web", "--environment", "dev", "--reduce-to", "1", "--wait", "--timeout", "30"
    )
    assert reduced.code == 0, reduced.stderr
    assert reduced.stdout.strip() == "web on dev: APPLIED; REDUCED"
    assert replicas(simulator, NS, "web") == 1

    woken = await hibernia(cli_server, "wake", "--app", "web", "--environment", "dev")
    assert woken.code == 0, woken.stderr
    assert replicas(simulator, NS, "web") == 3

    bulk = await hibernia(cli_server, "hibernate", "--all", "--environment", "dev", "--reduce-to", "1")
    assert bulk.code == 2 and "--reduce-to" in bulk.stderr
    assert replicas(simulator, NS, "api") == 3, "a refused command touches nothing"


async def test_output_nobody_reads_ends_quietly(
    cli_server: ServerProcess, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await catalog(cli_server, simulator)

    run = await hibernia(cli_server, "status", "--output", "json", stdout_closed=True)

    assert (run.code, run.stderr) == (0, "")
