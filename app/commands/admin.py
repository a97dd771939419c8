"""Commands that work on the database directly, for whoever runs the server: tokens, clusters."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from app.commands.database import migrated_database
from app.commands.exit_codes import CommandError, ExitCode


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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


def run(args: argparse.Namespace) -> int:
    if args.command == "token":
        return asyncio.run(_token(args))
    kubeconfig = None
    if args.kubeconfig is not None:
        path = Path(args.kubeconfig).expanduser()
        if not path.is_file():
            raise CommandError(ExitCode.USAGE, f"no kubeconfig file at {args.kubeconfig}")
        kubeconfig = str(path.resolve())  # the server may run from another directory
    return asyncio.run(_add_cluster(args.name, kubeconfig, args.context, args.in_cluster))


async def _add_cluster(name: str, kubeconfig: str | None, context: str | None, in_cluster: bool) -> int:
    from app.db.engine import create_session_factory
    from app.domain.errors import HiberniaError, InvalidInputs
    from app.services.catalog import CatalogService, ClusterSpec

    spec = ClusterSpec(name=name, kubeconfig_path=kubeconfig, kubeconfig_context=context, in_cluster=in_cluster)
    async with migrated_database() as engine:
        try:
            async with create_session_factory(engine)() as session, session.begin():
                await CatalogService(session).create_cluster(spec)
        except (HiberniaError, InvalidInputs) as error:
            raise CommandError(ExitCode.USAGE, str(error)) from None
    print(f"cluster '{name}' registered")
    return 0


async def _token(args: argparse.Namespace) -> int:
    from app.db.engine import create_session_factory
    from app.domain.errors import HiberniaError
    from app.services.tokens import TokenService

    async with migrated_database() as engine:
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
            raise CommandError(ExitCode.USAGE, error.message) from None
    return 0
