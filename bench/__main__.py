"""`python -m bench [--sqlite] [--smoke] [--profile]`: measure, print one table, write JSON, and
exit 1 naming each missed target (2 when the harness itself failed)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench import bulk_deploy, dashboard, filtered_list, live_page, schedule_tick, throughput, watch_caches
from bench.cluster import InProcessCluster, ProcessCluster, simulated_cluster
from bench.databases import bench_database, postgres_admin_url
from bench.graphql_client import BenchFailure
from bench.hosting import CLUSTER_RATE_BURST, CLUSTER_RATE_LIMIT
from bench.profiling import Profiles
from bench.report import SectionResult, table, write_json
from bench.sizes import FULL, SMOKE, Sizes

SECTIONS = ("live", "filtered", "bulk", "throughput", "dashboard", "watch", "schedule")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL.")
    parser.add_argument("--smoke", action="store_true", help="Tiny sizes; enforce only the deterministic targets.")
    parser.add_argument("--profile", action="store_true", help="pyinstrument profiles under bench/results/.")
    parser.add_argument(
        "--simulator-in-process",
        action="store_true",
        help="Serve the simulated cluster on the bench's event loop instead of in its own process.",
    )
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"Comma-separated sections to run (default: {','.join(SECTIONS)})."
    )
    return parser


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _conditions(backend: str, sizes: Sizes, smoke: bool, simulator_in_process: bool) -> list[str]:
    where = (InProcessCluster if simulator_in_process else ProcessCluster).where
    database = "SQLite (file, WAL)" if backend == "sqlite" else f"PostgreSQL ({postgres_admin_url().split('@')[-1]})"
    return [
        f"database: {database}; a fresh database per section, dropped afterwards",
        f"cluster: the built-in simulator (rollout 0 s), {where}",
        f"client-side Kubernetes rate limit raised to {CLUSTER_RATE_LIMIT}/s, burst {CLUSTER_RATE_BURST}, "
        "so the limiter is not what is measured",
        "sections 1-3: Hibernia in process through httpx's ASGI transport; section 4: uvicorn processes "
        "and a load generator process; section 5: `hibernia serve` and Chromium (Playwright); section 6: "
        "uvicorn processes at Hibernia's defaults (rate limit included), a load generator and WebSockets",
        f"{'SMOKE sizes: timings are indicative, only request/statement targets enforced' if smoke else 'full sizes'}; "
        f"{os.cpu_count()} CPUs; ratios compare runs made in the same process, interleaved",
        f"sizes: {sizes}",
    ]


async def _run(args: argparse.Namespace, started: datetime) -> list[SectionResult]:
    backend = "sqlite" if args.sqlite else "postgres"
    sizes = SMOKE if args.smoke else FULL
    only = {part.strip() for part in args.only.split(",") if part.strip()}
    unknown = only - set(SECTIONS)
    if unknown:
        raise BenchFailure(f"unknown sections {sorted(unknown)}; known: {', '.join(SECTIONS)}")
    profiles = Profiles(args.profile, f"{started:%Y%m%dT%H%M%S}-{backend}")
    sections: list[SectionResult] = []
    clock = time.perf_counter()

    def done(section: SectionResult) -> None:
        sections.append(section)
        _say(f"  {section.title}: done at {time.perf_counter() - clock:.0f} s")

    with tempfile.TemporaryDirectory(prefix="hibernia-bench-") as tmp:
        work_dir = Path(tmp)
        async with simulated_cluster(args.simulator_in_process, work_dir) as cluster:
            if only & {"live", "throughput"}:
                async with bench_database(backend, "live", work_dir) as database:
                    if "live" in only:
                        done(await live_page.measure(database, cluster, sizes, smoke=args.smoke, profiles=profiles))
                    else:  # throughput alone still needs the live page's data (and recorded statuses)
                        await live_page.prepare(database, cluster, sizes)
                    if "throughput" in only:
                        done(await throughput.measure(database, sizes, work_dir, profiles))
                await cluster.reset()
            if "filtered" in only:
                async with bench_database(backend, "list", work_dir) as database:
                    done(await filtered_list.measure(database, sizes, smoke=args.smoke, profiles=profiles))
            if "bulk" in only:
                async with bench_database(backend, "bulk", work_dir) as database:
                    done(await bulk_deploy.measure(database, cluster, sizes, smoke=args.smoke, profiles=profiles))
                await cluster.reset()
            if "dashboard" in only:
                async with bench_database(backend, "dashboard", work_dir) as database:
                    done(await dashboard.measure(database, sizes, work_dir, smoke=args.smoke))
            if "watch" in only:
                async with bench_database(backend, "watch", work_dir) as database:
                    done(await watch_caches.measure(database, cluster, sizes, work_dir, smoke=args.smoke))
                await cluster.reset()
            if "schedule" in only:
                async with bench_database(backend, "schedule", work_dir) as database:
                    done(await schedule_tick.measure(database, cluster, sizes, smoke=args.smoke, profiles=profiles))
    order = {
        "live_page": 0,
        "filtered_list": 1,
        "bulk_deploy": 2,
        "throughput": 3,
        "dashboard": 4,
        "watch_caches": 5,
        "schedule_tick": 7,
    }
    sections.sort(key=lambda s: order.get(s.key, 9))
    if profiles.summaries:
        profile_section = SectionResult("profiles", "Profiles")
        profile_section.data = {"profiles": [summary.to_json() for summary in profiles.summaries]}
        sections.append(profile_section)
    return sections


def _print_profiles(sections: list[SectionResult]) -> None:
    for section in sections:
        for profile in section.data.get("profiles", []):
            print(f"\nProfile `{profile['name']}` ({profile['seconds']:.2f} s sampled): {', '.join(profile['files'])}")
            print("  self time by package:")
            for item in profile["self_seconds_by_package"][:12]:
                print(f"    {item['seconds'] / profile['seconds'] * 100:5.1f}%  {item['package']}")
            print("  self time by function (top 15):")
            for item in profile["self_seconds_by_function"][:15]:
                print(f"    {item['seconds'] / profile['seconds'] * 100:5.1f}%  {item['function']}")
            print("  time under Hibernia's own functions (top 15; SQL execution excluded, see bench/README.md):")
            for item in profile["inclusive_seconds_of_own_code"][:15]:
                print(f"    {item['seconds'] / profile['seconds'] * 100:5.1f}%  {item['function']}")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Hibernia logs one line per request and warns that development mode trusts every caller;
    # neither is news here. Its errors still show.
    logging.getLogger("hibernia").setLevel(logging.ERROR)
    backend = "sqlite" if args.sqlite else "postgres"
    sizes = SMOKE if args.smoke else FULL
    started = datetime.now(UTC)
    conditions = _conditions(backend, sizes, args.smoke, args.simulator_in_process)
    _say(f"Hibernia bench ({backend}{', smoke' if args.smoke else ''}) started {started:%Y-%m-%d %H:%M:%S} UTC")
    clock = time.perf_counter()
    try:
        sections = asyncio.run(_run(args, started))
    except BenchFailure as failure:
        _say(f"\nBENCH FAILED (harness): {failure}")
        return 2
    except Exception:
        traceback.print_exc()
        _say("\nBENCH FAILED (harness): unexpected exception above")
        return 2
    elapsed = time.perf_counter() - clock
    measured = [s for s in sections if s.rows]
    print(f"\n## Hibernia bench — {backend}{' (smoke)' if args.smoke else ''}, {started:%Y-%m-%d %H:%M} UTC\n")
    for line in conditions[:-1]:
        print(f"- {line}")
    print()
    print(table(measured))
    _print_profiles(sections)
    options = {
        "smoke": args.smoke,
        "profile": args.profile,
        "simulator_in_process": args.simulator_in_process,
        "only": args.only,
        "elapsed_seconds": elapsed,
    }
    path = write_json(sections, started=started, backend=backend, options=options, conditions=conditions)
    print(f"\nResults: {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path} ({elapsed:.0f} s)")
    missed = [verdict for section in sections for verdict in section.verdicts if verdict.missed]
    if missed:
        banner = "=" * 78
        _say(f"\n{banner}\nBENCH TARGETS MISSED ({len(missed)}):")
        for verdict in missed:
            _say(f"  MISSED {verdict.key}: {verdict.description}; measured {verdict.measured:.3g}")
        _say(banner)
        return 1
    print("All enforced targets met.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
