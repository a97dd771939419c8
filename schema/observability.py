"""Per-request metrics and one structured log line per GraphQL operation."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

logger = logging.getLogger("hibernia.request")

_MAX_ERROR_WALK = 2000  # nodes: payload errors are found near the top of a mutation result


def _payload_error_codes(data: Any) -> list[str]:
    """Codes of the `errors` lists inside mutation payloads (expected failures are values there)."""
    codes: list[str] = []
    stack, seen = [data], 0
    while stack and seen < _MAX_ERROR_WALK:
        node = stack.pop()
        seen += 1
        if isinstance(node, dict):
            errors = node.get("errors")
            if isinstance(errors, list):
                codes.extend(e["code"] for e in errors if isinstance(e, dict) and isinstance(e.get("code"), str))
            stack.extend(v for k, v in node.items() if k != "errors")
        elif isinstance(node, list):
            stack.extend(node)
    return codes


class RequestObservability(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        duration = time.perf_counter() - started
        context = self.execution_context.context
        metrics = getattr(context, "metrics", None)
        operation = self.execution_context.operation_name
        try:
            kind = self.execution_context.operation_type
            operation_type = "mutation" if kind is OperationType.MUTATION else kind.value
        except RuntimeError:  # the document did not parse
            operation_type = "invalid"
        result = self.execution_context.result
        codes: list[str] = []
        if result is not None:
            codes.extend(
                str((error.extensions or {}).get("code") or "INVALID_REQUEST") for error in result.errors or []
            )
            if operation_type == "mutation" and result.data:
                codes.extend(_payload_error_codes(result.data))
        if metrics is not None:
            label = metrics.operation_label(operation)
            metrics.requests.labels(label, operation_type).inc()
            metrics.latency.labels(label).observe(duration)
            for code in codes:
                metrics.errors.labels(code).inc()
        logger.info(
            "graphql %s %s",
            operation_type,
            operation or "anonymous",
            extra={
                "operation": operation,
                "actor": getattr(context, "actor", None),
                "duration_ms": round(duration * 1000, 2),
                "errors": codes,
            },
        )
