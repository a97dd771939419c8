"""`hibernia environment remove`, `hibernia app update|detach|remove`: the catalog's lifecycle, in the
database directly (as `cluster`). A removal still in use is refused naming what uses it; nothing in
Kubernetes is touched."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from app.commands.database import migrated_database
from app.commands.exit_codes import CommandError, for_error_code
from app.domain.errors import HiberniaError


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    environment = commands.add_parser("environment", help="Change the catalog's environments.")
    environment_commands = environment.add_subparsers(dest="catalog_command", required=True)
    remove_environment = environment_commands.add_parser(
        "remove", help="Delete an environment no app is attached to and no token is limited to."
    )
    remove_environment.add_argument("name", help="The environment's name.")

    app = commands.add_parser("app", help="Change the catalog's apps.")
    app_commands = app.add_subparsers(dest="catalog_command", required=True)
    update = app_commands.add_parser("update", help="Change an app's owning team.")
    update.add_argument("name", help="The app's name.")
    update.add_argument("--team", required=True, help="The owning team.")
    detach = app_commands.add_parser("detach", help="Detach an app from an environment (its workloads stay).")
    detach.add_argument("name", help="The app's name.")
    detach.add_argument("--environment", required=True, help="The environment's name.")
    remove_app = app_commands.add_parser("remove", help="Delete an app attached nowhere.")
    remove_app.add_argument("name", help="The app's name.")


def run(args: argparse.Namespace) -> int:
    from app.services.catalog_changes import CatalogChanges

    change: Callable[[AsyncSession], Awaitable[object]]
    which = (args.command, args.catalog_command)
    if which == ("environment", "remove"):
        change, done = (
            lambda s: CatalogChanges(s).delete_environment(args.name),
            f"environment '{args.name}' removed",
        )
    elif which == ("app", "update"):
        change, done = (
            lambda s: CatalogChanges(s).update_app(args.name, args.team),
            f"app '{args.name}' now belongs to {args.team}",
        )
    elif which == ("app", "detach"):
        change, done = (
            lambda s: CatalogChanges(s).detach_app(args.name, args.environment),
            f"app '{args.name}' detached from {args.environment} (its workloads stay as they are)",
        )
    else:
        change, done = lambda s: CatalogChanges(s).delete_app(args.name), f"app '{args.name}' removed"
    asyncio.run(_apply(change))
    print(done)
    return 0


async def _apply(change: Callable[[AsyncSession], Awaitable[object]]) -> None:
    from app.db.engine import create_session_factory

    async with migrated_database() as engine:
        try:
            async with create_session_factory(engine)() as session, session.begin():
                await change(session)
        except HiberniaError as error:
            raise CommandError(for_error_code(error.code.value), error.message) from None
