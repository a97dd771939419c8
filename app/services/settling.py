"""Settling what an interrupted operation left: the records made true to what the cluster shows.

An operation interrupted by a crash, a lost answer or a database outage may or may not have changed
the cluster. Nothing is guessed: the release's workloads are read, and then, in one transaction,
- hibernation records follow the cluster (a hibernated workload has its record, with the original
  from its annotation; an awake or vanished one has none);
- deployments left without an outcome become SUCCEEDED when the main Deployment runs their image
  ("confirmed after ..."), FAILED otherwise;
- the status is recorded with a transition of the interrupted operation's cause and actor;
- the lease is freed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from app.cluster.gateway import ClusterError
from app.db.engine import write_transaction
from app.db.models import Deployment, DeploymentOutcome, HibernationRecord, TransitionCause
from app.db.repositories.deployments import DeploymentRepository, Finished
from app.db.repositories.hibernation_records import HibernationRecordRepository, WorkloadKey
from app.db.repositories.leases import LeaseRepository
from app.db.repositories.status import LeftBehind, StatusRepository
from app.domain.status import AppStatus
from app.domain.workloads import Workload, WorkloadKind, newest_version
from app.services.release_apply import main_deployment
from app.services.targets import Target, TargetAccess
from app.services.workload_lists import read_releases

logger = logging.getLogger("hibernia.settling")

SETTLER = "hibernia-reconciler"
_CAUSES = {
    "deploy": TransitionCause.DEPLOY,
    "hibernate": TransitionCause.HIBERNATE,
    "unhibernate": TransitionCause.UNHIBERNATE,
}


@dataclass(frozen=True, slots=True)
class RecordTruth:
    writes: dict[WorkloadKey, tuple[int | None, bool | None]]
    deletes: set[WorkloadKey]


def records_true_to(workloads: list[Workload], records: list[HibernationRecord]) -> RecordTruth:
    """What the records must become so that one exists exactly for each hibernated workload.

    A workload at rest whose hibernation marks are gone but whose record remains (an annotation
    stripped by hand) keeps its record: it is the only memory of what to restore.
    """
    by_key = {(r.workload_kind, r.workload_name): r for r in records}
    writes: dict[WorkloadKey, tuple[int | None, bool | None]] = {}
    deletes: set[WorkloadKey] = {key for key in by_key if key not in {(w.kind, w.name) for w in workloads}}
    for workload in workloads:
        key = (workload.kind, workload.name)
        record = by_key.get(key)
        if workload.kind is WorkloadKind.CRON_JOB:
            original_suspend = workload.annotated_suspend
            if workload.suspended and original_suspend is not None:
                if record is None or record.original_suspend != original_suspend:
                    writes[key] = (None, original_suspend)
            elif not workload.suspended and record is not None:
                deletes.add(key)
            continue
        annotated = workload.annotated_replicas
        hibernated_or_reduced = workload.desired_replicas == 0 or workload.reduced_from is not None
        if hibernated_or_reduced and annotated is not None and annotated > 0:
            if record is None or record.original_replicas != annotated:
                writes[key] = (annotated, None)
        elif workload.desired_replicas > 0 and record is not None:
            deletes.add(key)
    return RecordTruth(writes, deletes)


def _settled(deployment: Deployment, main: Workload | None, why: str, at: datetime) -> Finished:
    if main is not None and deployment.image in main.images:
        return Finished(deployment, DeploymentOutcome.SUCCEEDED, f"Confirmed against the cluster after {why}.", at)
    return Finished(
        deployment,
        DeploymentOutcome.FAILED,
        f"Not applied: {why}, and the cluster does not run {deployment.image}. Deploy again.",
        at,
    )


class Settler:
    def __init__(self, access: TargetAccess, clock: Callable[[], datetime]) -> None:
        self.access = access
        self.clock = clock

    async def settle(self, app_environment_id: int, *, holder: str, operation: str | None, actor: str | None,
                     why: str) -> bool:  # fmt: skip
        """Settles one app environment whose lease `holder` holds; frees the lease. False when the
        cluster could not be read (the lease is then left to settle again)."""
        async with self.access.session_factory() as session:
            rows = await StatusRepository(session).targets_by_ids([app_environment_id])
        if not rows:
            return True  # detached meanwhile: nothing left to settle (its lease went with it)
        target = Target(rows[0])
        try:
            gateway = await self.access.gateway(target)
            workloads = (await read_releases(gateway, target.namespace, [target.release]))[target.release]
        except ClusterError as error:
            logger.info("cannot settle %s yet: %s", target.label, error)
            return False
        cause = _CAUSES.get(operation or "", TransitionCause.OBSERVED)
        now = self.clock()
        async with write_transaction(self.access.session_factory) as session:
            records = HibernationRecordRepository(session)
            truth = records_true_to(workloads, await records.for_target(target.id))
            await records.delete(target.id, truth.deletes)
            await records.write(target.id, truth.writes, actor=actor or SETTLER, at=now)
            deployments = DeploymentRepository(session)
            left = await deployments.unsettled(target.id)
            main = main_deployment(target, workloads)
            await deployments.finish([_settled(d, main, why, now) for d in left])
            woke = cause is TransitionCause.UNHIBERNATE
            derived = self.access.derive(
                target,
                workloads,
                await records.for_target(target.id),
                now=now,
                ever_deployed=bool(workloads) or bool(left) or target.row.status is not AppStatus.NOT_DEPLOYED,
                wake_started_at=now if woke else None,
            )
            item = LeftBehind(
                target.id,
                derived.status,
                derived.reason,
                now,
                woke,
                note=f"settled after {why}",
                version=newest_version(workloads),
            )
            await StatusRepository(session).record_operations([item], cause=cause, actor=actor or SETTLER)
            await LeaseRepository(session).release(holder=holder)
        logger.warning(
            "settled %s after %s: %s, %d deployment(s) given an outcome", target.label, why, derived.status, len(left)
        )
        return True
