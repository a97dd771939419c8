"""What an operation did, per app environment: the answer of single and bulk operations alike."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.db.models import Deployment
from app.domain.errors import HiberniaError
from app.domain.operations import OperationOutcome
from app.services.live_status import LiveStatus


@dataclass
class AppResult:
    outcome: OperationOutcome
    deployment: Deployment | None = None  # deploys only
    status: LiveStatus | None = None  # the status the operation left, when it got that far
    errors: list[HiberniaError] = field(default_factory=list)
    woke: bool = False  # deploys only: it unhibernated the target first (onHibernated: WAKE)


@dataclass
class BulkItem:
    """One app's result in a bulk operation."""

    app: str
    outcome: OperationOutcome
    deployment: Deployment | None = None
    status: LiveStatus | None = None
    errors: list[HiberniaError] = field(default_factory=list)
