"""The graphql-http audit suite (npm `graphql-http`, `serverAudits`) against a real server process."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from tests.fixtures.servers import ROOT, start_server

AUDIT = ROOT / "tests" / "http_audit"


def _audit_tool() -> str:
    node = shutil.which("node")
    if node is None or not (AUDIT / "node_modules" / "graphql-http").is_dir():
        pytest.skip(
            "the GraphQL-over-HTTP audit needs Node.js and its package: `npm ci --prefix tests/http_audit` "
            "(make test runs it when npm is installed)"
        )
    return node


@pytest.mark.http_audit
async def test_the_graphql_over_http_audit_passes_without_warnings(tmp_path: Path) -> None:
    node = _audit_tool()
    server = await start_server(f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}", tmp_path, migrate=True)
    try:
        audit = await asyncio.create_subprocess_exec(
            node, str(AUDIT / "audit.mjs"), server.graphql_url, stdout=asyncio.subprocess.PIPE, cwd=AUDIT
        )
        output, _ = await asyncio.wait_for(audit.communicate(), timeout=120)
    finally:
        await server.stop()
    assert audit.returncode == 0
    results = json.loads(output)
    failing = [f"{r['status']}: {r['name']} ({r['reason']})" for r in results if r["status"] != "ok"]
    assert len(results) >= 50, "the audit ran"
    assert failing == [], "\n".join(failing)
