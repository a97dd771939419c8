"""The server's own commands: serve, migrate, simulate-cluster, export-schema."""

from __future__ import annotations

import argparse
import asyncio
import sys

from app.commands.database import describe_database, migrate
from app.config import get_settings

SHUTDOWN_GRACE_SECONDS = 30


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser("serve", help="Migrate the database; serve the dashboard at / and the API at /graphql.")
    serve.add_argument("--host", default="127.0.0.1", help="Interface to listen on (default 127.0.0.1).")
    serve.add_argument("--port", type=int, default=8000, help="Port to listen on (default 8000).")
    serve.add_argument("--demo", action="store_true", help="Seed demo environments and apps.")
    serve.add_argument("--no-migrate", action="store_true", help="Do not apply migrations at start.")

    commands.add_parser("migrate", help="Apply database migrations up to the latest.")

    simulate = commands.add_parser(
        "simulate-cluster", help="Serve a simulated Kubernetes API (the subset Hibernia uses) for local work."
    )
    simulate.add_argument("--host", default="127.0.0.1", help="Interface to listen on (default 127.0.0.1).")
    simulate.add_argument("--port", type=int, default=8001, help="Port to listen on (default 8001).")
    simulate.add_argument(
        "--rollout-seconds", type=float, default=5.0, help="Time for ready replicas to reach desired (default 5)."
    )
    simulate.add_argument("--seed", choices=["demo"], help="Seed demo namespaces and apps.")

    export = commands.add_parser("export-schema", help="Print the GraphQL SDL (or write it with --output).")
    export.add_argument("--output", help="Write to this file instead of standard output.")


def run(args: argparse.Namespace) -> int:
    if args.command == "serve":
        _serve(args.host, args.port, args.demo, not args.no_migrate)
    elif args.command == "migrate":
        asyncio.run(migrate())
        print(f"database migrated: {describe_database(get_settings().database_url)}", file=sys.stderr)
    elif args.command == "simulate-cluster":
        from app.simulator import serve_simulator

        asyncio.run(serve_simulator(args.host, args.port, args.rollout_seconds, args.seed))
    else:
        from schema.schema import export_sdl

        if args.output:
            with open(args.output, "w", encoding="utf-8") as out:
                out.write(export_sdl())
        else:
            sys.stdout.write(export_sdl())
    return 0


def _serve(host: str, port: int, demo: bool, migrate_first: bool) -> None:
    import uvicorn

    from app.main import create_app

    if migrate_first:
        asyncio.run(migrate())
    on_startup = None
    if demo:
        from app.demo import start_demo

        on_startup = start_demo
    print(f"Hibernia database: {describe_database(get_settings().database_url)}", flush=True)
    print(f"Hibernia dashboard: http://{host}:{port}/  (GraphQL playground: /graphql)", flush=True)
    # log_config=None: uvicorn logs through the handler configure_logging installed (JSON in production).
    # On SIGTERM uvicorn stops accepting, lets requests under way finish (their operations record and
    # free their leases), then the lifespan ends: the heartbeat stops and the server's row goes.
    uvicorn.run(
        create_app(on_startup=on_startup),
        host=host,
        port=port,
        log_config=None,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        ws="websockets-sansio",  # GraphQL subscriptions; uvicorn's default websockets protocol is deprecated
    )
