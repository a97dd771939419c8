"""Deploy a release without ever landing in a hibernated app by accident."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from app.cluster.gateway import ClusterError, ClusterGateway
from app.config import Settings
from app.db.availability import DatabaseUnavailable, is_unavailable
from app.db.engine import write_transaction
from app.db.models import Deployment, DeploymentOutcome, HibernationRecord, TransitionCause
from app.db.repositories.deployments import DeploymentRepository, Finished
from app.db.repositories.hibernation_records import HibernationRecordRepository
from app.db.repositories.status import LeftBehind, StatusRepository
from app.db.retry import retrying_deadlocks
from app.db.types import utcnow
from app.domain.errors import ErrorCode, HiberniaError
from app.domain.operations import HibernatedPolicy, OperationOutcome, validate_image
from app.domain.workloads import Workload
from app.request_context import current_request_id
from app.services.hibernation import HibernationService
from app.services.leases import DATABASE_AWAY, HeldLeases, LeaseManager
from app.services.live_status import LiveStatus
from app.services.release_apply import Decided, ReleaseApplier
from app.services.results import AppResult
from app.services.targets import Target, TargetAccess, cluster_error, not_recorded
from app.services.workload_lists import read_releases

logger = logging.getLogger("hibernia.deploy")

T = TypeVar("T")


_FINISHED = {
    OperationOutcome.APPLIED: DeploymentOutcome.SUCCEEDED,
    OperationOutcome.UNCHANGED: DeploymentOutcome.SUCCEEDED,
    OperationOutcome.SKIPPED: DeploymentOutcome.SKIPPED,
    OperationOutcome.FAILED: DeploymentOutcome.FAILED,
}


def _finished(decided: Decided) -> DeploymentOutcome:
    # A release whose write was not answered and could not be read back may be running: the row
    # says so until the reconciler settles it against the cluster.
    return DeploymentOutcome.UNCONFIRMED if decided.unsettled else _FINISHED[decided.outcome]


def _unexpected() -> HiberniaError:
    return HiberniaError(ErrorCode.INTERNAL, f"Unexpected error; it was logged with request id {current_request_id()}.")


async def _even_if_cancelled(recording: Coroutine[Any, Any, T]) -> T:
    """Runs `recording` to its end even if the request is cancelled meanwhile (once or more): the
    patches are done and their rows must say so, and the leases must outlive the writes. The
    cancellation is passed on afterwards; a failure of the recording is then logged, not lost."""
    task = asyncio.ensure_future(recording)
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            cancelled = cancelled or not task.cancelled()
        except Exception:
            break  # the task is done; its exception is raised below
    if cancelled:
        if not task.cancelled() and task.exception() is not None:
            logger.error("recording a cancelled deploy failed", exc_info=task.exception())
        raise asyncio.CancelledError
    return task.result()


class DeployService:
    def __init__(
        self,
        access: TargetAccess,
        leases: LeaseManager,
        hibernation: HibernationService,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.access = access
        self.leases = leases
        self.hibernation = hibernation
        self.settings = settings
        self.clock = clock
        self.release = ReleaseApplier(
            access,
            hibernation,
            check_hibernation=settings.fetch_helm_pipeline_app_status,
            write_seconds=settings.cluster_timeout_seconds,
            clock=lambda: self.clock(),
        )

    async def deploy(
        self,
        app: str,
        environment: str,
        image: str,
        *,
        on_hibernated: HibernatedPolicy | None,
        actor: str,
        rolled_back_from_id: int | None = None,
    ) -> AppResult:
        results = await self.deploy_many(
            environment, [app], image, on_hibernated=on_hibernated, actor=actor, rolled_back_from_id=rolled_back_from_id
        )
        return results[app]

    async def deploy_each(
        self,
        environment: str,
        images: Mapping[str, str],
        *,
        on_hibernated: HibernatedPolicy | None,
        actor: str,
    ) -> dict[str, AppResult]:
        """Deploys each app its own image: one batch per image, one after another; an image refused
        as invalid fails only the apps it was meant for."""
        groups: dict[str, list[str]] = {}
        for app, image in images.items():
            groups.setdefault(image, []).append(app)
        results: dict[str, AppResult] = {}
        for image, apps in groups.items():
            try:
                results.update(
                    await self.deploy_many(environment, apps, image, on_hibernated=on_hibernated, actor=actor)
                )
            except HiberniaError as error:
                results.update({app: AppResult(OperationOutcome.FAILED, errors=[error]) for app in apps})
        return {app: results[app] for app in images}

    async def deploy_many(
        self,
        environment: str,
        apps: Sequence[str],
        image: str,
        *,
        on_hibernated: HibernatedPolicy | None,
        actor: str,
        rolled_back_from_id: int | None = None,
    ) -> dict[str, AppResult]:
        """Deploys to apps of one environment as one batch; each app succeeds or fails on its own.

        The batch costs a constant number of SQL statements and one LIST per workload kind whatever
        its size: targets, leases, deployment rows, records and statuses are read and written for all
        apps at once. Only the patches are per app, run with bounded concurrency. Each app's
        workloads are read inside its lease, and nothing is written to a hibernated app.
        """
        image = validate_image(image)
        policy = on_hibernated or HibernatedPolicy(self.settings.default_on_hibernated.value)
        resolved = await self.access.resolve_many(apps, environment)
        results = {
            app: AppResult(OperationOutcome.FAILED, errors=[r])
            for app, r in resolved.items()
            if isinstance(r, HiberniaError)
        }
        targets = {t.id: t for t in resolved.values() if isinstance(t, Target)}
        if targets:
            labels = {i: t.label for i, t in targets.items()}
            async with self.leases.hold_many(labels, operation="deploy", actor=actor) as held:
                for i, error in held.refused.items():
                    results[targets[i].row.app.name] = AppResult(OperationOutcome.FAILED, errors=[error])
                mine = [t for i, t in targets.items() if i in held.acquired]
                if mine:
                    results.update(await self._deploy_held(mine, image, policy, actor, held, rolled_back_from_id))
        return {app: results[app] for app in apps}

    async def _deploy_held(
        self,
        targets: list[Target],
        image: str,
        policy: HibernatedPolicy,
        actor: str,
        held: HeldLeases,
        rolled_back_from_id: int | None,
    ) -> dict[str, AppResult]:
        ids = [t.id for t in targets]

        async def start() -> tuple[list[Deployment], dict[int, list[HibernationRecord]]]:
            try:
                async with self.access.session_factory() as session, session.begin():
                    repository = DeploymentRepository(session)
                    deployments = await repository.start(
                        ids,
                        image=image,
                        on_hibernated=policy.value,
                        actor=actor,
                        at=self.clock(),
                        rolled_back_from_id=rolled_back_from_id,
                    )
                    return deployments, await StatusRepository(session).hibernation_records(ids)
            except Exception as error:
                if is_unavailable(error):  # before anything was sent to the cluster
                    raise DatabaseUnavailable(nothing_changed=True) from error
                raise

        async def read() -> tuple[ClusterGateway, dict[str, list[Workload]]] | Exception:
            # One environment: one cluster and namespace, so one LIST per kind reads every app's
            # workloads. Reading writes nothing, so it runs while the deployment rows are written.
            try:
                gateway = await self.access.gateway(targets[0])
                return gateway, await read_releases(gateway, targets[0].namespace, [t.release for t in targets])
            except ClusterError as error:  # every app fails alone with it, and its deployment is finished
                return error
            except Exception as error:
                logger.exception("reading the workloads of a deploy of %d apps failed", len(targets))
                return error

        (deployments, records), reading = await asyncio.gather(start(), read())
        semaphore = asyncio.Semaphore(self.settings.bulk_concurrency)

        async def one(target: Target) -> Decided:
            decided = await self._guarded(target, reading, semaphore, image, policy, actor, records)
            decided.at = self.clock()
            return decided

        decided = await asyncio.gather(*(one(t) for t in targets))
        for target, d in zip(targets, decided, strict=True):
            if d.unsettled:
                held.reconcile_later([target.id], why=d.unsettled)
        return await _even_if_cancelled(self._record(targets, deployments, decided, actor, held))

    async def _guarded(
        self,
        target: Target,
        reading: tuple[ClusterGateway, dict[str, list[Workload]]] | Exception,
        semaphore: asyncio.Semaphore,
        image: str,
        policy: HibernatedPolicy,
        actor: str,
        records: dict[int, list[HibernationRecord]],
    ) -> Decided:
        """One app of the batch; whatever goes wrong with it stays its own result."""
        if isinstance(reading, ClusterError):
            return Decided(OperationOutcome.FAILED, [cluster_error(reading, target)])
        if isinstance(reading, Exception):  # logged once, where it happened
            return Decided(OperationOutcome.FAILED, [_unexpected()])
        try:
            gateway, workloads = reading
            async with semaphore:
                return await self.release.deploy(
                    gateway, target, image, policy, actor, workloads[target.release], records.get(target.id, [])
                )
        except ClusterError as error:
            return Decided(OperationOutcome.FAILED, [cluster_error(error, target)])
        except Exception:
            logger.exception("deploy failed for %s (request %s)", target.label, current_request_id())
            return Decided(OperationOutcome.FAILED, [_unexpected()])

    async def _record(
        self,
        targets: list[Target],
        deployments: list[Deployment],
        decided: Sequence[Decided],
        actor: str,
        held: HeldLeases,
    ) -> dict[str, AppResult]:
        """Everything the batch did, in one transaction: statuses, transitions, records, deployments.

        Should the transaction fail (after retries on deadlocks), the deployments are still finished
        on their own, so none stays RUNNING; the statuses are then left to the next observation to
        repair. Should the database be away, nothing can be written: the leases are left to settle,
        and the reconciler records what the cluster shows once it is back.
        """
        now = self.clock()
        done = [(t, deployment, d, d.at or now) for t, deployment, d in zip(targets, deployments, decided, strict=True)]
        # Statuses and transitions at the recording time, so they never go back behind an observation
        # written meanwhile; each deployment ends at the time its app was done.
        leaves = [
            LeftBehind(t.id, d.leaves.status, d.leaves.reason, now, d.woke, version=d.version)
            for t, _, d, _ in done
            if d.leaves
        ]
        finished = [
            Finished(deployment, _finished(d), "; ".join(e.message for e in d.errors) or d.note, at)
            for _, deployment, d, at in done
        ]
        stale = [i for d in decided for i in d.stale_records]

        async def everything() -> set[int]:
            async with write_transaction(self.access.session_factory) as session:
                if stale:
                    await HibernationRecordRepository(session).delete_ids(stale)
                changed = await StatusRepository(session).record_operations(
                    leaves, cause=TransitionCause.DEPLOY, actor=actor
                )
                await DeploymentRepository(session).finish(finished)
                return changed

        async def outcomes_only() -> None:
            async with self.access.session_factory() as session, session.begin():
                await DeploymentRepository(session).finish(finished)

        changed: set[int] = set()
        recorded = True
        try:
            changed = await retrying_deadlocks(everything, "recording a deploy")
        except Exception as error:
            recorded = not is_unavailable(error)
            if recorded:
                logger.exception(
                    "could not record the statuses of a deploy of %d apps; finishing its deployments", len(done)
                )
                try:
                    await retrying_deadlocks(outcomes_only, "finishing deployments")
                except Exception as again:
                    if not is_unavailable(again):
                        raise
                    recorded = False
        if not recorded:
            held.reconcile_later(why=DATABASE_AWAY)
        results: dict[str, AppResult] = {}
        for target, deployment, d, _ in done:
            status = d.recorded
            if d.leaves is not None:
                status = LiveStatus(target.id, d.leaves, now, changed=target.id in changed)
            errors = d.errors if recorded else [*d.errors, not_recorded(target)]
            results[target.row.app.name] = AppResult(d.outcome, deployment, status, errors, woke=d.woke)
        return results
