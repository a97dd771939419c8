"""Demo data for `hibernia serve --demo`: a few teams, environments and apps, some hibernated."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AppEnvironment
from app.db.repositories.catalog import CatalogRepository
from app.db.types import utcnow
from app.domain.status import AppStatus
from app.services.catalog import CatalogService, ClusterSpec

DEMO_CLUSTER = "demo"


@dataclass(frozen=True, slots=True)
class DemoApp:
    name: str
    team: str
    replicas: int
    hibernated_in: tuple[str, ...] = ()


DEMO_ENVIRONMENTS = {"dev": "demo-dev", "staging": "demo-staging", "prod": "demo-prod"}
DEMO_APPS = (
    DemoApp("checkout", "payments", 3, hibernated_in=("dev",)),
    DemoApp("payments-api", "payments", 2, hibernated_in=("dev", "staging")),
    DemoApp("catalog", "storefront", 2),
    DemoApp("search", "storefront", 3, hibernated_in=("dev",)),
    DemoApp("recommendations", "storefront", 1, hibernated_in=("dev", "staging")),
    DemoApp("notifications", "platform", 1),
    DemoApp("reporting", "data", 1, hibernated_in=("dev", "staging", "prod")),
)


async def seed_demo(session: AsyncSession, server: str) -> bool:
    """Creates the demo catalog once; returns False when it already exists."""
    repository = CatalogRepository(session)
    if await repository.cluster_by_name(DEMO_CLUSTER):
        return False
    catalog = CatalogService(session)
    await catalog.create_cluster(ClusterSpec(name=DEMO_CLUSTER, server=server, simulated=True))
    for environment, namespace in DEMO_ENVIRONMENTS.items():
        await catalog.create_environment(environment, DEMO_CLUSTER, namespace)
    now = utcnow()
    for demo in DEMO_APPS:
        await catalog.create_app(demo.name, demo.team, [])
        for environment in DEMO_ENVIRONMENTS:
            attachment: AppEnvironment = await catalog.attach_app(demo.name, environment, None, demo.replicas)
            hibernated = environment in demo.hibernated_in
            attachment.status = AppStatus.HIBERNATING if hibernated else AppStatus.HEALTHY
            attachment.status_reason = (
                f"All workloads hibernated (demo; {demo.replicas} replicas when awake)"
                if hibernated
                else f"{demo.replicas} of {demo.replicas} replicas ready (demo)"
            )
            attachment.status_since = now
    await session.flush()
    return True
