"""Who is asking, and what the recorded statuses add up to: what a frontend needs to decide what to offer."""

from __future__ import annotations

from typing import Self

import strawberry

from app.domain.access import Principal
from app.domain.status import AppStatus as DomainAppStatus
from schema.enums import AppStatus, Role


@strawberry.type(description="The caller: the API token's name and role, or the local admin in development.")
class Viewer:
    name: str = strawberry.field(description="Recorded as the actor of what the caller does.")
    role: Role = strawberry.field(description="What the caller may do (in `environments`).")
    environments: list[str] | None = strawberry.field(
        description="The environments the caller may see and act in, by name; null means every environment."
    )

    @classmethod
    def from_principal(cls, principal: Principal) -> Self:
        environments = None if principal.environments is None else sorted(principal.environments)
        return cls(name=principal.name, role=Role(principal.role.value), environments=environments)


@strawberry.type(description="How many app environments have one recorded status.")
class StatusCount:
    status: AppStatus = strawberry.field(description="The recorded status.")
    count: int = strawberry.field(description="How many app environments have it, exactly.")

    @classmethod
    def from_counts(cls, counts: dict[DomainAppStatus, int]) -> list[Self]:
        return [cls(status=AppStatus(status.value), count=count) for status, count in counts.items()]
