"""Catalogs whose clusters are the simulator, built through the public API."""

from __future__ import annotations

from app.simulator import SimulatedCluster
from tests.fixtures.graphql import GraphQLClient
from tests.schema.catalog_helpers import ATTACH_APP, CREATE_APP, CREATE_CLUSTER, CREATE_ENVIRONMENT

SIMULATOR_TOKEN = "hibernia-test-token"


async def register_simulator(graphql: GraphQLClient, simulator: SimulatedCluster, name: str = "sim") -> None:
    data = await graphql.query(
        CREATE_CLUSTER,
        {"input": {"name": name, "server": simulator.url, "token": SIMULATOR_TOKEN, "simulated": True}},
    )
    assert data["createCluster"]["errors"] == []
    # Registering checks the cluster (/version, a SelfSubjectAccessReview); tests count what follows.
    simulator.clear_requests()


async def add_environment(graphql: GraphQLClient, name: str, namespace: str, cluster: str = "sim") -> None:
    data = await graphql.query(
        CREATE_ENVIRONMENT, {"input": {"name": name, "cluster": cluster, "namespace": namespace}}
    )
    assert data["createEnvironment"]["errors"] == []


async def add_app(graphql: GraphQLClient, name: str, environments: list[str], team: str = "core") -> None:
    data = await graphql.query(CREATE_APP, {"input": {"name": name, "team": team, "environments": environments}})
    assert data["createApp"]["errors"] == []


async def attach(graphql: GraphQLClient, app: str, environment: str, replicas: int = 1) -> None:
    data = await graphql.query(ATTACH_APP, {"input": {"app": app, "environment": environment, "replicas": replicas}})
    assert data["attachApp"]["errors"] == []
