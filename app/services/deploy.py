"""Deploy a release without ever landing in a hibernated app by accident."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from app.cluster.gateway import (
    ClusterError,
    ClusterGateway,
    ClusterUnavailable,
    InvalidWorkload,
    WorkloadConflict,
    WorkloadNotFound,
    container_image_patch,
)
from app.config import Settings
from app.db.models import Deployment, DeploymentOutcome, HibernationRecord, TransitionCause
from app.db.repositories.deployments import INTERRUPTED, DeploymentRepository, Finished
from app.db.repositories.hibernation_records import HibernationRecordRepository
from app.db.repositories.status import LeftBehind, StatusRepository
from app.db.retry import retrying_deadlocks
from app.db.types import utcnow
from app.domain.errors import ErrorCode, HiberniaError
from app.domain.operations import HibernatedPolicy, OperationOutcome, hibernated_explanation, validate_image
from app.domain.status import HIBERNATED_STATUSES, DerivedStatus
from app.domain.workloads import HIBERNATION_ANNOTATION, RELEASE_LABEL, Workload, WorkloadKind
from app.request_context import current_request_id
from app.services.hibernation import HibernationService
from app.services.leases import LeaseManager
from app.services.live_status import LiveStatus
from app.services.results import AppResult
from app.services.targets import (
    MAX_CONFLICT_RETRIES,
    Target,
    TargetAccess,
    cluster_error,
    conflict_error,
    invalid_workload_error,
)
from app.services.workload_lists import read_releases

logger = logging.getLogger("hibernia.deploy")

T = TypeVar("T")


@dataclass
class _Decided:
    """What one app's deploy did, and the status it leaves, before the batch records it."""

    outcome: OperationOutcome
    errors: list[HiberniaError] = field(default_factory=list)
    leaves: DerivedStatus | None = None  # to record as this deploy's status
    recorded: LiveStatus | None = None  # recorded already (by a wake that failed)
    woke: bool = False
    stale_records: list[int] = field(default_factory=list)  # hibernation records the deploy made untrue
    note: str | None = None  # for the deployment row, besides the errors
    at: datetime | None = None  # when it was done: its deployment ends then


_FINISHED = {
    OperationOutcome.APPLIED: DeploymentOutcome.SUCCEEDED,
    OperationOutcome.UNCHANGED: DeploymentOutcome.SUCCEEDED,
    OperationOutcome.SKIPPED: DeploymentOutcome.SKIPPED,
    OperationOutcome.FAILED: DeploymentOutcome.FAILED,
}


def _unlabelled(target: Target) -> HiberniaError:
    return HiberniaError(
        ErrorCode.CONFLICT,
        f"{target.label}: a Deployment named '{target.release}' exists in namespace '{target.namespace}' without the "
        f"label {RELEASE_LABEL}={target.release}, so it is not this release's. Label it, or attach the app with "
        "another releaseName.",
    )


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

    async def deploy(
        self, app: str, environment: str, image: str, *, on_hibernated: HibernatedPolicy | None, actor: str
    ) -> AppResult:
        return (await self.deploy_many(environment, [app], image, on_hibernated=on_hibernated, actor=actor))[app]

    async def deploy_many(
        self,
        environment: str,
        apps: Sequence[str],
        image: str,
        *,
        on_hibernated: HibernatedPolicy | None,
        actor: str,
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
                    results.update(await self._deploy_held(mine, image, policy, actor))
        return {app: results[app] for app in apps}

    async def _deploy_held(
        self, targets: list[Target], image: str, policy: HibernatedPolicy, actor: str
    ) -> dict[str, AppResult]:
        ids = [t.id for t in targets]

        async def start() -> tuple[list[Deployment], dict[int, list[HibernationRecord]]]:
            async with self.access.session_factory() as session, session.begin():
                repository = DeploymentRepository(session)
                # We hold the leases: a RUNNING deploy here belongs to a server that died.
                await repository.fail_interrupted(ids, at=self.clock(), reason=INTERRUPTED)
                deployments = await repository.start(
                    ids, image=image, on_hibernated=policy.value, actor=actor, at=self.clock()
                )
                return deployments, await StatusRepository(session).hibernation_records(ids)

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

        async def one(target: Target) -> _Decided:
            decided = await self._guarded(target, reading, semaphore, image, policy, actor, records)
            decided.at = self.clock()
            return decided

        decided = await asyncio.gather(*(one(t) for t in targets))
        return await _even_if_cancelled(self._record(targets, deployments, decided, actor))

    async def _guarded(
        self,
        target: Target,
        reading: tuple[ClusterGateway, dict[str, list[Workload]]] | Exception,
        semaphore: asyncio.Semaphore,
        image: str,
        policy: HibernatedPolicy,
        actor: str,
        records: dict[int, list[HibernationRecord]],
    ) -> _Decided:
        """One app of the batch; whatever goes wrong with it stays its own result."""
        if isinstance(reading, ClusterError):
            return _Decided(OperationOutcome.FAILED, [cluster_error(reading, target)])
        if isinstance(reading, Exception):  # logged once, where it happened
            return _Decided(OperationOutcome.FAILED, [_unexpected()])
        try:
            gateway, workloads = reading
            async with semaphore:
                return await self._deploy(
                    gateway, target, image, policy, actor, workloads[target.release], records.get(target.id, [])
                )
        except ClusterError as error:
            return _Decided(OperationOutcome.FAILED, [cluster_error(error, target)])
        except Exception:
            logger.exception("deploy failed for %s (request %s)", target.label, current_request_id())
            return _Decided(OperationOutcome.FAILED, [_unexpected()])

    async def _record(
        self, targets: list[Target], deployments: list[Deployment], decided: Sequence[_Decided], actor: str
    ) -> dict[str, AppResult]:
        """Everything the batch did, in one transaction: statuses, transitions, records, deployments.

        Should the transaction fail (after retries on deadlocks), the deployments are still finished
        on their own, so none stays RUNNING; the statuses are then left to the next observation to
        repair.
        """
        now = self.clock()
        done = [(t, deployment, d, d.at or now) for t, deployment, d in zip(targets, deployments, decided, strict=True)]
        # Statuses and transitions at the recording time, so they never go back behind an observation
        # written meanwhile; each deployment ends at the time its app was done.
        leaves = [LeftBehind(t.id, d.leaves.status, d.leaves.reason, now, d.woke) for t, _, d, _ in done if d.leaves]
        finished = [
            Finished(deployment, _FINISHED[d.outcome], "; ".join(e.message for e in d.errors) or d.note, at)
            for _, deployment, d, at in done
        ]
        stale = [i for d in decided for i in d.stale_records]

        async def everything() -> set[int]:
            async with self.access.session_factory() as session, session.begin():
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
        try:
            changed = await retrying_deadlocks(everything, "recording a deploy")
        except Exception:
            logger.exception(
                "could not record the statuses of a deploy of %d apps; finishing its deployments", len(done)
            )
            await retrying_deadlocks(outcomes_only, "finishing deployments")
        results: dict[str, AppResult] = {}
        for target, deployment, d, _ in done:
            status = d.recorded
            if d.leaves is not None:
                status = LiveStatus(target.id, d.leaves, now, changed=target.id in changed)
            results[target.row.app.name] = AppResult(d.outcome, deployment, status, d.errors)
        return results

    async def _deploy(
        self,
        gateway: ClusterGateway,
        target: Target,
        image: str,
        policy: HibernatedPolicy,
        actor: str,
        workloads: list[Workload],
        records: list[HibernationRecord],
    ) -> _Decided:
        woke = False
        try:
            for _attempt in range(MAX_CONFLICT_RETRIES):
                if self.settings.fetch_helm_pipeline_app_status and not woke:
                    derived = self.access.derive(target, workloads, records, now=self.clock())
                    if derived.status in HIBERNATED_STATUSES:
                        if policy is HibernatedPolicy.WAKE:
                            wake = await self.hibernation.unhibernate_locked(target, actor, workloads)
                            if wake.errors:
                                return _Decided(OperationOutcome.FAILED, wake.errors, recorded=wake.status)
                            woke, workloads = True, wake.workloads  # as the wake wrote them
                            records = await self.access.records(target)
                            continue
                        return self._hibernated(target, derived, records, policy)
                try:
                    written = await self._apply(gateway, target, workloads, image)
                except WorkloadConflict as conflict:
                    if conflict.already_exists:
                        return _Decided(OperationOutcome.FAILED, [_unlabelled(target)])
                    # Changed between check and write: read and check again, never overwrite.
                    workloads = await self.access.read_workloads(gateway, target)
                    woke = False
                    continue
                return self._applied(target, workloads, written, records, woke)
            return _Decided(OperationOutcome.FAILED, [conflict_error(target, target.release)])
        except ClusterUnavailable as error:
            return _Decided(OperationOutcome.FAILED, [cluster_error(error, target)])
        except InvalidWorkload as error:
            return _Decided(OperationOutcome.FAILED, [invalid_workload_error(error)])
        except WorkloadNotFound:
            return _Decided(OperationOutcome.FAILED, [conflict_error(target, target.release)])
        except HiberniaError as error:
            return _Decided(OperationOutcome.FAILED, [error])

    def _hibernated(
        self, target: Target, derived: DerivedStatus, records: list[HibernationRecord], policy: HibernatedPolicy
    ) -> _Decided:
        """REFUSE or SKIP: nothing is deployed, and the hibernation seen is recorded."""
        explanation = hibernated_explanation(
            target.label,
            [w.name for w in derived.workloads if w.hibernated],
            len(derived.workloads),
            [r.as_recorded() for r in records],
        )
        if policy is HibernatedPolicy.SKIP:
            return _Decided(OperationOutcome.SKIPPED, leaves=derived, note=f"Skipped: {explanation}")
        return _Decided(OperationOutcome.FAILED, [HiberniaError(ErrorCode.APP_HIBERNATED, explanation)], leaves=derived)

    async def _apply(self, gateway: ClusterGateway, target: Target, workloads: list[Workload], image: str) -> Workload:
        """Image on the main container and the desired replicas; creates the Deployment the first time."""
        main = next(
            (w for w in workloads if w.kind is WorkloadKind.DEPLOYMENT and w.name == target.release),
            next((w for w in workloads if w.kind is WorkloadKind.DEPLOYMENT), None),
        )
        replicas = target.row.desired_replicas
        if main is None:
            if workloads:
                kinds = ", ".join(sorted({f"{w.kind.value} {w.name}" for w in workloads}))
                raise HiberniaError(
                    ErrorCode.INVALID_INPUT,
                    f"{target.label}: release '{target.release}' has no Deployment to deploy to (it has {kinds}); "
                    "Hibernia deploys to Deployments only.",
                )
            return await gateway.create_deployment(
                target.namespace, target.release, target.release, image, replicas, target.release
            )
        container = target.release if target.release in main.container_names else None
        container = container or (main.container_names[0] if main.container_names else target.release)
        patch = container_image_patch(WorkloadKind.DEPLOYMENT, container, image)
        patch["spec"]["replicas"] = replicas
        if HIBERNATION_ANNOTATION in main.annotations:
            # Only reachable with the check off (legacy): the deploy wakes the app, so the annotation
            # would claim a hibernation that no longer holds.
            patch["metadata"] = {"annotations": {HIBERNATION_ANNOTATION: None}}
        return await gateway.patch_workload(
            target.namespace, main.kind, main.name, patch, resource_version=main.resource_version
        )

    def _applied(
        self, target: Target, workloads: list[Workload], written: Workload, records: list[HibernationRecord], woke: bool
    ) -> _Decided:
        after = [w for w in workloads if (w.kind, w.name) != (written.kind, written.name)] + [written]
        stale = [r for r in records if (r.workload_kind, r.workload_name) == (written.kind, written.name)]
        if stale:
            logger.warning(
                "%s: deploy with the hibernation check off woke %s; cleared its hibernation record",
                target.label,
                written.name,
            )
        remaining = [r for r in records if r not in stale]
        now = self.clock()
        derived = self.access.derive(target, after, remaining, now=now, wake_started_at=now if woke else None)
        return _Decided(OperationOutcome.APPLIED, leaves=derived, woke=woke, stale_records=[r.id for r in stale])
