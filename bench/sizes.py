"""How big each section's data is, for the full run and for the smoke run CI keeps alive."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Sizes:
    # 1. Live status page: apps x environments per app over namespaces.
    live_apps: int = 100
    live_environments_per_app: int = 3
    live_namespaces: int = 30
    live_warmup: int = 3
    live_iterations: int = 30
    # 2. Filtered list: apps x environments app environments, this share hibernated.
    filtered_apps: int = 25_000
    filtered_environments: int = 4
    filtered_hibernated_share: float = 0.03
    filtered_page_size: int = 100
    filtered_walks: int = 3
    # 3. Bulk deploy: apps in one namespace, this share hibernated; single deploys on other apps.
    bulk_apps: int = 100
    bulk_hibernated_share: float = 0.2
    bulk_single_deploys: int = 15
    bulk_repeats: int = 9
    # 4. Throughput: load per worker count.
    throughput_workers: tuple[int, ...] = (1, 2)
    throughput_seconds: float = 5.0
    throughput_warmup_seconds: float = 1.0
    throughput_concurrency: int = 8
    # 5. Dashboard: apps x environments in the database; cold page loads in a fresh browser context each.
    dashboard_apps: int = 1_000
    dashboard_environments: int = 3
    dashboard_warmup: int = 2
    dashboard_loads: int = 15
    # 6. Watch caches: apps on the live page's layout; polling clients; windows; changes timed.
    watch_apps: int = 1_000
    # 32 dashboards polling at the page's own interval (5 s; app/web/static/js/live.js): 6.4 pages/s,
    # what 2 workers on 2 cores serve; at 1 s each (32/s) the queue, not the caches, is measured.
    watch_clients: int = 32
    watch_client_interval: float = 5.0
    watch_load_seconds: float = 20.0
    watch_rest_seconds: float = 30.0
    watch_refresh_seconds: float = 10.0
    watch_events: int = 20
    # 7. Schedule tick: scheduled app environments (cumulative), ticks timed at each size.
    schedule_app_environments: tuple[int, ...] = (1_000, 10_000)
    schedule_ticks: int = 15


FULL = Sizes()

# Small enough for CI (well under a minute), big enough that every code path runs. The live page keeps
# its full shape: its request and statement budgets are the deterministic targets smoke enforces.
SMOKE = Sizes(
    live_warmup=1,
    live_iterations=3,
    filtered_apps=1_250,
    filtered_walks=1,
    bulk_apps=10,
    bulk_single_deploys=3,
    bulk_repeats=1,
    throughput_seconds=1.0,
    throughput_warmup_seconds=0.3,
    throughput_concurrency=4,
    dashboard_apps=40,
    dashboard_warmup=1,
    dashboard_loads=2,
    watch_apps=60,
    watch_clients=4,
    watch_client_interval=0.5,
    watch_load_seconds=1.5,
    watch_rest_seconds=3.0,
    watch_refresh_seconds=1.0,
    watch_events=2,
    schedule_app_environments=(100, 1_000),
    schedule_ticks=3,
)
