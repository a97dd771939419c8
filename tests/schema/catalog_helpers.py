"""Builds catalogs through the public API, the way users do."""

from __future__ import annotations

from tests.fixtures.graphql import GraphQLClient

CREATE_CLUSTER = """
mutation($input: CreateClusterInput!) {
  createCluster(input: $input) { cluster { id name server simulated } errors { code message field } }
}"""
CREATE_ENVIRONMENT = """
mutation($input: CreateEnvironmentInput!) {
  createEnvironment(input: $input) { environment { id name namespace cluster { name } } errors { code message field } }
}"""
CREATE_APP = """
mutation($input: CreateAppInput!) {
  createApp(input: $input) {
    app { id name team environments { releaseName desiredReplicas status environment { name } } }
    errors { code message field }
  }
}"""
ATTACH_APP = """
mutation($input: AttachAppInput!) {
  attachApp(input: $input) {
    appEnvironment { id releaseName desiredReplicas status app { name } environment { name } }
    errors { code message field }
  }
}"""


async def create_catalog(
    graphql: GraphQLClient,
    *,
    environments: dict[str, str] | None = None,
    apps: dict[str, tuple[str, list[str]]] | None = None,
) -> None:
    """A cluster `c1` (registered unchecked: nothing listens there), the given environments (name →
    namespace) and apps (name → (team, envs))."""
    data = await graphql.query(
        CREATE_CLUSTER, {"input": {"name": "c1", "server": "http://127.0.0.1:1", "verify": False}}
    )
    assert data["createCluster"]["errors"] == []
    for name, namespace in (environments or {}).items():
        data = await graphql.query(
            CREATE_ENVIRONMENT, {"input": {"name": name, "cluster": "c1", "namespace": namespace}}
        )
        assert data["createEnvironment"]["errors"] == []
    for name, (team, envs) in (apps or {}).items():
        data = await graphql.query(CREATE_APP, {"input": {"name": name, "team": team, "environments": envs}})
        assert data["createApp"]["errors"] == []
