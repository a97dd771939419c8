"""One app's deploy inside its lease: the guard, the wake, the write of the release.

The guard reads the release's workloads (inside the lease, never from a cache) and, when the
deploy-time check is on and the target is hibernated, applies the policy: REFUSE, SKIP, or WAKE,
which wakes the other hibernated workloads and then restores the main Deployment, removes its
annotation and sets the image in one patch. The main Deployment is written through `converge`:
status churn is retried, a real change of its spec runs the guard again, a lost answer is read back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from app.cluster.gateway import (
    ClusterError,
    ClusterGateway,
    InvalidWorkload,
    WorkloadConflict,
    WorkloadNotFound,
    WriteOutcomeUnknown,
    container_image_patch,
)
from app.db.models import HibernationRecord
from app.domain.errors import ErrorCode, HiberniaError
from app.domain.operations import HibernatedPolicy, OperationOutcome, hibernated_explanation
from app.domain.status import HIBERNATED_STATUSES, DerivedStatus
from app.domain.workloads import HIBERNATION_ANNOTATION, RELEASE_LABEL, Workload, WorkloadKind, newest_version
from app.services.hibernation import HibernationService
from app.services.leases import ANSWER_LOST
from app.services.live_status import LiveStatus
from app.services.targets import Target, TargetAccess, cluster_error, conflict_error, invalid_workload_error
from app.services.workload_writes import MAX_CONFLICT_RETRIES, Decision, NotApplied, SpecChanged, converge

logger = logging.getLogger("hibernia.deploy")


@dataclass
class Decided:
    """What one app's deploy did, and the status it leaves, before the batch records it."""

    outcome: OperationOutcome
    errors: list[HiberniaError] = field(default_factory=list)
    leaves: DerivedStatus | None = None  # to record as this deploy's status
    recorded: LiveStatus | None = None  # recorded already (by a wake that failed)
    woke: bool = False
    stale_records: list[int] = field(default_factory=list)  # hibernation records the deploy made untrue
    note: str | None = None  # for the deployment row, besides the errors
    at: datetime | None = None  # when it was done: its deployment ends then
    unsettled: str | None = None  # why its outcome is not known or not recorded, when it is not
    version: int | None = None  # the resourceVersion of what it saw or wrote last


def _unlabelled(target: Target) -> HiberniaError:
    return HiberniaError(
        ErrorCode.CONFLICT,
        f"{target.label}: a Deployment named '{target.release}' exists in namespace '{target.namespace}' without the "
        f"label {RELEASE_LABEL}={target.release}, so it is not this release's. Label it, or attach the app with "
        "another releaseName.",
    )


def main_deployment(target: Target, workloads: list[Workload]) -> Workload | None:
    """The Deployment a release's image goes to: the one named like the release, else the first."""
    return next(
        (w for w in workloads if w.kind is WorkloadKind.DEPLOYMENT and w.name == target.release),
        next((w for w in workloads if w.kind is WorkloadKind.DEPLOYMENT), None),
    )


def _container(target: Target, main: Workload) -> str:
    if target.release in main.container_names:
        return target.release
    return main.container_names[0] if main.container_names else target.release


def runs_release(
    workload: Workload, container: str, image: str, replicas: int, *, reduced_from: int | None = None
) -> bool:
    """Whether a Deployment has this release applied: the image on the container, the replicas, no
    hibernation annotation (in reduced mode: still the original in it)."""
    images = dict(zip(workload.container_names, workload.images, strict=False))
    return (
        images.get(container) == image
        and workload.desired_replicas == replicas
        and workload.annotations.get(HIBERNATION_ANNOTATION) == (None if reduced_from is None else str(reduced_from))
    )


class ReleaseApplier:
    def __init__(
        self,
        access: TargetAccess,
        hibernation: HibernationService,
        *,
        check_hibernation: bool,
        write_seconds: float,
        clock: Callable[[], datetime],
    ) -> None:
        self.access = access
        self.hibernation = hibernation
        self.check_hibernation = check_hibernation
        self.write_seconds = write_seconds
        self.clock = clock

    async def deploy(
        self,
        gateway: ClusterGateway,
        target: Target,
        image: str,
        policy: HibernatedPolicy,
        actor: str,
        workloads: list[Workload],
        records: list[HibernationRecord],
    ) -> Decided:
        woke = False
        deadline = asyncio.get_running_loop().time() + self.write_seconds
        try:
            for _attempt in range(MAX_CONFLICT_RETRIES):
                main = main_deployment(target, workloads)
                if main is None and workloads:
                    return Decided(OperationOutcome.FAILED, [_no_deployment(target, workloads)])
                if self.check_hibernation and not woke:
                    derived = self.access.derive(target, workloads, records, now=self.clock())
                    if derived.status in HIBERNATED_STATUSES:
                        if policy is not HibernatedPolicy.WAKE:
                            return self._hibernated(target, derived, records, policy, newest_version(workloads))
                        woken = await self._wake_all_but(target, actor, workloads, derived, main)
                        if isinstance(woken, Decided):
                            return woken
                        woke, workloads = True, woken
                        records = await self.access.records(target)
                try:
                    written = await self._apply(gateway, target, workloads, main, image, deadline)
                except SpecChanged:
                    # Changed between check and write by someone else: read and check again.
                    workloads = await self.access.read_workloads(gateway, target)
                    woke = False
                    continue
                except WorkloadConflict as conflict:
                    if conflict.already_exists:
                        return Decided(OperationOutcome.FAILED, [_unlabelled(target)])
                    raise
                return self._applied(target, workloads, written, records, woke)
            return Decided(OperationOutcome.FAILED, [conflict_error(target, target.release)])
        except WriteOutcomeUnknown as error:
            return Decided(OperationOutcome.FAILED, [cluster_error(error, target)], unsettled=ANSWER_LOST)
        except InvalidWorkload as error:
            return Decided(OperationOutcome.FAILED, [invalid_workload_error(error)])
        except WorkloadNotFound:
            return Decided(OperationOutcome.FAILED, [conflict_error(target, target.release)])
        except ClusterError as error:
            return Decided(OperationOutcome.FAILED, [cluster_error(error, target)])
        except HiberniaError as error:
            return Decided(OperationOutcome.FAILED, [error])

    async def _wake_all_but(
        self, target: Target, actor: str, workloads: list[Workload], derived: DerivedStatus, main: Workload | None
    ) -> list[Workload] | Decided:
        """Wakes every hibernated workload but the main Deployment, which the release's own patch wakes."""
        skip = None if main is None else (main.kind, main.name)
        if not any(w.hibernated for w in derived.workloads if (w.kind, w.name) != skip):
            return workloads
        wake = await self.hibernation.unhibernate_locked(target, actor, workloads, leave=main)
        if wake.errors:
            return Decided(OperationOutcome.FAILED, wake.errors, recorded=wake.status, unsettled=wake.unsettled)
        return wake.workloads  # as the wake wrote them

    def _hibernated(
        self,
        target: Target,
        derived: DerivedStatus,
        records: list[HibernationRecord],
        policy: HibernatedPolicy,
        version: int | None,
    ) -> Decided:
        """REFUSE or SKIP: nothing is deployed, and the hibernation seen is recorded."""
        explanation = hibernated_explanation(
            target.label,
            [w.name for w in derived.workloads if w.hibernated],
            len(derived.workloads),
            [r.as_recorded() for r in records],
        )
        if policy is HibernatedPolicy.SKIP:
            return Decided(OperationOutcome.SKIPPED, leaves=derived, note=f"Skipped: {explanation}", version=version)
        refused = HiberniaError(ErrorCode.APP_HIBERNATED, explanation)
        return Decided(OperationOutcome.FAILED, [refused], leaves=derived, version=version)

    async def _apply(
        self,
        gateway: ClusterGateway,
        target: Target,
        workloads: list[Workload],
        main: Workload | None,
        image: str,
        deadline: float,
    ) -> Workload:
        """Image on the main container and the desired replicas; creates the Deployment the first time."""
        replicas = target.row.desired_replicas
        if main is None:
            return await self._create(gateway, target, image, replicas)
        container = _container(target, main)
        patch = container_image_patch(WorkloadKind.DEPLOYMENT, container, image)
        reduced_from = main.reduced_from
        if reduced_from is not None:
            # Reduced mode: the image goes out at the reduced count; unhibernate restores the original.
            replicas = main.desired_replicas
        patch["spec"]["replicas"] = replicas
        if HIBERNATION_ANNOTATION in main.annotations and reduced_from is None:
            # A wake (WAKE, or the check off as in the legacy behaviour): the release's replicas end
            # the hibernation, so the annotation goes in the same patch.
            patch["metadata"] = {"annotations": {HIBERNATION_ANNOTATION: None}}
        written = await converge(
            gateway,
            main,
            lambda _current: Decision(patch),
            deadline=deadline,
            landed=lambda fresh: runs_release(fresh, container, image, replicas, reduced_from=reduced_from),
            recheck_on_change=True,
        )
        if written.workload is None:
            raise WorkloadNotFound(main.kind, main.namespace, main.name)
        return written.workload

    async def _create(self, gateway: ClusterGateway, target: Target, image: str, replicas: int) -> Workload:
        try:
            return await gateway.create_deployment(
                target.namespace, target.release, target.release, image, replicas, target.release
            )
        except WriteOutcomeUnknown as lost:
            try:
                created = await gateway.get_workload(target.namespace, WorkloadKind.DEPLOYMENT, target.release)
            except WorkloadNotFound:
                raise NotApplied(f"{lost.reason}; read back: no Deployment was created") from None
            except ClusterError as error:
                raise WriteOutcomeUnknown(f"{lost.reason}; reading it back failed too ({error})") from None
            if created.release != target.release or not runs_release(created, target.release, image, replicas):
                raise NotApplied(f"{lost.reason}; read back: the Deployment there is not this release") from None
            return created

    def _applied(
        self, target: Target, workloads: list[Workload], written: Workload, records: list[HibernationRecord], woke: bool
    ) -> Decided:
        after = [w for w in workloads if (w.kind, w.name) != (written.kind, written.name)] + [written]
        reduced_from = written.reduced_from
        # A reduced Deployment keeps its record: it is what unhibernate restores.
        stale = [
            r
            for r in records
            if (r.workload_kind, r.workload_name) == (written.kind, written.name) and reduced_from is None
        ]
        if stale and not woke:
            logger.warning(
                "%s: deploy with the hibernation check off woke %s; cleared its hibernation record",
                target.label,
                written.name,
            )
        remaining = [r for r in records if r not in stale]
        now = self.clock()
        derived = self.access.derive(target, after, remaining, now=now, wake_started_at=now if woke else None)
        note = None
        if reduced_from is not None:
            note = (
                f"Applied in reduced mode: {written.name} kept at {written.desired_replicas} of its "
                f"{reduced_from} replicas; unhibernate restores {reduced_from}."
            )
        return Decided(
            OperationOutcome.APPLIED,
            leaves=derived,
            woke=woke,
            stale_records=[r.id for r in stale],
            note=note,
            version=newest_version(after),
        )


def _no_deployment(target: Target, workloads: list[Workload]) -> HiberniaError:
    kinds = ", ".join(sorted({f"{w.kind.value} {w.name}" for w in workloads}))
    return HiberniaError(
        ErrorCode.INVALID_INPUT,
        f"{target.label}: release '{target.release}' has no Deployment to deploy to (it has {kinds}); "
        "Hibernia deploys to Deployments only.",
    )
