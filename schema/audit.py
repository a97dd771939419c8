"""The audit feed: `transitions` and `deployments` across app environments, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from app.db.pagination import Page
from app.db.repositories.history import FeedFilter
from app.domain.errors import InvalidInput
from app.services.audit import AuditService
from schema.context import Info
from schema.enums import DeploymentOutcome, TransitionCause
from schema.history import Deployment, Transition
from schema.pagination import DEFAULT_PAGE_SIZE, Connection, before_id, connection, page_request

MAX_FILTER_VALUES = 500
_FIRST = "How many rows to return, 1 to 100 (default 20)."
_AFTER = "Return rows after this cursor (a previous page's `pageInfo.endCursor`)."


def _values(name: str, values: list[str] | None) -> list[str] | None:
    if values is not None and len(values) > MAX_FILTER_VALUES:
        raise InvalidInput(f"`filter.{name}` lists more than {MAX_FILTER_VALUES} values.", field=name)
    return values


@strawberry.input(description="Narrows the transition feed; all given parts must match.")
class TransitionFilter:
    environments: list[str] | None = strawberry.field(default=None, description="Only these environments.")
    apps: list[str] | None = strawberry.field(default=None, description="Only these apps.")
    causes: list[TransitionCause] | None = strawberry.field(default=None, description="Only these causes.")
    actors: list[str] | None = strawberry.field(default=None, description="Only rows these actors caused.")
    since: datetime | None = strawberry.field(default=None, description="Only rows recorded at or after this time.")
    until: datetime | None = strawberry.field(default=None, description="Only rows recorded before this time.")

    def to_domain(self, scope: frozenset[str] | None) -> FeedFilter:
        return FeedFilter(
            environments=_values("environments", self.environments),
            apps=_values("apps", self.apps),
            actors=_values("actors", self.actors),
            causes=None if self.causes is None else [cause.name for cause in self.causes],
            since=self.since,
            until=self.until,
            scope=scope,
        )


@strawberry.input(description="Narrows the deployment feed; all given parts must match.")
class DeploymentFilter:
    environments: list[str] | None = strawberry.field(default=None, description="Only these environments.")
    apps: list[str] | None = strawberry.field(default=None, description="Only these apps.")
    outcomes: list[DeploymentOutcome] | None = strawberry.field(default=None, description="Only these outcomes.")
    actors: list[str] | None = strawberry.field(default=None, description="Only deployments by these actors.")
    since: datetime | None = strawberry.field(default=None, description="Only deployments started at or after this.")
    until: datetime | None = strawberry.field(default=None, description="Only deployments started before this.")

    def to_domain(self, scope: frozenset[str] | None) -> FeedFilter:
        return FeedFilter(
            environments=_values("environments", self.environments),
            apps=_values("apps", self.apps),
            actors=_values("actors", self.actors),
            outcomes=None if self.outcomes is None else [outcome.name for outcome in self.outcomes],
            since=self.since,
            until=self.until,
            scope=scope,
        )


async def transitions(
    info: Info,
    first: Annotated[int, strawberry.argument(description=_FIRST)] = DEFAULT_PAGE_SIZE,
    after: Annotated[str | None, strawberry.argument(description=_AFTER)] = None,
    filter: Annotated[TransitionFilter | None, strawberry.argument(description="What to include.")] = None,
) -> Connection[Transition]:
    where = (filter or TransitionFilter()).to_domain(info.context.principal.environments)
    request = page_request(first, after, "feed:transitions")
    async with info.context.read_session() as session:
        rows = await AuditService(session).transitions(where, first=request.first, before_id=before_id(request))

    async def count() -> int:
        async with info.context.read_session() as session:
            return await AuditService(session).count_transitions(where)

    page = Page(
        items=[((row, (ae, app, env)), (row.id,)) for row, ae, app, env in rows[: request.first]],
        has_next_page=len(rows) > request.first,
        has_previous_page=request.after is not None,
    )
    return connection(page, lambda item: Transition.from_row(*item), "feed:transitions", count)


async def deployments(
    info: Info,
    first: Annotated[int, strawberry.argument(description=_FIRST)] = DEFAULT_PAGE_SIZE,
    after: Annotated[str | None, strawberry.argument(description=_AFTER)] = None,
    filter: Annotated[DeploymentFilter | None, strawberry.argument(description="What to include.")] = None,
) -> Connection[Deployment]:
    where = (filter or DeploymentFilter()).to_domain(info.context.principal.environments)
    request = page_request(first, after, "feed:deployments")
    async with info.context.read_session() as session:
        rows = await AuditService(session).deployments(where, first=request.first, before_id=before_id(request))

    async def count() -> int:
        async with info.context.read_session() as session:
            return await AuditService(session).count_deployments(where)

    page = Page(
        items=[((row, (ae, app, env)), (row.id,)) for row, ae, app, env in rows[: request.first]],
        has_next_page=len(rows) > request.first,
        has_previous_page=request.after is not None,
    )
    return connection(page, lambda item: Deployment.from_row(*item), "feed:deployments", count)
