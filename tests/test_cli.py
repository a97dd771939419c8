from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from schema.schema import SDL_PATH


def _hibernia(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def _without_database_url(**extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name != "HIBERNIA_DATABASE_URL"}
    return {**env, **extra}


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_the_default_database_is_one_per_user_file_whatever_the_directory(tmp_path: Path) -> None:
    data_home = tmp_path / "data"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = _without_database_url(XDG_DATA_HOME=str(data_home))

    before = _hibernia("token", "list", env=env, cwd=elsewhere)
    migrated = _hibernia("migrate", env=env, cwd=elsewhere)
    created = _hibernia("token", "create", "--name", "ci-bot", "--role", "viewer", env=env, cwd=tmp_path)
    listed = _hibernia("token", "list", env=env, cwd=elsewhere)

    # Before `migrate` there is no database, and asking for one creates none.
    assert before.returncode == 5
    assert str(data_home / "hibernia" / "hibernia.db") in _one_line_error(before)
    assert migrated.returncode == 0, migrated.stderr
    assert created.returncode == 0 and listed.returncode == 0
    assert "ci-bot" in listed.stdout  # the same database from both directories
    assert list(elsewhere.iterdir()) == [] and not (tmp_path / "var").exists()
    assert (data_home / "hibernia" / "hibernia.db").is_file()


def test_an_unmigrated_database_is_refused_in_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    env = {**os.environ, "HIBERNIA_DATABASE_URL": f"sqlite+aiosqlite:///{empty}"}

    result = _hibernia("token", "create", "--name", "x", "--role", "viewer", env=env)

    assert result.returncode == 5
    assert "hibernia migrate" in _one_line_error(result)


def test_an_unreachable_database_is_refused_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "HIBERNIA_DATABASE_URL": f"postgresql+asyncpg://hibernia@127.0.0.1:{_free_port()}/hibernia"}

    listed = _hibernia("token", "list", env=env)
    migrated = _hibernia("migrate", env=env)
    added = _hibernia("cluster", "add", "--name", "c", "--in-cluster", env=env)

    for result in (listed, migrated, added):
        assert result.returncode == 5
        assert "cannot reach the database" in _one_line_error(result)


def test_export_schema_prints_the_committed_sdl() -> None:
    result = _hibernia("export-schema")
    assert result.returncode == 0, result.stderr
    assert result.stdout == SDL_PATH.read_text(encoding="utf-8")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_demo_migrates_and_answers_the_readme_query(tmp_path: Path) -> None:
    env = {**os.environ, "HIBERNIA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"}
    migrated = _hibernia("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    port = _free_port()
    output = (tmp_path / "serve.out").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=output,
        stderr=subprocess.DEVNULL,
    )
    try:
        query = "{ apps(first: 10, filter: { statuses: [HIBERNATING] }) { totalCount edges { node { name } } } }"
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/graphql",
            data=json.dumps({"query": query}).encode(),
            headers={"content-type": "application/json"},
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    body = json.load(response)
                break
            except OSError:
                assert server.poll() is None, "server exited"
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert "errors" not in body
        assert body["data"]["apps"]["totalCount"] > 0
        printed = (tmp_path / "serve.out").read_text()
        assert f"Hibernia database: SQLite file {tmp_path / 'demo.db'}" in printed
    finally:
        server.terminate()
        server.wait(timeout=30)
        output.close()


def test_cluster_add_refuses_a_dead_server_unless_told_not_to_check(tmp_path: Path) -> None:
    env = {**os.environ, "HIBERNIA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"}
    assert _hibernia("migrate", env=env).returncode == 0
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: sim\n"
        "clusters: [{name: sim, cluster: {server: 'http://127.0.0.1:1'}}]\n"
        "contexts: [{name: sim, context: {cluster: sim, user: u}}]\nusers: [{name: u, user: {token: t}}]\n"
    )
    add = ("cluster", "add", "--name", "prod-eu", "--kubeconfig", str(kubeconfig))

    dead = _hibernia(*add, env=env)
    unchecked = _hibernia(*add, "--no-verify", env=env)
    again = _hibernia(*add, "--no-verify", env=env)
    missing = _hibernia("cluster", "add", "--name", "x", "--kubeconfig", str(tmp_path / "nope"), env=env)

    assert dead.returncode == 5 and "does not answer" in _one_line_error(dead)
    assert unchecked.returncode == 0, unchecked.stderr
    assert again.returncode == 2 and "already exists" in again.stderr
    assert missing.returncode == 2


def test_simulate_cluster_serves_the_kubernetes_api(tmp_path: Path) -> None:
    port = _free_port()
    simulator = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "simulate-cluster", "--port", str(port), "--seed", "demo"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                url = f"http://127.0.0.1:{port}/apis/apps/v1/namespaces/demo-dev/deployments"
                with urllib.request.urlopen(url, timeout=5) as response:
                    body = json.load(response)
                break
            except OSError:
                assert simulator.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        assert body["kind"] == "DeploymentList"
        assert {item["metadata"]["name"] for item in body["items"]} >= {"web", "api"}
    finally:
        simulator.terminate()
        simulator.wait(timeout=30)


def test_token_create_list_revoke(tmp_path: Path) -> None:
    env = {**os.environ, "HIBERNIA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 't.db'}"}
    assert _hibernia("migrate", env=env).returncode == 0

    created = _hibernia("token", "create", "--name", "ci-bot", "--role", "deployer", env=env)
    bad_env = _hibernia("token", "create", "--name", "x", "--role", "viewer", "--environment", "nope", env=env)
    listed = _hibernia("token", "list", env=env)
    revoked = _hibernia("token", "revoke", "--name", "ci-bot", env=env)
    listed_after = _hibernia("token", "list", env=env)

    secret = created.stdout.strip()
    assert created.returncode == 0 and secret.startswith("hib_")
    assert bad_env.returncode == 2
    assert "ci-bot\tdeployer\t*" in listed.stdout and secret not in listed.stdout
    assert revoked.returncode == 0 and "revoked" in listed_after.stdout
