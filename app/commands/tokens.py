"""`hibernia token create|list|revoke`: API tokens, in the database directly."""

from __future__ import annotations

import argparse
import asyncio
import sys

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


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_token(args))


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
