"""Demo catalog for `hibernia serve --demo`, matching the simulator's demo workloads."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import HibernationRecord
from app.db.repositories.catalog import CatalogRepository
from app.db.types import utcnow
from app.domain.workloads import WorkloadKind
from app.services.catalog import CatalogService, ClusterSpec

DEMO_CLUSTER = "demo"
# environment → namespace, as app/simulator/demo.py seeds them
DEMO_ENVIRONMENTS = {"dev": "demo-dev", "staging": "demo-staging", "prod": "demo-prod"}
# app → (team, environments, replicas when awake)
DEMO_APPS = {
    "web": ("storefront", ("dev", "staging", "prod"), 2),
    "api": ("payments", ("dev", "staging", "prod"), 2),
    "worker": ("data", ("dev", "staging", "prod"), 2),
    "reports": ("data", ("dev",), 1),
}


# What the simulator's demo workloads were hibernated from, as Hibernia would have recorded it.
DEMO_HIBERNATION: dict[tuple[str, str], tuple[tuple[WorkloadKind, str, int | None, bool | None], ...]] = {
    ("api", "dev"): ((WorkloadKind.DEPLOYMENT, "api", 2, None), (WorkloadKind.STATEFUL_SET, "api-db", 1, None)),
    ("worker", "dev"): (
        (WorkloadKind.DEPLOYMENT, "worker", 3, None),
        (WorkloadKind.CRON_JOB, "worker-nightly", None, False),
    ),
    ("worker", "staging"): ((WorkloadKind.DEPLOYMENT, "worker", 2, None),),
}


async def seed_demo_catalog(session: AsyncSession, server: str) -> bool:
    """Creates the demo catalog once (returns True then); later starts only repoint the cluster."""
    repository = CatalogRepository(session)
    existing = await repository.cluster_by_name(DEMO_CLUSTER)
    if existing is not None:
        existing.server = server  # the in-process simulator listens on a new port each start
        await session.flush()
        return False
    catalog = CatalogService(session)
    since = utcnow()
    await catalog.create_cluster(ClusterSpec(name=DEMO_CLUSTER, server=server, simulated=True))
    for environment, namespace in DEMO_ENVIRONMENTS.items():
        await catalog.create_environment(environment, DEMO_CLUSTER, namespace)
    for app, (team, environments, replicas) in DEMO_APPS.items():
        await catalog.create_app(app, team, [])
        for environment in environments:
            attachment = await catalog.attach_app(app, environment, None, replicas)
            session.add_all(
                HibernationRecord(
                    app_environment_id=attachment.id,
                    workload_kind=kind,
                    workload_name=name,
                    original_replicas=original,
                    original_suspend=suspend,
                    actor="demo",
                    since=since,
                )
                for kind, name, original, suspend in DEMO_HIBERNATION.get((app, environment), ())
            )
    await session.flush()
    return True
