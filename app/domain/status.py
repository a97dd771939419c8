"""The status vocabulary of an app environment."""

from __future__ import annotations

from enum import StrEnum


class AppStatus(StrEnum):
    NOT_DEPLOYED = "NOT_DEPLOYED"
    HEALTHY = "HEALTHY"
    PROGRESSING = "PROGRESSING"
    DEGRADED = "DEGRADED"
    MISSING = "MISSING"
    HIBERNATING = "HIBERNATING"
    PARTIALLY_HIBERNATED = "PARTIALLY_HIBERNATED"
    WAKING = "WAKING"
    UNKNOWN = "UNKNOWN"


HIBERNATED_STATUSES = frozenset({AppStatus.HIBERNATING, AppStatus.PARTIALLY_HIBERNATED})
