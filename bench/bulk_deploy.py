"""Section 3: `deployMany` over an app group with onHibernated SKIP, against one single `deploy`."""

from __future__ import annotations

from typing import Any

from bench import targets
from bench.cluster import BenchCluster
from bench.counting import cost_of
from bench.databases import BenchDatabase
from bench.datasets import BulkDeployData, seed_bulk_deploy
from bench.graphql_client import BenchFailure, GraphQLClient
from bench.hosting import hibernia_in_process
from bench.profiling import Profiles
from bench.report import Row, SectionResult
from bench.sizes import Sizes
from bench.timing import Latency, ms, ratio, timed

DEPLOY = """
mutation Deploy($input: DeployInput!) {
  deploy(input: $input) { outcome deployment { id outcome } status { status } errors { code message } }
}"""
DEPLOY_MANY = """
mutation DeployMany($input: DeployManyInput!) {
  deployMany(input: $input) {
    results { app outcome deployment { id outcome } status { status } errors { code message } }
    errors { code message }
  }
}"""

SECTION = "3 bulk deploy"


async def _deploy(client: GraphQLClient, data: BulkDeployData, app: str, image: str) -> None:
    variables = {"input": {"app": app, "environment": data.environment, "image": image, "onHibernated": "SKIP"}}
    payload = (await client.query(DEPLOY, variables))["deploy"]
    if payload["errors"] or payload["outcome"] != "APPLIED":
        raise BenchFailure(f"deploy of {app} did not apply: {payload}")


async def _deploy_many(client: GraphQLClient, data: BulkDeployData, apps: list[str], image: str) -> None:
    variables = {"input": {"environment": data.environment, "apps": apps, "image": image, "onHibernated": "SKIP"}}
    payload: dict[str, Any] = (await client.query(DEPLOY_MANY, variables))["deployMany"]
    if payload["errors"]:
        raise BenchFailure(f"deployMany failed: {payload['errors']}")
    hibernated = set(data.hibernated)
    for item in payload["results"]:
        expected = "SKIPPED" if item["app"] in hibernated else "APPLIED"
        if item["outcome"] != expected or item["errors"]:
            raise BenchFailure(f"deployMany: {item['app']} was {item['outcome']} ({item['errors']}), not {expected}")


async def measure(
    database: BenchDatabase, cluster: BenchCluster, sizes: Sizes, *, smoke: bool, profiles: Profiles
) -> SectionResult:
    data = await seed_bulk_deploy(
        database, cluster, sizes.bulk_apps, sizes.bulk_hibernated_share, sizes.bulk_single_deploys
    )
    single_samples: list[float] = []
    single_requests: list[int] = []
    single_statements: list[int] = []
    many_samples: list[float] = []
    many_requests: list[int] = []
    many_statements: list[int] = []
    async with hibernia_in_process(database) as hibernia:
        concurrency = hibernia.runtime.settings.bulk_concurrency
        client = hibernia.client
        await _deploy(client, data, data.warmup[0], "team/app:0")
        await _deploy_many(client, data, data.warmup, "team/app:0")

        async def one_deploy(app: str) -> None:
            async with cost_of(database.statements, cluster) as cost:
                seconds, _ = await timed(lambda: _deploy(client, data, app, "team/app:2"))
            single_samples.append(seconds)
            single_requests.append(cost.kubernetes.total)
            single_statements.append(len(cost.statements))

        async def many_deploys(repeat: int) -> dict[str, int]:
            image = f"team/app:{repeat + 2}"
            async with cost_of(database.statements, cluster) as cost:
                seconds, _ = await timed(lambda: _deploy_many(client, data, data.group, image))
            many_samples.append(seconds)
            many_requests.append(cost.kubernetes.total)
            many_statements.append(len(cost.statements))
            return cost.kubernetes.by_verb_and_kind

        # Interleaved, so that a slow spell of a shared machine weighs on both sides of the ratio.
        for round_ in range(max(len(data.singles), sizes.bulk_repeats)):
            if round_ < len(data.singles):
                await one_deploy(data.singles[round_])
            if round_ < sizes.bulk_repeats:
                request_detail = await many_deploys(round_)

        async with profiles.profile("bulk-deploy"):
            await _deploy_many(client, data, data.group, "team/app:profiled")

    single, many = Latency.of(single_samples), Latency.of(many_samples)
    apps = len(data.group)
    many_over_one = ratio(many.p50, single.p50)
    per_app_requests = max(many_requests) / apps
    per_app_statements = max(many_statements) / apps
    result = SectionResult("bulk_deploy", "Bulk deploy")
    result.rows = [
        Row(
            SECTION,
            f"one `deploy` (median of {single.n}, other apps)",
            ms(single.p50),
            f"{max(single_requests)} Kubernetes requests, {max(single_statements)} SQL statements",
        ),
        Row(
            SECTION,
            f"`deployMany` of {apps} ({len(data.hibernated)} hibernated, SKIP; bulk concurrency {concurrency}), "
            f"wall (median of {many.n})",
            ms(many.p50),
            f"one deploy {ms(single.p50)}",
            f"{many_over_one:.1f}x many/one",
            verdict=targets.at_most(
                targets.BULK_OVER_SINGLE,
                f"≤ 5x one deploy (for {apps} apps)",
                many_over_one,
                5.0,
                deterministic=False,
                smoke=smoke,
            ),
        ),
        Row(
            SECTION,
            "Kubernetes requests / SQL statements per app (deployMany)",
            f"{per_app_requests:.2f} / {per_app_statements:.1f}",
            f"one deploy {max(single_requests)} / {max(single_statements)}",
        ),
    ]
    result.data = {
        "dataset": {"apps": apps, "hibernated": len(data.hibernated), "namespace": data.namespace},
        "bulk_concurrency": concurrency,
        "single_deploy": {
            **single.to_json(),
            "kubernetes_requests": single_requests,
            "sql_statements": single_statements,
        },
        "deploy_many": {**many.to_json(), "kubernetes_requests": many_requests, "sql_statements": many_statements},
        "deploy_many_kubernetes_requests_detail": request_detail,
        "many_over_one_p50": many_over_one,
        "kubernetes_requests_per_app": per_app_requests,
        "sql_statements_per_app": per_app_statements,
    }
    return result
