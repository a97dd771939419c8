"""Operations through the public API, and looks at the simulator and the database to check them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.db.models import Deployment, HibernationRecord, OperationLease
from app.domain.workloads import HIBERNATION_ANNOTATION
from app.simulator import SimulatedCluster
from tests.fixtures.databases import DatabaseUnderTest
from tests.fixtures.graphql import GraphQLClient
from tests.schema.live_helpers import add_app, add_environment, attach, register_simulator

STATUS_FIELDS = "status { status reason workloads { kind name desiredReplicas hibernated originalReplicas } }"
ERRORS = "errors { code message field }"

HIBERNATE = f"""
mutation($input: HibernateInput!) {{ hibernate(input: $input) {{ outcome {STATUS_FIELDS} {ERRORS} }} }}"""
UNHIBERNATE = f"""
mutation($input: UnhibernateInput!) {{ unhibernate(input: $input) {{ outcome {STATUS_FIELDS} {ERRORS} }} }}"""
DEPLOY = f"""
mutation($input: DeployInput!) {{
  deploy(input: $input) {{
    outcome deployment {{ id image outcome reason actor onHibernated finishedAt }} {STATUS_FIELDS} {ERRORS}
  }}
}}"""
BULK_RESULT = f"results {{ app outcome deployment {{ outcome image }} status {{ status }} {ERRORS} }} {ERRORS}"
DEPLOY_MANY = f"mutation($input: DeployManyInput!) {{ deployMany(input: $input) {{ {BULK_RESULT} }} }}"
HIBERNATE_MANY = f"mutation($input: AppGroupInput!) {{ hibernateMany(input: $input) {{ {BULK_RESULT} }} }}"
UNHIBERNATE_MANY = f"mutation($input: AppGroupInput!) {{ unhibernateMany(input: $input) {{ {BULK_RESULT} }} }}"


async def setup_app(
    graphql: GraphQLClient,
    simulator: SimulatedCluster,
    *,
    app: str = "web",
    environment: str = "dev",
    namespace: str = "team-dev",
    replicas: int = 1,
    register: bool = True,
) -> None:
    if register:
        await register_simulator(graphql, simulator)
        await add_environment(graphql, environment, namespace)
    await add_app(graphql, app, [])
    await attach(graphql, app, environment, replicas=replicas)


async def hibernate(graphql: GraphQLClient, app: str = "web", environment: str = "dev", **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (
        await graphql.query(HIBERNATE, {"input": {"app": app, "environment": environment, **extra}})
    )["hibernate"]
    return payload


async def unhibernate(graphql: GraphQLClient, app: str = "web", environment: str = "dev") -> dict[str, Any]:
    payload: dict[str, Any] = (await graphql.query(UNHIBERNATE, {"input": {"app": app, "environment": environment}}))[
        "unhibernate"
    ]
    return payload


async def deploy(
    graphql: GraphQLClient, image: str, app: str = "web", environment: str = "dev", **extra: Any
) -> dict[str, Any]:
    variables = {"input": {"app": app, "environment": environment, "image": image, **extra}}
    payload: dict[str, Any] = (await graphql.query(DEPLOY, variables))["deploy"]
    return payload


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


def replicas(simulator: SimulatedCluster, namespace: str, name: str, kind: str = "Deployment") -> int:
    value: int = simulator.get(kind, namespace, name)["spec"]["replicas"]
    return value


def annotation(simulator: SimulatedCluster, namespace: str, name: str, kind: str = "Deployment") -> str | None:
    annotations = simulator.get(kind, namespace, name)["metadata"].get("annotations") or {}
    value: str | None = annotations.get(HIBERNATION_ANNOTATION)
    return value


async def records(database: DatabaseUnderTest) -> dict[str, tuple[int | None, bool | None, str]]:
    async with database.engine.connect() as connection:
        rows = await connection.execute(
            select(
                HibernationRecord.workload_name,
                HibernationRecord.original_replicas,
                HibernationRecord.original_suspend,
                HibernationRecord.actor,
            )
        )
        return {name: (replicas, suspend, actor) for name, replicas, suspend, actor in rows}


async def held_leases(database: DatabaseUnderTest) -> int:
    async with database.engine.connect() as connection:
        rows = await connection.execute(select(OperationLease.holder).where(OperationLease.holder.is_not(None)))
        return len(rows.all())


async def running_deployments(database: DatabaseUnderTest) -> int:
    async with database.engine.connect() as connection:
        rows = await connection.execute(select(Deployment.id).where(Deployment.outcome == "RUNNING"))
        return len(rows.all())
