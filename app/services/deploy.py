"""Deploy a release without ever landing in a hibernated app by accident."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from app.cluster.gateway import (
    ClusterGateway,
    ClusterUnavailable,
    InvalidWorkload,
    WorkloadConflict,
    WorkloadNotFound,
    container_image_patch,
)
from app.config import Settings
from app.db.models import Deployment, DeploymentOutcome, HibernationRecord, TransitionCause
from app.db.repositories.deployments import INTERRUPTED, DeploymentRepository
from app.db.repositories.hibernation_records import HibernationRecordRepository
from app.db.types import utcnow
from app.domain.errors import ErrorCode, HiberniaError
from app.domain.operations import HibernatedPolicy, OperationOutcome, hibernated_explanation, validate_image
from app.domain.status import HIBERNATED_STATUSES, DerivedStatus
from app.domain.workloads import HIBERNATION_ANNOTATION, RELEASE_LABEL, Workload, WorkloadKind
from app.services.hibernation import HibernationService
from app.services.leases import LeaseManager
from app.services.live_status import LiveStatus
from app.services.targets import (
    MAX_CONFLICT_RETRIES,
    Target,
    TargetAccess,
    cluster_error,
    conflict_error,
    invalid_workload_error,
)

logger = logging.getLogger("hibernia.deploy")


@dataclass
class DeployResult:
    outcome: OperationOutcome
    deployment: Deployment | None = None
    status: LiveStatus | None = None
    errors: list[HiberniaError] = field(default_factory=list)


def _unlabelled(target: Target) -> HiberniaError:
    return HiberniaError(
        ErrorCode.CONFLICT,
        f"{target.label}: a Deployment named '{target.release}' exists in namespace '{target.namespace}' without the "
        f"label {RELEASE_LABEL}={target.release}, so it is not this release's. Label it, or attach the app with "
        "another releaseName.",
    )


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
    ) -> DeployResult:
        image = validate_image(image)
        policy = on_hibernated or HibernatedPolicy(self.settings.default_on_hibernated.value)
        target = await self.access.resolve(app, environment)
        async with self.leases.hold(target.id, target=target.label, operation="deploy", actor=actor):
            async with self.access.session_factory() as session, session.begin():
                repository = DeploymentRepository(session)
                # We hold the lease: a RUNNING deploy here belongs to a server that died.
                await repository.fail_interrupted([target.id], at=self.clock(), reason=INTERRUPTED)
                deployment = await repository.start(
                    target.id, image=image, on_hibernated=policy.value, actor=actor, at=self.clock()
                )
            result = DeployResult(OperationOutcome.FAILED, deployment)
            try:
                result = await self._deploy(target, deployment, image, policy, actor)
            finally:
                # Never left RUNNING: an unexpected exception ends it FAILED and still propagates.
                outcome = {
                    OperationOutcome.APPLIED: DeploymentOutcome.SUCCEEDED,
                    OperationOutcome.UNCHANGED: DeploymentOutcome.SUCCEEDED,
                    OperationOutcome.SKIPPED: DeploymentOutcome.SKIPPED,
                    OperationOutcome.FAILED: DeploymentOutcome.FAILED,
                }[result.outcome]
                error = "; ".join(e.message for e in result.errors) or (
                    result.deployment.error if result.deployment else None
                )
                if result.outcome is OperationOutcome.FAILED and not error:
                    error = "Unexpected error; see the server log."
                async with self.access.session_factory() as session, session.begin():
                    result.deployment = await DeploymentRepository(session).finish(
                        deployment.id, outcome, error=error, at=self.clock()
                    )
            return result

    async def _deploy(
        self, target: Target, deployment: Deployment, image: str, policy: HibernatedPolicy, actor: str
    ) -> DeployResult:
        woke = False
        try:
            gateway = await self.access.gateway(target)
            workloads = await self.access.read_workloads(gateway, target)
            for _attempt in range(MAX_CONFLICT_RETRIES):
                records = await self.access.records(target)
                if self.settings.fetch_helm_pipeline_app_status and not woke:
                    derived = self.access.derive(target, workloads, records, now=self.clock())
                    if derived.status in HIBERNATED_STATUSES:
                        if policy is HibernatedPolicy.WAKE:
                            wake = await self.hibernation.unhibernate_locked(target, actor, workloads)
                            if wake.errors:
                                return DeployResult(OperationOutcome.FAILED, deployment, wake.status, wake.errors)
                            woke, workloads = True, wake.workloads  # as the wake wrote them
                            continue
                        return await self._hibernated(target, deployment, derived, records, policy, actor)
                try:
                    written = await self._apply(gateway, target, workloads, image)
                except WorkloadConflict as conflict:
                    if conflict.already_exists:
                        return DeployResult(OperationOutcome.FAILED, deployment, errors=[_unlabelled(target)])
                    # Changed between check and write: read and check again, never overwrite.
                    workloads = await self.access.read_workloads(gateway, target)
                    woke = False
                    continue
                status = await self._save(target, workloads, written, records, actor, woke)
                return DeployResult(OperationOutcome.APPLIED, deployment, status)
            return DeployResult(OperationOutcome.FAILED, deployment, errors=[conflict_error(target, target.release)])
        except ClusterUnavailable as error:
            return DeployResult(OperationOutcome.FAILED, deployment, errors=[cluster_error(error, target)])
        except InvalidWorkload as error:
            return DeployResult(OperationOutcome.FAILED, deployment, errors=[invalid_workload_error(error)])
        except WorkloadNotFound:
            return DeployResult(OperationOutcome.FAILED, deployment, errors=[conflict_error(target, target.release)])
        except HiberniaError as error:
            return DeployResult(OperationOutcome.FAILED, deployment, errors=[error])

    async def _hibernated(
        self,
        target: Target,
        deployment: Deployment,
        derived: DerivedStatus,
        records: list[HibernationRecord],
        policy: HibernatedPolicy,
        actor: str,
    ) -> DeployResult:
        """REFUSE or SKIP: nothing is deployed, and the hibernation seen is recorded."""
        explanation = hibernated_explanation(
            target.label,
            [w.name for w in derived.workloads if w.hibernated],
            len(derived.workloads),
            [r.as_recorded() for r in records],
        )
        now = self.clock()
        async with self.access.session_factory() as session, session.begin():
            status = await self.access.record_status(
                session, target, derived, cause=TransitionCause.DEPLOY, actor=actor, at=now
            )
        if policy is HibernatedPolicy.SKIP:
            deployment.error = f"Skipped: {explanation}"
            return DeployResult(OperationOutcome.SKIPPED, deployment, status)
        return DeployResult(
            OperationOutcome.FAILED, deployment, status, [HiberniaError(ErrorCode.APP_HIBERNATED, explanation)]
        )

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

    async def _save(
        self,
        target: Target,
        workloads: list[Workload],
        written: Workload,
        records: list[HibernationRecord],
        actor: str,
        woke: bool,
    ) -> LiveStatus:
        now = self.clock()
        after = [w for w in workloads if (w.kind, w.name) != (written.kind, written.name)] + [written]
        async with self.access.session_factory() as session, session.begin():
            stale = [r for r in records if (r.workload_kind, r.workload_name) == (written.kind, written.name)]
            if stale:
                logger.warning(
                    "%s: deploy with the hibernation check off woke %s; cleared its hibernation record",
                    target.label,
                    written.name,
                )
                await HibernationRecordRepository(session).delete_ids(r.id for r in stale)
            remaining = [r for r in records if r not in stale]
            derived = self.access.derive(target, after, remaining, now=now, wake_started_at=now if woke else None)
            return await self.access.record_status(
                session, target, derived, cause=TransitionCause.DEPLOY, actor=actor, at=now, woke=woke
            )
