"""Input types shared by queries and mutations."""

from __future__ import annotations

import strawberry

from app.db.repositories.listing import ListFilter
from app.domain.status import AppStatus as DomainAppStatus
from schema.enums import AppEnvironmentOrderField, AppOrderField, AppStatus, SortDirection


@strawberry.input(description="Narrows a list of apps or app environments. All given parts must match.")
class AppFilter:
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of the app's name or team."
    )
    teams: list[str] | None = strawberry.field(default=None, description="Only apps owned by these teams.")
    environments: list[str] | None = strawberry.field(
        default=None, description="Only attachments to these environments (by name)."
    )
    statuses: list[AppStatus] | None = strawberry.field(
        default=None,
        description="Only attachments whose recorded status is one of these. For `apps`, an app matches "
        "when one of its attachments (within `environments`, if given) has one of these statuses.",
    )

    def to_domain(self, scope: frozenset[str] | None = None) -> ListFilter:
        return ListFilter(
            scope=scope,
            search=self.search or None,
            teams=self.teams,
            environments=self.environments,
            statuses=None if self.statuses is None else [DomainAppStatus(s.name) for s in self.statuses],
        )


@strawberry.input(description="How to sort apps.")
class AppOrder:
    field: AppOrderField = strawberry.field(default=AppOrderField.NAME, description="What to sort by.")
    direction: SortDirection = strawberry.field(default=SortDirection.ASC, description="Which way.")


@strawberry.input(description="How to sort app environments.")
class AppEnvironmentOrder:
    field: AppEnvironmentOrderField = strawberry.field(
        default=AppEnvironmentOrderField.APP_NAME, description="What to sort by."
    )
    direction: SortDirection = strawberry.field(default=SortDirection.ASC, description="Which way.")
