"""Demo catalog for `hibernia serve --demo`, matching the simulator's demo workloads."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.repositories.catalog import CatalogRepository
from app.services.catalog import CatalogService, ClusterSpec

DEMO_CLUSTER = "demo"
# environment → namespace, as app/cluster/simulator/demo.py seeds them
DEMO_ENVIRONMENTS = {"dev": "demo-dev", "staging": "demo-staging", "prod": "demo-prod"}
# app → (team, environments, replicas when awake)
DEMO_APPS = {
    "web": ("storefront", ("dev", "staging", "prod"), 2),
    "api": ("payments", ("dev", "staging", "prod"), 2),
    "worker": ("data", ("dev", "staging", "prod"), 2),
    "reports": ("data", ("dev",), 1),
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
    await catalog.create_cluster(ClusterSpec(name=DEMO_CLUSTER, server=server, simulated=True))
    for environment, namespace in DEMO_ENVIRONMENTS.items():
        await catalog.create_environment(environment, DEMO_CLUSTER, namespace)
    for app, (team, environments, replicas) in DEMO_APPS.items():
        await catalog.create_app(app, team, [])
        for environment in environments:
            await catalog.attach_app(app, environment, None, replicas)
    return True
