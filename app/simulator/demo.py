"""The demo data set: three environments' namespaces with awake, hibernated and mixed apps."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.simulator.runner import SimulatedCluster

DEMO_NAMESPACES = ("demo-dev", "demo-staging", "demo-prod")


def seed_demo(cluster: SimulatedCluster) -> dict[str, list[str]]:
    """Seed the demo apps; returns namespace → release names.

    - demo-dev: `web` awake (2, HPA 2..5), `api` hibernated (was 2) with its StatefulSet `api-db`
      hibernated (was 1), `worker` hibernated (was 3) with its CronJob `worker-nightly` suspended,
      `reports` at 0 replicas *without* the annotation (scaled down, not hibernated).
    - demo-staging: `web` and `api` awake, `worker` partially hibernated (Deployment hibernated,
      CronJob still running).
    - demo-prod: everything awake, `web` at 3 with an HPA 3..10.
    """
    dev, staging, prod = DEMO_NAMESPACES
    cluster.add_deployment(dev, "web", "web", 2, "ghcr.io/hibernia-demo/web:1.4.2")
    cluster.add_hpa(dev, "web", "web", min_replicas=2, max_replicas=5)
    cluster.add_deployment(dev, "api", "api", image="ghcr.io/hibernia-demo/api:2.0.1", hibernated_from=2)
    cluster.add_statefulset(dev, "api-db", "api", image="postgres:16", hibernated_from=1)
    cluster.add_deployment(dev, "worker", "worker", image="ghcr.io/hibernia-demo/worker:0.9.0", hibernated_from=3)
    cluster.add_cronjob(
        dev, "worker-nightly", "worker", "ghcr.io/hibernia-demo/worker:0.9.0", schedule="0 2 * * *", suspend=True
    )
    cluster.add_deployment(dev, "reports", "reports", 0, "ghcr.io/hibernia-demo/reports:1.0.0")

    cluster.add_deployment(staging, "web", "web", 2, "ghcr.io/hibernia-demo/web:1.4.2")
    cluster.add_deployment(staging, "api", "api", 2, "ghcr.io/hibernia-demo/api:2.0.1")
    cluster.add_statefulset(staging, "api-db", "api", 1, "postgres:16")
    cluster.add_deployment(staging, "worker", "worker", image="ghcr.io/hibernia-demo/worker:0.9.0", hibernated_from=2)
    cluster.add_cronjob(staging, "worker-nightly", "worker", "ghcr.io/hibernia-demo/worker:0.9.0", schedule="0 2 * * *")

    cluster.add_deployment(prod, "web", "web", 3, "ghcr.io/hibernia-demo/web:1.4.1")
    cluster.add_hpa(prod, "web", "web", min_replicas=3, max_replicas=10)
    cluster.add_deployment(prod, "api", "api", 3, "ghcr.io/hibernia-demo/api:2.0.0")
    cluster.add_statefulset(prod, "api-db", "api", 2, "postgres:16")
    cluster.add_deployment(prod, "worker", "worker", 2, "ghcr.io/hibernia-demo/worker:0.9.0")
    cluster.add_cronjob(prod, "worker-nightly", "worker", "ghcr.io/hibernia-demo/worker:0.9.0", schedule="0 2 * * *")
    return {
        dev: ["web", "api", "worker", "reports"],
        staging: ["web", "api", "worker"],
        prod: ["web", "api", "worker"],
    }
