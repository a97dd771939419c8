"""Bulk operations on an app group in one environment: bounded concurrency, per-app isolation."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.repositories.catalog import CatalogRepository
from app.domain.app_selection import AppSelection
from app.domain.errors import ErrorCode, HiberniaError, InvalidInput, InvalidInputs, NotFound
from app.domain.operations import OperationOutcome
from app.request_context import current_request_id
from app.services.release_reads import batched_release_reads
from app.services.results import AppResult, BulkItem

logger = logging.getLogger("hibernia.bulk")

MAX_BULK_APPS = 500


class BulkService:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession], concurrency: int) -> None:
        self.session_factory = session_factory
        self.concurrency = concurrency

    async def choose(self, environment: str, selection: AppSelection) -> list[str]:
        """The apps a bulk request names, or every app of the environment its teams and exclusions leave."""
        if selection.apps is not None:
            return list(selection.apps)
        async with self.session_factory() as session:
            catalog = CatalogRepository(session)
            found = await catalog.environment_by_name(environment)
            if found is None:
                raise NotFound("Environment", environment, field="environment")
            names = await catalog.app_names_in(found.id, teams=selection.teams, exclude=selection.exclude_apps)
        if not names:
            raise InvalidInput(
                f"No app attached to environment '{environment}' is left by `teams` and `excludeApps`; "
                "nothing was changed.",
                field="allApps",
            )
        if len(names) > MAX_BULK_APPS:
            raise InvalidInput(
                f"allApps chose {len(names):,} apps; a bulk operation takes at most {MAX_BULK_APPS}. "
                "Narrow it with `teams` or `excludeApps`.",
                field="allApps",
            )
        return names

    async def run(
        self, environment: str, apps: Sequence[str], operation: Callable[[str], Awaitable[AppResult]]
    ) -> list[BulkItem]:
        """Runs `operation` for each app; results in input order, one app's failure never another's."""
        await self._check(environment, apps)
        semaphore = asyncio.Semaphore(self.concurrency)

        async def one(app: str) -> AppResult:
            async with semaphore:
                return await operation(app)

        with batched_release_reads():
            # The tasks start inside the block, so they share one batcher (context is copied at start).
            unique = list(dict.fromkeys(apps))
            done = await asyncio.gather(*(_guarded(app, one(app)) for app in unique))
        return _in_input_order(apps, dict(zip(unique, done, strict=True)))

    async def run_batch(
        self,
        environment: str,
        apps: Sequence[str],
        operation: Callable[[list[str]], Awaitable[dict[str, AppResult]]],
    ) -> list[BulkItem]:
        """Hands all apps to one batched `operation` (which isolates apps itself); results in input order."""
        await self._check(environment, apps)
        unique = list(dict.fromkeys(apps))
        results = await operation(unique)
        return _in_input_order(apps, {app: _item(app, results[app]) for app in unique})

    async def _check(self, environment: str, apps: Sequence[str]) -> None:
        if not apps:
            raise InvalidInput("Give at least one app.", field="apps")
        if len(apps) > MAX_BULK_APPS:
            raise InvalidInput(f"A bulk operation takes at most {MAX_BULK_APPS} apps; split it.", field="apps")
        async with self.session_factory() as session:
            if await CatalogRepository(session).environment_by_name(environment) is None:
                raise NotFound("Environment", environment, field="environment")


def _item(app: str, result: AppResult) -> BulkItem:
    return BulkItem(app, result.outcome, result.deployment, result.status, result.errors)


async def _guarded(app: str, work: Awaitable[AppResult]) -> BulkItem:
    try:
        return _item(app, await work)
    except InvalidInputs as error:
        return BulkItem(app, OperationOutcome.FAILED, errors=list(error.errors))
    except HiberniaError as error:
        return BulkItem(app, OperationOutcome.FAILED, errors=[error])
    except Exception:
        request_id = current_request_id()
        logger.exception("bulk operation failed for app %s (request %s)", app, request_id)
        message = f"Unexpected error; it was logged with request id {request_id}."
        return BulkItem(app, OperationOutcome.FAILED, errors=[HiberniaError(ErrorCode.INTERNAL, message)])


def _in_input_order(apps: Sequence[str], done: dict[str, BulkItem]) -> list[BulkItem]:
    """One item per app given; an app listed again runs once and its repeats say so."""
    items: list[BulkItem] = []
    seen: set[str] = set()
    for app in apps:
        if app in seen:
            duplicate = InvalidInput(f"App '{app}' is listed more than once; it runs once.", field="apps")
            items.append(BulkItem(app, OperationOutcome.SKIPPED, errors=[duplicate]))
        else:
            seen.add(app)
            items.append(done[app])
    return items
