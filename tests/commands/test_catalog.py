"""`hibernia environment remove`, `hibernia app update|detach|remove`: refusals name what uses the entry."""

from __future__ import annotations

from app.simulator import SimulatedCluster
from tests.commands.pipeline import NS, catalog, hibernia, hibernia_admin
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.servers import ServerProcess


async def test_removing_what_is_in_use_is_refused_then_allowed_once_detached(
    cli_server: ServerProcess, simulator: SimulatedCluster, database: DatabaseUnderTest
) -> None:
    await catalog(cli_server, simulator)
    url = database.url

    in_use = await hibernia_admin(url, "environment", "remove", "dev")
    attached = await hibernia_admin(url, "app", "remove", "web")
    team = await hibernia_admin(url, "app", "update", "web", "--team", "storefront")
    detached = [
        await hibernia_admin(url, "app", "detach", app, "--environment", "dev") for app in ("api", "web", "worker")
    ]
    removed_app = await hibernia_admin(url, "app", "remove", "web")
    removed_environment = await hibernia_admin(url, "environment", "remove", "dev")
    unknown = await hibernia_admin(url, "app", "remove", "nope")
    status = await hibernia(cli_server, "status")

    assert in_use.code == 2 and "api, web, worker" in in_use.stderr
    assert attached.code == 2 and "dev" in attached.stderr
    assert team.code == 0 and "storefront" in team.stdout
    assert [run.code for run in detached] == [0, 0, 0]
    assert removed_app.code == 0 and removed_environment.code == 0
    assert unknown.code == 2
    assert status.code == 0 and status.stdout == ""
    # Nothing in the cluster was touched.
    assert simulator.get("Deployment", NS, "web")["spec"]["replicas"] == 2
    assert simulator.count("delete") == 0
