from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from schema.schema import SDL_PATH


def _hibernia(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


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
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
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
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_cluster_add_registers_a_kubeconfig_cluster(tmp_path: Path) -> None:
    env = {**os.environ, "HIBERNIA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"}
    assert _hibernia("migrate", env=env).returncode == 0
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: sim\n"
        "clusters: [{name: sim, cluster: {server: 'http://127.0.0.1:1'}}]\n"
        "contexts: [{name: sim, context: {cluster: sim, user: u}}]\nusers: [{name: u, user: {token: t}}]\n"
    )

    added = _hibernia("cluster", "add", "--name", "prod-eu", "--kubeconfig", str(kubeconfig), env=env)
    again = _hibernia("cluster", "add", "--name", "prod-eu", "--kubeconfig", str(kubeconfig), env=env)
    missing = _hibernia("cluster", "add", "--name", "x", "--kubeconfig", str(tmp_path / "nope"), env=env)

    assert added.returncode == 0, added.stderr
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
