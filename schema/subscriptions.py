"""Subscriptions: recorded status changes pushed over WebSocket (graphql-transport-ws) at /graphql."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated, Self

import strawberry

from app.db.repositories.history import TransitionWithTarget, Where
from app.domain.errors import ErrorCode, HiberniaError, InvalidInput
from app.services.status_feed import FeedOverrun
from schema.context import Info
from schema.enums import AppStatus, TransitionCause
from schema.types import AppEnvironment

MAX_FILTER_VALUES = 500
HISTORY_LIMIT = 1000


@strawberry.input(description="Which status changes to receive; all given parts must match.")
class StatusChangeFilter:
    environments: list[str] | None = strawberry.field(default=None, description="Only these environments.")
    apps: list[str] | None = strawberry.field(default=None, description="Only these apps.")
    teams: list[str] | None = strawberry.field(default=None, description="Only apps of these teams.")

    def where(self, scope: frozenset[str] | None) -> Where:
        for name in ("environments", "apps", "teams"):
            values = getattr(self, name)
            if values is not None and len(values) > MAX_FILTER_VALUES:
                raise InvalidInput(f"`filter.{name}` lists more than {MAX_FILTER_VALUES} values.", field=name)
        return Where(
            environments=None if self.environments is None else frozenset(self.environments),
            apps=None if self.apps is None else frozenset(self.apps),
            teams=None if self.teams is None else frozenset(self.teams),
            scope=scope,
        )


@strawberry.type(description="A recorded status transition of an app environment, whatever caused it.")
class StatusChange:
    app_environment: AppEnvironment = strawberry.field(description="Where it happened, as recorded now.")
    from_status: AppStatus = strawberry.field(description="The recorded status it replaced.")
    to_status: AppStatus = strawberry.field(description="The recorded status it set.")
    cause: TransitionCause = strawberry.field(
        description="What caused it: an observation, a deploy, a hibernate, an unhibernate, ..."
    )
    actor: str = strawberry.field(description="Who caused it (`hibernia` for observations).")
    reason: str = strawberry.field(description="Why, in words a person understands.")
    at: datetime = strawberry.field(description="When it was recorded; pass the last one as `since` to resume.")

    @classmethod
    def of(cls, change: TransitionWithTarget) -> Self:
        transition, row, app, environment = change
        return cls(
            app_environment=AppEnvironment.from_row(row, app=app, environment=environment),
            from_status=AppStatus[transition.from_status.value],
            to_status=AppStatus[transition.to_status.value],
            cause=TransitionCause[transition.cause.value],
            actor=transition.actor,
            reason=transition.reason,
            at=transition.at,
        )


@strawberry.type(description="Changes pushed as they are recorded, over WebSocket (graphql-transport-ws).")
class Subscription:
    @strawberry.subscription(
        description="Every recorded status transition (observed, deploy, hibernate, unhibernate, ...) matching "
        "the filter, as it is recorded on any server. With `since`, the transitions recorded from then on come "
        f"first (at most {HISTORY_LIMIT}), so a client that lost its connection resumes without a gap. A "
        "subscriber that falls far behind is ended with an error saying where to resume."
    )
    async def status_changes(
        self,
        info: Info,
        filter: Annotated[
            StatusChangeFilter | None, strawberry.argument(description="Which changes; all when omitted.")
        ] = None,
        since: Annotated[
            datetime | None, strawberry.argument(description="Replay what was recorded from this time first.")
        ] = None,
    ) -> AsyncGenerator[StatusChange, None]:
        where = (filter or StatusChangeFilter()).where(info.context.principal.environments)
        feed = info.context.services.status_feed
        async with feed.subscribe(where) as live:
            replayed: set[int] = set()
            if since is not None:
                for change in await feed.history(since, where, limit=HISTORY_LIMIT):
                    replayed.add(change[0].id)
                    info.context.fresh_loaders()
                    yield StatusChange.of(change)
            try:
                async for change in live:
                    if change[0].id in replayed:
                        continue
                    info.context.fresh_loaders()
                    yield StatusChange.of(change)
            except FeedOverrun as overrun:  # the client resumes with `since`, as the message says
                raise HiberniaError(ErrorCode.SERVICE_UNAVAILABLE, str(overrun), field="since") from None
