"""`hibernia rollback`: back to the previous image, or to a deployment `history` printed."""

from __future__ import annotations

from app.simulator import SimulatedCluster
from tests.commands.pipeline import NS, catalog, hibernia
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.servers import ServerProcess
from tests.schema.operation_helpers import replicas


def _image(simulator: SimulatedCluster, app: str) -> str:
    image: str = simulator.get("Deployment", NS, app)["spec"]["template"]["spec"]["containers"][0]["image"]
    return image


async def test_rollback_across_a_hibernation_and_to_a_deployment_from_history(
    cli_server: ServerProcess, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await catalog(cli_server, simulator)
    for image in ("web:2", "web:3", "web:4"):
        assert (
            await hibernia(cli_server, "deploy", "--app", "web", "--environment", "dev", "--image", image)
        ).code == 0
    assert (await hibernia(cli_server, "hibernate", "--app", "web", "--environment", "dev")).code == 0
    rollback = ("rollback", "--app", "web", "--environment", "dev")

    refused = await hibernia(cli_server, *rollback)
    woken = await hibernia(cli_server, *rollback, "--on-hibernated", "wake", "--wait", "--output", "json")
    history = await hibernia(cli_server, "history", "--environment", "dev", "--app", "web", "--output", "json")
    first = next(d for d in history.json()["deployments"]["nodes"] if d["image"] == "web:2")
    to_first = await hibernia(cli_server, *rollback, "--to", first["id"])
    not_a_deployment = await hibernia(cli_server, *rollback, "--to", "nonsense")

    assert refused.code == 3 and "hibernated" in refused.stderr
    assert woken.code == 0, woken.stderr
    deployment = woken.json()["rollback"]["deployment"]
    assert deployment["image"] == "web:3" and deployment["rolledBackFrom"]["image"] == "web:4"
    assert woken.json()["wait"][0]["status"] == "HEALTHY"
    assert to_first.code == 0 and "web:2" in to_first.stdout
    assert not_a_deployment.code == 2
    assert _image(simulator, "web") == "web:2" and replicas(simulator, NS, "web") == 2
