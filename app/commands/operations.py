"""Pipeline commands that change apps: deploy, hibernate, wake (one app or a group) and rollback, with `--wait`."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from typing import Any

from app.commands import documents
from app.commands.api_client import ApiClient, add_connection_options
from app.commands.exit_codes import EXIT_CODES_HELP, CommandError, ExitCode, for_error_code, worst
from app.commands.waiting import Waited, wait_for

BULK_LIMIT = 500  # the API's most apps per bulk request
DEFAULT_TIMEOUT_SECONDS = 300.0
_TARGETS = {"deploy": "HEALTHY", "wake": "HEALTHY", "rollback": "HEALTHY", "hibernate": "HIBERNATING"}


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    deploy = _command(commands, "deploy", "Deploy an image to an app, or to a group of apps in one environment.")
    deploy.add_argument("--image", required=True, help="Image for the main container, e.g. registry/team/api:1.4.2.")
    _policy_option(deploy)
    _wait_options(deploy, "HEALTHY")
    hibernate = _command(commands, "hibernate", "Hibernate an app or a group: scale to 0, keeping what to restore.")
    hibernate.add_argument(
        "--reduce-to",
        type=int,
        metavar="N",
        help="Reduced mode (one app): scale workloads above N down to N instead of 0; --wait then waits for REDUCED.",
    )
    _wait_options(hibernate, "HIBERNATING")
    wake = _command(commands, "wake", "Wake (unhibernate) an app or a group, restoring the recorded replicas.")
    _wait_options(wake, "HEALTHY")

    description = (
        "Deploy again the image of the newest successful deployment before the current one (or of --to), "
        "as a deploy: the same hibernation check and policy."
    )
    rollback = commands.add_parser(
        "rollback",
        help=description,
        description=description,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rollback.add_argument("--app", required=True, help="The app.")
    rollback.add_argument("--environment", required=True, help="The environment's name.")
    rollback.add_argument("--to", metavar="DEPLOYMENT_ID", help="The deployment's id, as `hibernia history` prints it.")
    _policy_option(rollback)
    _wait_options(rollback, "HEALTHY")
    add_connection_options(rollback)
    rollback.set_defaults(run=run)


def _command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str, description: str
) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        name,
        help=description,
        description=description,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--environment", required=True, help="The environment's name.")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--app", help="One app.")
    which.add_argument("--apps", nargs="+", metavar="APP", help="Several apps, space-separated (a bulk operation).")
    which.add_argument("--all", action="store_true", help="Every app attached to the environment.")
    add_connection_options(parser)
    parser.set_defaults(run=run)
    return parser


def _policy_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--on-hibernated",
        choices=["refuse", "skip", "wake"],
        help="What to do if an app is hibernated (default: the server's; refuse exits 3, skip exits 0).",
    )


def _wait_options(parser: argparse.ArgumentParser, target: str) -> None:
    parser.add_argument(
        "--wait", action="store_true", help=f"Follow the status until {target}; fail on DEGRADED or at the timeout."
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        help=f"Seconds --wait waits at most (default {DEFAULT_TIMEOUT_SECONDS:g}); then exit 6.",
    )


@dataclass
class AppResult:
    """One app's answer, and what the command makes of it."""

    app: str
    payload: dict[str, Any]
    code: ExitCode
    waited: Waited | None = None
    problems: list[str] = field(default_factory=list)


def run(args: argparse.Namespace) -> int:
    client = ApiClient.from_args(args)
    try:
        return _run(client, args)
    finally:
        client.close()


def _run(client: ApiClient, args: argparse.Namespace) -> int:
    if getattr(args, "reduce_to", None) is not None and not args.app:
        raise CommandError(ExitCode.USAGE, "--reduce-to works on one app (--app); a bulk hibernate has no reduced mode")
    skip_asked = getattr(args, "on_hibernated", None) == "skip"
    if args.app:
        data = client.execute(*_single_request(args))
        payload = next(iter(data.values()))
        results = [judge(args.app, payload, skip_asked=skip_asked)]
        document: dict[str, Any] = dict(data)
    else:
        apps = args.apps or attached_apps(client, args.environment)
        document, results = _bulk(client, args, apps, skip_asked)
    if args.wait:
        _wait(client, args, results)
        document["wait"] = [result.waited.as_json() for result in results if result.waited]
    _report(args, document, results)
    return worst([result.code for result in results])


def _single_request(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    target = {"app": args.app, "environment": args.environment}
    policy = args.on_hibernated.upper() if getattr(args, "on_hibernated", None) else None
    if args.command == "deploy":
        return documents.DEPLOY, {"input": {**target, "image": args.image, "onHibernated": policy}}
    if args.command == "rollback":
        return documents.ROLLBACK, {"input": {**target, "to": args.to, "onHibernated": policy}}
    if args.command == "hibernate":
        return documents.HIBERNATE, {"input": {**target, "reduceTo": args.reduce_to}}
    return documents.UNHIBERNATE, {"input": target}


def _bulk(
    client: ApiClient, args: argparse.Namespace, apps: list[str], skip_asked: bool
) -> tuple[dict[str, Any], list[AppResult]]:
    """One request per 500 apps; the document holds every app's result, in order."""
    name = {"deploy": "deployMany", "hibernate": "hibernateMany", "wake": "unhibernateMany"}[args.command]
    mutation = {"deploy": documents.DEPLOY_MANY, "hibernate": documents.HIBERNATE_MANY}.get(
        args.command, documents.UNHIBERNATE_MANY
    )
    merged: dict[str, Any] = {"results": [], "errors": []}
    results: list[AppResult] = []
    for start in range(0, max(len(apps), 1), BULK_LIMIT):
        group: dict[str, Any] = {"environment": args.environment, "apps": apps[start : start + BULK_LIMIT]}
        if args.command == "deploy":
            policy = args.on_hibernated.upper() if args.on_hibernated else None
            group |= {"image": args.image, "onHibernated": policy}
        payload = client.execute(mutation, {"input": group})[name]
        merged["results"] += payload["results"]
        merged["errors"] += payload["errors"]
        results += [judge(result["app"], result, skip_asked=skip_asked) for result in payload["results"]]
        if payload["errors"]:  # the whole request was refused (unknown environment, ...)
            results.append(judge("", {"outcome": "FAILED", "errors": payload["errors"]}, skip_asked=skip_asked))
            break
    return {name: merged}, results


def judge(app: str, payload: dict[str, Any], *, skip_asked: bool) -> AppResult:
    """The exit code one app's payload earns."""
    outcome = payload["outcome"]
    messages = [error["message"] for error in payload["errors"]]
    if outcome in ("APPLIED", "UNCHANGED"):
        code = ExitCode.DONE
    elif outcome == "SKIPPED":
        # Skipped because hibernated: done when skipping was asked for, else a refusal.
        code = ExitCode.DONE if skip_asked else ExitCode.HIBERNATED
    else:
        code = worst([for_error_code(error["code"]) for error in payload["errors"]]) or ExitCode.FAILED
    return AppResult(app, payload, code, problems=messages)


def attached_apps(client: ApiClient, environment: str) -> list[str]:
    """Every app attached to the environment, by name (for --all)."""
    if client.execute(documents.ENVIRONMENT, {"name": environment})["environment"] is None:
        raise CommandError(ExitCode.USAGE, f"there is no environment '{environment}'")
    apps: list[str] = []
    after = None
    while True:
        page = client.execute(
            documents.APP_ENVIRONMENTS, {"first": 100, "after": after, "filter": {"environments": [environment]}}
        )["appEnvironments"]
        apps += [node["app"]["name"] for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            return apps
        after = page["pageInfo"]["endCursor"]


def _wait(client: ApiClient, args: argparse.Namespace, results: list[AppResult]) -> None:
    # Only what was done is followed: a refusal or a skip has nothing to wait for.
    waiting = [result for result in results if result.code is ExitCode.DONE and result.payload["outcome"] != "SKIPPED"]
    if not waiting:
        return
    target = "REDUCED" if getattr(args, "reduce_to", None) is not None else _TARGETS[args.command]
    waited = wait_for(client, args.environment, [result.app for result in waiting], target, args.timeout)
    for result, outcome in zip(waiting, waited, strict=True):
        result.waited = outcome
        result.code = outcome.code
        if outcome.code is not ExitCode.DONE:
            result.problems.append(f"{outcome.status}: {outcome.reason}")


def _report(args: argparse.Namespace, document: dict[str, Any], results: list[AppResult]) -> None:
    bulk = not args.app
    for result in results:
        where = f"{result.app}: " if bulk and result.app else ""
        for problem in result.problems:
            print(f"error: {where}{problem}", file=sys.stderr)
    if args.output == "json":
        print(json.dumps(document, indent=2))
        return
    for result in results:
        if not result.app:
            continue
        line = f"{result.app} on {args.environment}: {result.payload['outcome']}"
        deployment = result.payload.get("deployment")
        if deployment:
            line += f" (deployment {deployment['id']}, {deployment['image']})"
        status = result.waited or result.payload.get("status")
        if isinstance(status, Waited):
            line += f"; {status.status}"
        elif status:
            line += f"; {status['status']}"
        print(line)
