"""Mutations that act on apps in clusters: hibernate, unhibernate, deploy, rollback, and the bulk forms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated

import strawberry
from strawberry import relay

from app.domain.access import Action
from app.domain.app_selection import AppSelection
from app.domain.errors import HiberniaError, InvalidInput, InvalidInputs
from app.domain.operations import HibernatedPolicy as DomainPolicy
from app.domain.operations import OperationOutcome as Outcome
from app.services.results import AppResult, BulkItem
from schema.context import Info
from schema.enums import HibernatedPolicy, OperationOutcome
from schema.errors import OperationError, operation_errors
from schema.history import Deployment
from schema.live_status import AppEnvironmentStatus
from schema.visibility import require_action

_INPUT = "What to do; see the input type for each field."
_ERRORS = "Expected failures; empty when the operation did what was asked."
_STATUS = "The live status the operation left behind; null when it could not be read."


@strawberry.input(description="Hibernate an app environment: scale its workloads to 0, keeping what to restore.")
class HibernateInput:
    app: str = strawberry.field(description="The app's name.")
    environment: str = strawberry.field(description="The environment's name.")
    workloads: list[str] | None = strawberry.field(
        default=None, description="Only these workloads (partial hibernation); all when omitted."
    )
    reduce_to: int | None = strawberry.field(
        default=None,
        description="Reduced mode: scale Deployments and StatefulSets above this count (1 or more) down to it, "
        "keeping their originals to restore, and suspend CronJobs; status REDUCED. Omitted: hibernate to 0.",
    )


@strawberry.input(description="Unhibernate an app environment: restore exactly what hibernation recorded.")
class UnhibernateInput:
    app: str = strawberry.field(description="The app's name.")
    environment: str = strawberry.field(description="The environment's name.")


@strawberry.input(description="Deploy an image to an app environment.")
class DeployInput:
    app: str = strawberry.field(description="The app's name.")
    environment: str = strawberry.field(description="The environment's name.")
    image: str = strawberry.field(description="Image for the main container, e.g. `registry/team/api:1.4.2`.")
    on_hibernated: HibernatedPolicy | None = strawberry.field(
        default=None,
        description="What to do if the target is hibernated; default from the server's configuration.",
    )


_APPS = "The apps, at most 500; results come in this order. Exclusive with `allApps`; one of them is required."
_ALL_APPS = "True: every app attached to the environment (by name), narrowed by `teams` and `excludeApps`."
_TEAMS = "With `allApps`: only apps of these teams."
_EXCLUDE_APPS = "With `allApps`: leave these apps out."


@strawberry.input(description="Roll an app environment back to an earlier successful deployment's image.")
class RollbackInput:
    app: str = strawberry.field(description="The app's name.")
    environment: str = strawberry.field(description="The environment's name.")
    to: strawberry.ID | None = strawberry.field(
        default=None,
        description="The deployment (its `id`) whose image to deploy again; default: the newest successful "
        "deployment before the current one whose image differs.",
    )
    on_hibernated: HibernatedPolicy | None = strawberry.field(
        default=None,
        description="What to do if the target is hibernated; default from the server's configuration.",
    )


@strawberry.input(description="One app of a bulk deploy and the image it gets.")
class DeployItemInput:
    app: str = strawberry.field(description="The app's name.")
    image: str = strawberry.field(description="Image for the app's main container.")


@strawberry.input(
    description="Deploy to an app group in one environment: one image for all (`apps` and `image`) "
    "or an image per app (`items`)."
)
class DeployManyInput:
    environment: str = strawberry.field(description="The environment's name.")
    apps: list[str] | None = strawberry.field(default=None, description=_APPS + " Give `image` with it.")
    all_apps: bool | None = strawberry.field(default=None, description=_ALL_APPS + " Give `image` with it.")
    teams: list[str] | None = strawberry.field(default=None, description=_TEAMS)
    exclude_apps: list[str] | None = strawberry.field(default=None, description=_EXCLUDE_APPS)
    image: str | None = strawberry.field(default=None, description="Image for each app's main container.")
    items: list[DeployItemInput] | None = strawberry.field(
        default=None,
        description="Instead of `apps` and `image`: each app with its own image, at most 500; results come in "
        "this order.",
    )
    on_hibernated: HibernatedPolicy | None = strawberry.field(
        default=None, description="What to do with hibernated apps; SKIP is the usual choice for bulk deploys."
    )


@strawberry.input(description="Hibernate or unhibernate an app group in one environment.")
class AppGroupInput:
    environment: str = strawberry.field(description="The environment's name.")
    apps: list[str] | None = strawberry.field(default=None, description=_APPS)
    all_apps: bool | None = strawberry.field(default=None, description=_ALL_APPS)
    teams: list[str] | None = strawberry.field(default=None, description=_TEAMS)
    exclude_apps: list[str] | None = strawberry.field(default=None, description=_EXCLUDE_APPS)


@strawberry.type(description="The result of `hibernate` or `unhibernate`.")
class HibernationPayload:
    outcome: OperationOutcome = strawberry.field(description="APPLIED, UNCHANGED or FAILED.")
    status: AppEnvironmentStatus | None = strawberry.field(description=_STATUS)
    errors: list[OperationError] = strawberry.field(description=_ERRORS)


@strawberry.type(description="The result of `deploy`.")
class DeployPayload:
    outcome: OperationOutcome = strawberry.field(description="APPLIED, SKIPPED or FAILED.")
    deployment: Deployment | None = strawberry.field(
        description="The recorded deployment; null when the input was rejected before one was recorded."
    )
    status: AppEnvironmentStatus | None = strawberry.field(description=_STATUS)
    errors: list[OperationError] = strawberry.field(description=_ERRORS)


@strawberry.type(description="One app's result in a bulk operation.")
class BulkResult:
    app: str = strawberry.field(description="The app, as named in the input.")
    outcome: OperationOutcome = strawberry.field(description="What happened to this app.")
    deployment: Deployment | None = strawberry.field(description="The recorded deployment (deployMany only).")
    status: AppEnvironmentStatus | None = strawberry.field(description=_STATUS)
    errors: list[OperationError] = strawberry.field(description="This app's expected failures.")


@strawberry.type(description="The result of a bulk operation: one result per app, in input order.")
class BulkPayload:
    results: list[BulkResult] = strawberry.field(description="One per app, in input order.")
    errors: list[OperationError] = strawberry.field(
        description="Failures of the whole request (unknown environment, too many apps); then `results` is empty."
    )


def _status(result: AppResult | BulkItem) -> AppEnvironmentStatus | None:
    return None if result.status is None else AppEnvironmentStatus.from_live(result.status)


def _bulk_result(item: BulkItem) -> BulkResult:
    return BulkResult(
        app=item.app,
        outcome=OperationOutcome[item.outcome.value],
        deployment=None if item.deployment is None else Deployment.from_row(item.deployment),
        status=_status(item),
        errors=[e for error in item.errors for e in operation_errors(error)],
    )


async def _single(work: Callable[[], Awaitable[AppResult]]) -> AppResult:
    """Runs one operation; an expected failure raised before it started becomes a FAILED result."""
    from app.domain.operations import OperationOutcome as Outcome

    try:
        return await work()
    except InvalidInputs as error:
        return AppResult(Outcome.FAILED, errors=list(error.errors))
    except HiberniaError as error:
        return AppResult(Outcome.FAILED, errors=[error])


def _errors(result: AppResult) -> list[OperationError]:
    return [e for error in result.errors for e in operation_errors(error)]


async def _images_by_app(info: Info, input: DeployManyInput) -> tuple[list[str], dict[str, str]]:
    """The apps in input order and the image each gets (an app listed again keeps its first)."""
    if input.items is not None:
        chosen = input.apps is not None or input.all_apps or input.teams is not None or input.exclude_apps
        if chosen or input.image is not None:
            raise InvalidInput("Give `items`, or `apps` (or `allApps`) and `image`, not both.", field="items")
        apps = [item.app for item in input.items]
        images: dict[str, str] = {}
        for item in input.items:
            images.setdefault(item.app, item.image)
        return apps, images
    if input.image is None:
        raise InvalidInput("Give `apps` (or `allApps`) and `image`, or `items` with an image per app.", field="apps")
    apps = await _chosen(info, input)
    return apps, dict.fromkeys(apps, input.image)


def _deployment_id(global_id: str) -> int:
    try:
        decoded = relay.GlobalID.from_id(global_id)
    except Exception:  # strawberry raises its own error types for malformed ids
        decoded = None
    if decoded is None or decoded.type_name != "Deployment" or not decoded.node_id.isdigit():
        raise InvalidInput("`to` is not a deployment's `id`; `hibernia history` prints them.", field="to")
    return int(decoded.node_id)


def _policy(policy: HibernatedPolicy | None) -> DomainPolicy | None:
    return None if policy is None else DomainPolicy[policy.name]


@strawberry.type(description="Operations on apps in their clusters.")
class OperationMutation:
    @strawberry.mutation(description="Hibernate an app environment (all workloads, or the named ones).")
    async def hibernate(
        self, info: Info, input: Annotated[HibernateInput, strawberry.argument(description=_INPUT)]
    ) -> HibernationPayload:
        result = await _single(
            lambda: _hibernate(info, input.app, input.environment, input.workloads, reduce_to=input.reduce_to)
        )
        await _against_schedules(info, [result], woke=False)
        return HibernationPayload(
            outcome=OperationOutcome[result.outcome.value], status=_status(result), errors=_errors(result)
        )

    @strawberry.mutation(description="Unhibernate an app environment, restoring the recorded replicas.")
    async def unhibernate(
        self, info: Info, input: Annotated[UnhibernateInput, strawberry.argument(description=_INPUT)]
    ) -> HibernationPayload:
        result = await _single(lambda: _unhibernate(info, input.app, input.environment))
        await _against_schedules(info, [result], woke=True)
        return HibernationPayload(
            outcome=OperationOutcome[result.outcome.value], status=_status(result), errors=_errors(result)
        )

    @strawberry.mutation(
        description="Deploy an image. With the hibernation check on, a hibernated target is refused, "
        "skipped or woken first, as `onHibernated` says."
    )
    async def deploy(
        self, info: Info, input: Annotated[DeployInput, strawberry.argument(description=_INPUT)]
    ) -> DeployPayload:
        result = await _single(
            lambda: _deploy(info, input.app, input.environment, input.image, _policy(input.on_hibernated))
        )
        await _against_schedules(info, [result] if result.woke else [], woke=True)  # a deploy that woke it
        return DeployPayload(
            outcome=OperationOutcome[result.outcome.value],
            deployment=None if result.deployment is None else Deployment.from_row(result.deployment),
            status=_status(result),
            errors=_errors(result),
        )

    @strawberry.mutation(
        description="Deploy again the image of an earlier successful deployment (the one before the current, or "
        "`to`), as a deploy: same lease, hibernation check and policy. The new deployment names the one it "
        "rolled back in `rolledBackFrom`."
    )
    async def rollback(
        self, info: Info, input: Annotated[RollbackInput, strawberry.argument(description=_INPUT)]
    ) -> DeployPayload:
        async def work() -> AppResult:
            require_action(info, Action.OPERATE, input.environment)
            return await info.context.services.rollback.rollback(
                input.app,
                input.environment,
                to_deployment_id=None if input.to is None else _deployment_id(input.to),
                on_hibernated=_policy(input.on_hibernated),
                actor=info.context.actor,
            )

        result = await _single(work)
        return DeployPayload(
            outcome=OperationOutcome[result.outcome.value],
            deployment=None if result.deployment is None else Deployment.from_row(result.deployment),
            status=_status(result),
            errors=_errors(result),
        )

    @strawberry.mutation(description="Deploy one image to an app group; per-app results, in input order.")
    async def deploy_many(
        self, info: Info, input: Annotated[DeployManyInput, strawberry.argument(description=_INPUT)]
    ) -> BulkPayload:
        policy, actor = _policy(input.on_hibernated), info.context.actor

        async def batch(apps: list[str]) -> dict[str, AppResult]:
            done = await info.context.services.deploy.deploy_each(
                input.environment, {app: images[app] for app in apps}, on_hibernated=policy, actor=actor
            )
            await _against_schedules(info, [r for r in done.values() if r.woke], woke=True)
            return done

        try:
            require_action(info, Action.OPERATE, input.environment)
            apps, images = await _images_by_app(info, input)
            items = await info.context.services.bulk.run_batch(input.environment, apps, batch)
        except (HiberniaError, InvalidInputs) as error:
            return BulkPayload(results=[], errors=operation_errors(error))
        return BulkPayload(results=[_bulk_result(item) for item in items], errors=[])

    @strawberry.mutation(description="Hibernate an app group; per-app results, in input order.")
    async def hibernate_many(
        self, info: Info, input: Annotated[AppGroupInput, strawberry.argument(description=_INPUT)]
    ) -> BulkPayload:
        return await _bulk(info, input, lambda app: _hibernate(info, app, input.environment), woke=False)

    @strawberry.mutation(description="Unhibernate an app group; per-app results, in input order.")
    async def unhibernate_many(
        self, info: Info, input: Annotated[AppGroupInput, strawberry.argument(description=_INPUT)]
    ) -> BulkPayload:
        return await _bulk(info, input, lambda app: _unhibernate(info, app, input.environment), woke=True)


async def _hibernate(
    info: Info, app: str, environment: str, workloads: list[str] | None = None, *, reduce_to: int | None = None
) -> AppResult:
    require_action(info, Action.OPERATE, environment)
    result = await info.context.services.hibernation.hibernate(
        app, environment, workloads=workloads, reduce_to=reduce_to, actor=info.context.actor
    )
    return AppResult(result.outcome, status=result.status, errors=result.errors)


async def _unhibernate(info: Info, app: str, environment: str) -> AppResult:
    require_action(info, Action.OPERATE, environment)
    result = await info.context.services.hibernation.unhibernate(app, environment, actor=info.context.actor)
    return AppResult(result.outcome, status=result.status, errors=result.errors)


async def _deploy(info: Info, app: str, environment: str, image: str, policy: DomainPolicy | None) -> AppResult:
    require_action(info, Action.OPERATE, environment)
    return await info.context.services.deploy.deploy(
        app, environment, image, on_hibernated=policy, actor=info.context.actor
    )


async def _against_schedules(info: Info, done: Sequence[AppResult | BulkItem], *, woke: bool) -> None:
    """Manual operations that changed something hold their app environments' schedules off them until
    each schedule's next boundary (a deploy only when it woke its target). One batch for a bulk."""
    ids = [d.status.app_environment_id for d in done if d.outcome is Outcome.APPLIED and d.status is not None]
    await info.context.services.scheduler.after_manual(ids, woke=woke, actor=info.context.actor)


async def _chosen(info: Info, input: AppGroupInput | DeployManyInput) -> list[str]:
    selection = AppSelection.from_input(
        apps=input.apps, all_apps=input.all_apps, teams=input.teams, exclude_apps=input.exclude_apps
    )
    return await info.context.services.bulk.choose(input.environment, selection)


async def _bulk(
    info: Info, input: AppGroupInput, operation: Callable[[str], Awaitable[AppResult]], *, woke: bool
) -> BulkPayload:
    try:
        require_action(info, Action.OPERATE, input.environment)
        apps = await _chosen(info, input)
        items = await info.context.services.bulk.run(input.environment, apps, operation)
    except (HiberniaError, InvalidInputs) as error:
        return BulkPayload(results=[], errors=operation_errors(error))
    await _against_schedules(info, items, woke=woke)
    return BulkPayload(results=[_bulk_result(item) for item in items], errors=[])
