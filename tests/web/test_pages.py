"""What the server sends for the page and the playground: files from the package, one policy."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from app.config import RunMode
from app.web.pages import STATIC
from app.web.security import CONTENT_SECURITY_POLICY
from tests.conftest import ClientFactory
from tests.fixtures.graphql import GraphQLClient

ROOT = Path(__file__).resolve().parents[2]
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)


@pytest.mark.parametrize("path", ["/", "/apps/web/staging", "/?status=HIBERNATING&environment=dev"])
async def test_every_page_url_serves_the_shell_under_the_policy(graphql: GraphQLClient, path: str) -> None:
    response = await graphql.http.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert '<table aria-labelledby="overview-title">' in response.text
    assert "<script>" not in response.text and not EXTERNAL.search(response.text)


async def test_the_policy_allows_this_origin_only() -> None:
    directives = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))

    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'", "no inline script, no eval, no other origin"
    assert directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert all("http" not in value and "*" not in value for value in directives.values())


async def test_every_response_carries_the_policy(graphql: GraphQLClient) -> None:
    for response in (
        await graphql.http.get("/healthz"),
        await graphql.http.post("/graphql", json={"query": "{ teams }"}),
        await graphql.http.get("/static/js/main.js"),
    ):
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["x-content-type-options"] == "nosniff"


async def test_static_files_are_served_with_their_types(graphql: GraphQLClient) -> None:
    script = await graphql.http.get("/static/js/main.js")
    document = await graphql.http.get("/static/graphql/overview.graphql")
    missing = await graphql.http.get("/static/js/nothing.js")

    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert script.headers["cache-control"] == "no-cache", "revalidated, so an upgrade never mixes releases"
    unchanged = await graphql.http.get("/static/js/main.js", headers={"if-none-match": script.headers["etag"]})
    assert unchanged.status_code == 304
    assert document.status_code == 200 and "query Overview" in document.text
    assert missing.status_code == 404


async def test_the_playground_is_served_from_the_package(graphql: GraphQLClient) -> None:
    page = await graphql.http.get("/graphql", headers={"accept": "text/html"})

    assert page.status_code == 200
    assert "<title>Hibernia" in page.text
    assert not EXTERNAL.search(page.text), "no CDN"
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
        assert (await graphql.http.get(asset)).status_code == 200, asset
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


async def test_the_playground_stays_off_in_production(client_with: ClientFactory) -> None:
    production = await client_with(env=RunMode.PRODUCTION)

    page = await production.http.get("/graphql", headers={"accept": "text/html"})

    assert page.status_code == 401 and "graphiql" not in page.text.lower()


async def test_the_dashboard_shell_needs_no_token_in_production(client_with: ClientFactory) -> None:
    production = await client_with(env=RunMode.PRODUCTION)

    page = await production.http.get("/")

    assert page.status_code == 200, "the page asks for the token itself; its data needs one"


def test_the_page_files_ship_in_the_python_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["app"]
    shipped = {path for pattern in patterns for path in (ROOT / "app").glob(pattern) if path.is_file()}
    files = {path for path in STATIC.rglob("*") if path.is_file()}

    assert files and files <= shipped, sorted(str(p) for p in files - shipped)


def test_vendored_files_come_with_their_licences() -> None:
    vendor = STATIC / "vendor"
    licences = (vendor / "THIRD-PARTY-LICENSES.txt").read_text()
    lock = (ROOT / "web" / "package-lock.json").read_text()

    for package in ("react@18.2.0", "react-dom@18.2.0", "graphiql@3.8.3", "@graphiql/plugin-explorer@1.0.2"):
        assert f"{package} (MIT)" in licences, package
        name, version = package.rsplit("@", 1)
        assert f'"node_modules/{name}": {{\n      "version": "{version}"' in lock, package
