"""`hibernia history`: the audit feed of an environment, newest first."""

from __future__ import annotations

from app.simulator import SimulatedCluster
from tests.commands.pipeline import catalog, hibernia
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.servers import ServerProcess


async def test_history_lists_deployments_with_their_ids_and_transitions(
    cli_server: ServerProcess, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await catalog(cli_server, simulator)
    for args in (
        ("deploy", "--app", "web", "--image", "web:2"),
        ("hibernate", "--app", "web"),
        ("deploy", "--app", "api", "--image", "api:2"),
    ):
        assert (await hibernia(cli_server, *args, "--environment", "dev")).code == 0

    web = await hibernia(cli_server, "history", "--environment", "dev", "--app", "web", "--output", "json")
    text = await hibernia(cli_server, "history", "--environment", "dev", "--since", "1h")
    future = await hibernia(cli_server, "history", "--environment", "dev", "--since", "2999-01-01T00:00:00")
    unknown = await hibernia(cli_server, "history", "--environment", "nope")
    bad_since = await hibernia(cli_server, "history", "--environment", "dev", "--since", "yesterday")

    assert web.code == 0, web.stderr
    deployments = web.json()["deployments"]["nodes"]
    assert [(d["image"], d["outcome"]) for d in deployments] == [("web:2", "SUCCEEDED")]
    causes = [t["cause"] for t in web.json()["transitions"]["nodes"]]
    assert causes[0] == "HIBERNATE" and "DEPLOY" in causes
    assert {t["appEnvironment"]["app"]["name"] for t in web.json()["transitions"]["nodes"]} == {"web"}
    assert text.code == 0
    lines = text.stdout.splitlines()
    assert f"deployment {deployments[0]['id']}" in text.stdout
    assert [line.split("\t")[0] for line in lines] == sorted((line.split("\t")[0] for line in lines), reverse=True)
    deployed = [line.split("\t")[1] for line in lines if "\tdeployment " in line]
    assert deployed == ["api", "web"]  # newest first
    assert future.code == 0 and future.stdout == ""
    assert unknown.code == 2 and bad_since.code == 2
