"""Pipeline commands that read: status (and history)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from app.commands import documents
from app.commands.api_client import ApiClient, add_connection_options
from app.commands.exit_codes import EXIT_CODES_HELP, CommandError, ExitCode


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    status = commands.add_parser(
        "status",
        help="Recorded status of app environments, filtered.",
        description="Recorded status of app environments (what Hibernia last observed), filtered.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    status.add_argument("--environment", help="Only this environment.")
    status.add_argument("--app", help="Only this app.")
    status.add_argument("--status", nargs="+", metavar="S", help="Only these statuses, e.g. HIBERNATING DEGRADED.")
    add_connection_options(status)
    status.set_defaults(run=run_status)


def run_status(args: argparse.Namespace) -> int:
    client = ApiClient.from_args(args)
    try:
        rows = _app_environments(client, args)
    finally:
        client.close()
    if args.output == "json":
        print(json.dumps({"appEnvironments": {"totalCount": len(rows), "nodes": rows}}, indent=2))
        return ExitCode.DONE
    for row in rows:
        print(
            f"{row['app']['name']}\t{row['environment']['name']}\t{row['status']}\t{row['statusSince']}\t{row['statusReason']}"
        )
    return ExitCode.DONE


def _app_environments(client: ApiClient, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every matching row, all pages. The API filters by substring, so an app is searched, then matched exactly."""
    if args.environment and client.execute(documents.ENVIRONMENT, {"name": args.environment})["environment"] is None:
        raise CommandError(ExitCode.USAGE, f"there is no environment '{args.environment}'")
    if args.app and client.execute(documents.APP, {"name": args.app})["app"] is None:
        raise CommandError(ExitCode.USAGE, f"there is no app '{args.app}'")
    app_filter: dict[str, Any] = {
        "environments": [args.environment] if args.environment else None,
        "statuses": [status.upper() for status in args.status] if args.status else None,
        "search": args.app,
    }
    rows: list[dict[str, Any]] = []
    after = None
    while True:
        page = client.execute(documents.APP_ENVIRONMENTS, {"first": 100, "after": after, "filter": app_filter})[
            "appEnvironments"
        ]
        rows += [node for node in page["nodes"] if not args.app or node["app"]["name"] == args.app]
        if not page["pageInfo"]["hasNextPage"]:
            return rows
        after = page["pageInfo"]["endCursor"]
