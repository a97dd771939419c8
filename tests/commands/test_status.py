"""`hibernia status`: the recorded status, filtered, as text or JSON."""

from __future__ import annotations

from app.simulator import SimulatedCluster
from tests.commands.pipeline import catalog, hibernia
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.servers import ServerProcess
from tests.schema.operation_helpers import hibernate


async def test_status_filters_by_environment_app_and_status(
    cli_server: ServerProcess, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await catalog(cli_server, simulator)
    assert (await hibernate(cli_server.client, "web"))["outcome"] == "APPLIED"

    everything = await hibernia(cli_server, "status", "--environment", "dev", "--output", "json")
    hibernated = await hibernia(cli_server, "status", "--status", "hibernating", "PARTIALLY_HIBERNATED")
    one = await hibernia(cli_server, "status", "--app", "web", "--environment", "dev")
    unknown_environment = await hibernia(cli_server, "status", "--environment", "nope")
    unknown_status = await hibernia(cli_server, "status", "--status", "ASLEEP")

    assert everything.code == 0
    nodes = everything.json()["appEnvironments"]["nodes"]
    assert [(n["app"]["name"], n["environment"]["name"]) for n in nodes] == [
        ("api", "dev"),
        ("web", "dev"),
        ("worker", "dev"),
    ]
    assert hibernated.code == 0 and [line.split("\t")[:3] for line in hibernated.stdout.splitlines()] == [
        ["web", "dev", "HIBERNATING"]
    ]
    assert one.code == 0 and one.stdout.startswith("web\tdev\tHIBERNATING")
    assert unknown_environment.code == 2 and "nope" in unknown_environment.stderr
    assert unknown_status.code == 2 and unknown_status.stderr.startswith("error: ")
