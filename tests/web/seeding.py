"""The catalog the browser tests look at, made through the public API of the server under test."""

from __future__ import annotations

from app.simulator import SimulatedCluster
from tests.fixtures.graphql import GraphQLClient
from tests.schema.live_helpers import add_app, add_environment, attach, register_simulator
from tests.schema.operation_helpers import hibernate

NAMESPACES = {"dev": "shop-dev", "prod": "shop-prod"}
# app → (team, environments)
APPS = {
    "api": ("payments", ["dev", "prod"]),
    "jobs": ("data", ["dev"]),
    "web": ("storefront", ["dev", "prod"]),
}
HIBERNATOR = "alice"


async def seed(graphql: GraphQLClient, simulator: SimulatedCluster, *, hibernated: list[tuple[str, str]]) -> None:
    """Five running app environments, then the `hibernated` (app, environment) pairs hibernated by alice."""
    await register_simulator(graphql, simulator)
    for environment, namespace in NAMESPACES.items():
        await add_environment(graphql, environment, namespace)
    for app, (team, environments) in APPS.items():
        await add_app(graphql, app, [], team=team)
        for environment in environments:
            await attach(graphql, app, environment, replicas=2)
            simulator.add_deployment(NAMESPACES[environment], app, app, 2, f"{app}:1.0")
    await observe(graphql)
    hibernator = GraphQLClient(graphql.http, actor=HIBERNATOR)
    for app, environment in hibernated:
        assert (await hibernate(hibernator, app, environment))["outcome"] == "APPLIED"


async def observe(graphql: GraphQLClient) -> None:
    """Reads every app's live status, which records it (as the refresher would, a little later)."""
    for environment in NAMESPACES:
        await graphql.query("query($e: String!) { appStatuses(environment: $e) { status } }", {"e": environment})
