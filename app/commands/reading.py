"""Pipeline commands that read: status and history."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
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

    history = commands.add_parser(
        "history",
        help="Deployments and status transitions of an environment, newest first.",
        description="Deployments (with the ids `rollback --to` takes) and status transitions, newest first.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    history.add_argument("--environment", required=True, help="The environment's name.")
    history.add_argument("--app", help="Only this app.")
    history.add_argument(
        "--since", type=_moment, help="Only from then on: an ISO 8601 time (UTC unless it says) or an age: 30m, 2h, 7d."
    )
    history.add_argument("--limit", type=int, default=50, help="At most this many of each, 1 to 100 (default 50).")
    add_connection_options(history)
    history.set_defaults(run=run_history)


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


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _moment(text: str) -> str:
    """An ISO 8601 time in UTC, from a time or an age ("2h": two hours ago)."""
    if text[:-1].isdigit() and text[-1:] in _UNITS:
        return (datetime.now(UTC) - timedelta(seconds=int(text[:-1]) * _UNITS[text[-1]])).isoformat()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a time or an age: {text!r} (e.g. 2026-05-01T12:00:00Z or 2h)") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def run_history(args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= 100:
        raise CommandError(ExitCode.USAGE, f"--limit must be between 1 and 100; got {args.limit}")
    where: dict[str, Any] = {"environments": [args.environment], "apps": [args.app] if args.app else None}
    if args.since:
        where["since"] = args.since
    client = ApiClient.from_args(args)
    try:
        if client.execute(documents.ENVIRONMENT, {"name": args.environment})["environment"] is None:
            raise CommandError(ExitCode.USAGE, f"there is no environment '{args.environment}'")
        data = client.execute(documents.HISTORY, {"first": args.limit, "transitions": where, "deployments": where})
    finally:
        client.close()
    if args.output == "json":
        print(json.dumps(data, indent=2))
        return ExitCode.DONE
    lines = [
        (
            row["startedAt"],
            f"{row['appEnvironment']['app']['name']}\tdeployment {row['id']}\t{row['image']}\t"
            f"{row['outcome']}\tby {row['actor']}" + (f"\t{row['reason']}" if row["reason"] else ""),
        )
        for row in data["deployments"]["nodes"]
    ] + [
        (
            row["at"],
            f"{row['appEnvironment']['app']['name']}\t{row['cause']}\t{row['fromStatus']} -> "
            f"{row['toStatus']}\tby {row['actor']}\t{row['reason']}",
        )
        for row in data["transitions"]["nodes"]
    ]
    for at, line in sorted(lines, key=lambda pair: pair[0], reverse=True):
        print(f"{at}\t{line}")
    return ExitCode.DONE
