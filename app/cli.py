"""The `hibernia` command: serve, migrate, export-schema, simulate-cluster, cluster add, token."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from app.config import get_settings
from app.logs import configure_logging

logger = logging.getLogger("hibernia")

SHUTDOWN_GRACE_SECONDS = 30


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hibernia", description="Hibernation-aware GraphQL API for Kubernetes apps.")
    commands = parser.add_subparsers(dest="command", required=True)

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

    token = commands.add_parser("token", help="Manage API tokens (admin access to the database required).")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="Create a token and print it once.")
    create.add_argument("--name", required=True, help="Unique DNS-1123 name; recorded as the actor of its requests.")
    create.add_argument("--role", required=True, choices=["viewer", "deployer", "admin"], help="What it may do.")
    create.add_argument(
        "--environment", action="append", default=[], help="Limit it to this environment (repeatable; default: all)."
    )
    token_commands.add_parser("list", help="List tokens (never their secrets).")
    revoke = token_commands.add_parser("revoke", help="Revoke a token by name.")
    revoke.add_argument("--name", required=True, help="The token's name.")

    cluster = commands.add_parser("cluster", help="Manage registered clusters.")
    cluster_commands = cluster.add_subparsers(dest="cluster_command", required=True)
    add = cluster_commands.add_parser("add", help="Register a cluster from a kubeconfig file and context.")
    add.add_argument("--name", required=True, help="Unique DNS-1123 name for the cluster.")
    source = add.add_mutually_exclusive_group(required=True)
    source.add_argument("--kubeconfig", help="Path of the kubeconfig file.")
    source.add_argument("--in-cluster", action="store_true", help="Use the pod's service account.")
    add.add_argument("--context", help="Kubeconfig context (default: the file's current context).")

    export = commands.add_parser("export-schema", help="Print the GraphQL SDL (or write it with --output).")
    export.add_argument("--output", help="Write to this file instead of standard output.")
    return parser


async def _migrate() -> None:
    from app.db.engine import create_engine
    from app.db.migrate import upgrade_to_head

    engine = create_engine(get_settings().database_url)
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()


async def _add_cluster(name: str, kubeconfig: str | None, context: str | None, in_cluster: bool) -> int:
    from app.db.engine import create_engine, create_session_factory
    from app.domain.errors import HiberniaError, InvalidInputs
    from app.services.catalog import CatalogService, ClusterSpec

    spec = ClusterSpec(name=name, kubeconfig_path=kubeconfig, kubeconfig_context=context, in_cluster=in_cluster)
    engine = create_engine(get_settings().database_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            await CatalogService(session).create_cluster(spec)
    except (HiberniaError, InvalidInputs) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        await engine.dispose()
    print(f"cluster '{name}' registered")
    return 0


async def _token(args: argparse.Namespace) -> int:
    from app.db.engine import create_engine, create_session_factory
    from app.domain.errors import HiberniaError
    from app.services.tokens import TokenService

    engine = create_engine(get_settings().database_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            tokens = TokenService(session)
            if args.token_command == "create":
                secret = await tokens.create(args.name, args.role, args.environment)
                print(secret)
                print(f"token '{args.name}' ({args.role}) created; it is shown only this once", file=sys.stderr)
            elif args.token_command == "list":
                for info in await tokens.list():
                    scope = ",".join(info.environments) or "*"
                    state = f"revoked {info.revoked_at:%Y-%m-%d %H:%M}" if info.revoked_at else "active"
                    print(f"{info.name}\t{info.role.value}\t{scope}\t{info.created_at:%Y-%m-%d %H:%M}\t{state}")
            else:
                await tokens.revoke(args.name)
                print(f"token '{args.name}' revoked", file=sys.stderr)
    except HiberniaError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2
    finally:
        await engine.dispose()
    return 0


def _serve(host: str, port: int, demo: bool, migrate: bool) -> None:
    import uvicorn

    from app.main import create_app

    if migrate:
        asyncio.run(_migrate())
    on_startup = None
    if demo:
        from app.demo import start_demo

        on_startup = start_demo
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


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging(json_lines=get_settings().json_logs)
    if args.command == "serve":
        _serve(args.host, args.port, args.demo, not args.no_migrate)
    elif args.command == "migrate":
        asyncio.run(_migrate())
    elif args.command == "simulate-cluster":
        from app.simulator import serve_simulator

        asyncio.run(serve_simulator(args.host, args.port, args.rollout_seconds, args.seed))
    elif args.command == "token":
        return asyncio.run(_token(args))
    elif args.command == "cluster":
        kubeconfig = None
        if args.kubeconfig is not None:
            path = Path(args.kubeconfig).expanduser()
            if not path.is_file():
                print(f"error: no kubeconfig file at {args.kubeconfig}", file=sys.stderr)
                return 2
            kubeconfig = str(path.resolve())  # the server may run from another directory
        return asyncio.run(_add_cluster(args.name, kubeconfig, args.context, args.in_cluster))
    elif args.command == "export-schema":
        from schema.schema import export_sdl

        if args.output:
            with open(args.output, "w", encoding="utf-8") as out:
                out.write(export_sdl())
        else:
            sys.stdout.write(export_sdl())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
