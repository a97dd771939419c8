"""`hibernia cluster add|list|show|remove` against the simulator: checked before saving, credentials
stored, and exactly what is wrong said (missing context, dead port, 401, a forbidden verb)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from app.db.models import Cluster
from app.simulator import SimulatedCluster
from tests.commands.pipeline import hibernia_admin
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.servers import free_port
from tests.schema.live_helpers import SIMULATOR_TOKEN


def _kubeconfig(path: Path, server: str, token: str, context: str = "sim") -> str:
    path.write_text(
        f"apiVersion: v1\nkind: Config\ncurrent-context: {context}\n"
        f"clusters: [{{name: c, cluster: {{server: '{server}'}}}}]\n"
        f"contexts: [{{name: {context}, context: {{cluster: c, user: u}}}}]\n"
        f"users: [{{name: u, user: {{token: '{token}'}}}}]\n"
    )
    return str(path)


async def test_cluster_add_says_exactly_what_is_wrong(
    database: DatabaseUnderTest, simulator: SimulatedCluster, tmp_path: Path
) -> None:
    simulator.grant("no-patch", deny=["patch deployments"])
    good = _kubeconfig(tmp_path / "good", simulator.url, SIMULATOR_TOKEN)
    add = ("cluster", "add", "--name", "prod")

    missing_context = await hibernia_admin(database.url, *add, "--kubeconfig", good, "--context", "other")
    dead_port = await hibernia_admin(
        database.url, *add, "--kubeconfig", _kubeconfig(tmp_path / "dead", f"http://127.0.0.1:{free_port()}", "t")
    )
    unauthorised = await hibernia_admin(
        database.url, *add, "--kubeconfig", _kubeconfig(tmp_path / "bad", simulator.url, "wrong-token")
    )
    forbidden = await hibernia_admin(
        database.url,
        *add,
        "--kubeconfig",
        _kubeconfig(tmp_path / "limited", simulator.url, "no-patch"),
        "--namespace",
        "shop",
    )
    listed_before = await hibernia_admin(database.url, "cluster", "list")

    assert missing_context.code == 2 and "missing context" in missing_context.stderr
    assert "'other'" in missing_context.stderr and "sim" in missing_context.stderr
    assert dead_port.code == 5 and "does not answer" in dead_port.stderr
    assert unauthorised.code == 2 and "401" in unauthorised.stderr
    assert forbidden.code == 2 and "may not patch deployments in namespace shop" in forbidden.stderr
    for run in (missing_context, dead_port, unauthorised, forbidden):
        assert run.stderr.count("\n") == 1, run.stderr  # one line, no traceback
    assert listed_before.code == 0 and listed_before.stdout == ""


async def test_cluster_add_stores_the_credentials_then_list_show_and_remove(
    database: DatabaseUnderTest, simulator: SimulatedCluster, tmp_path: Path
) -> None:
    kubeconfig = _kubeconfig(tmp_path / "config", simulator.url, SIMULATOR_TOKEN)

    added = await hibernia_admin(
        database.url, "cluster", "add", "--name", "prod", "--kubeconfig", kubeconfig, "--namespace", "shop"
    )
    (tmp_path / "config").unlink()  # the file is not needed any more: its credentials are stored
    listed = await hibernia_admin(database.url, "cluster", "list")
    shown = await hibernia_admin(database.url, "cluster", "show", "prod")
    async with database.engine.connect() as connection:
        row = (await connection.execute(select(Cluster.server, Cluster.token, Cluster.kubeconfig_path))).one()
    removed = await hibernia_admin(database.url, "cluster", "remove", "prod")
    again = await hibernia_admin(database.url, "cluster", "remove", "prod")

    assert added.code == 0 and "registered (checked" in added.stdout, added.stderr
    assert tuple(row) == (simulator.url, SIMULATOR_TOKEN, None)
    assert listed.stdout.startswith(f"prod\t{simulator.url}\t")
    assert shown.code == 0 and "credentials:   token" in shown.stdout and "reachable:     yes" in shown.stdout
    assert SIMULATOR_TOKEN not in shown.stdout + listed.stdout
    assert removed.code == 0 and again.code == 2
    assert (await hibernia_admin(database.url, "cluster", "list")).stdout == ""
