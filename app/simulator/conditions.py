"""Status conditions as the Kubernetes controllers write them (`type`, `status`, `reason`,
`message` and the two timestamps, kept while the condition does not change)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def condition(old_status: dict[str, Any], kind: str, status: str, reason: str, message: str) -> dict[str, Any]:
    """The condition `kind` with this status and reason: the old one when it already says so."""
    for old in old_status.get("conditions") or []:
        if old.get("type") == kind and old.get("status") == status and old.get("reason") == reason:
            return dict(old)
    now = now_text()
    return {
        "type": kind,
        "status": status,
        "lastUpdateTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }


def deployment_conditions(
    name: str, old_status: dict[str, Any], target: int, ready: int, *, stuck: bool, done: bool
) -> list[dict[str, Any]]:
    """A Deployment's `Available` and `Progressing` conditions."""
    replica_set = f'ReplicaSet "{name}"'
    if ready >= target:
        available = condition(
            old_status, "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability."
        )
    else:
        available = condition(
            old_status,
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
        )
    if stuck and done:
        progressing = condition(
            old_status,
            "Progressing",
            "False",
            "ProgressDeadlineExceeded",
            f"{replica_set} has timed out progressing.",
        )
    elif done and not stuck:
        progressing = condition(
            old_status,
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            f"{replica_set} has successfully progressed.",
        )
    else:
        progressing = condition(
            old_status, "Progressing", "True", "ReplicaSetUpdated", f"{replica_set} is progressing."
        )
    return [available, progressing]
