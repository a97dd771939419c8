"""Metrics and structured logs."""

from __future__ import annotations

import json
import logging

from prometheus_client.parser import text_string_to_metric_families

from app.logs import JsonFormatter
from app.simulator import SimulatedCluster
from tests.fixtures.graphql import GraphQLClient
from tests.schema.operation_helpers import hibernate, setup_app


async def _metrics(graphql: GraphQLClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await graphql.http.get("/metrics")
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


async def test_metrics_count_requests_errors_cluster_calls_and_refreshes(
    graphql: GraphQLClient, simulator: SimulatedCluster, refresher_round: object
) -> None:
    await setup_app(graphql, simulator)
    simulator.add_deployment("team-dev", "web", "web", 2)
    await graphql.query("query ListApps { apps { totalCount } }")
    await graphql.query("query ListApps { apps { totalCount } }")
    await hibernate(graphql, app="ghost")  # a NOT_FOUND payload error
    await hibernate(graphql)
    assert callable(refresher_round)
    await refresher_round()

    samples = await _metrics(graphql)

    assert samples[("hibernia_graphql_requests_total", (("operation", "ListApps"), ("type", "query")))] == 2
    assert samples[("hibernia_errors_total", (("code", "NOT_FOUND"),))] == 1
    assert samples[("hibernia_cluster_requests_total", (("cluster", "sim"), ("outcome", "ok")))] >= 4
    assert samples[("hibernia_graphql_request_seconds_count", (("operation", "ListApps"),))] == 2
    assert 0 <= samples[("hibernia_status_refresh_lag_seconds", ())] < 60
    assert ("hibernia_lease_conflicts_total", ()) in samples


async def test_operation_labels_are_bounded(graphql: GraphQLClient) -> None:
    for i in range(3):
        await graphql.query(f"query Name{i} {{ clusters {{ name }} }}")
    await graphql.query("query { clusters { name } }")

    samples = await _metrics(graphql)

    operations = {
        dict(labels).get("operation") for (name, labels) in samples if name == "hibernia_graphql_requests_total"
    }
    assert {"Name0", "Name1", "Name2", "anonymous"} <= operations


async def test_one_json_log_line_per_operation(graphql: GraphQLClient, caplog: object) -> None:
    import pytest

    assert isinstance(caplog, pytest.LogCaptureFixture)
    caplog.set_level(logging.INFO, logger="hibernia.request")
    graphql.actor = "alice"

    response = await graphql.http.post(
        "/graphql",
        json={"query": "query Who { clusters { name } }", "operationName": "Who"},
        headers={"x-hibernia-actor": "alice", "x-request-id": "req-log-1"},
    )

    assert response.status_code == 200
    record = next(r for r in caplog.records if r.name == "hibernia.request")
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-log-1"
    assert line["operation"] == "Who"
    assert line["actor"] == "alice"
    assert line["duration_ms"] >= 0
    assert line["level"] == "info"
