"""The `hibernia` command: the server's tools and a client for pipelines (see app/commands/)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from app.commands import catalog, clusters, operations, reading, server, tokens
from app.commands.exit_codes import EXIT_CODES_HELP, CommandError, ExitCode
from app.config import get_settings
from app.logs import configure_logging

_SERVER_COMMANDS = {"serve", "migrate", "simulate-cluster", "export-schema"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hibernia",
        description="Hibernation-aware GraphQL API for Kubernetes apps.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    server.add_parsers(commands)
    tokens.add_parsers(commands)
    clusters.add_parsers(commands)
    catalog.add_parsers(commands)
    reading.add_parsers(commands)
    operations.add_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except BrokenPipeError:  # `hibernia status | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0


def _run(args: argparse.Namespace) -> int:
    try:
        if hasattr(args, "run"):  # the pipeline client: the server's settings are not its business
            return int(args.run(args))
        configure_logging(json_lines=get_settings().json_logs)
        if args.command in _SERVER_COMMANDS:
            return server.run(args)
        if args.command == "cluster":
            return clusters.run(args)
        if args.command in ("environment", "app"):
            return catalog.run(args)
        return tokens.run(args)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in error.errors())
        print(f"error: configuration: {problems}", file=sys.stderr)
        return ExitCode.USAGE
    except CommandError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return error.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
