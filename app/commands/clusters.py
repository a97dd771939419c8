"""`hibernia cluster add|list|show|remove`: the clusters in the database, checked before they are saved."""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

from app.cluster.kubeconfig import credentials_from_kubeconfig
from app.cluster.verification import ClusterCheckFailed, Credentials
from app.commands.database import migrated_database
from app.commands.exit_codes import CommandError, ExitCode, for_error_code
from app.config import get_settings
from app.domain.errors import HiberniaError, InvalidInputs


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cluster = commands.add_parser("cluster", help="Manage registered clusters.")
    cluster_commands = cluster.add_subparsers(dest="cluster_command", required=True)
    add = cluster_commands.add_parser(
        "add",
        help="Register a cluster from a kubeconfig context (its credentials are stored) or in-cluster config.",
        description="Register a cluster. From a kubeconfig, the context's server and credentials (token, client "
        "certificate, CA) are read and stored, so every replica can use them; before saving, the API server must "
        "answer /version and accept the credentials.",
    )
    add.add_argument("--name", required=True, help="Unique DNS-1123 name for the cluster.")
    source = add.add_mutually_exclusive_group(required=True)
    source.add_argument("--kubeconfig", help="Path of the kubeconfig file.")
    source.add_argument("--in-cluster", action="store_true", help="Use the pod's service account.")
    add.add_argument("--context", help="Kubeconfig context (default: the file's current context).")
    add.add_argument(
        "--namespace",
        action="append",
        default=[],
        help="Also check that the credentials may list and patch the workload kinds here (repeatable).",
    )
    add.add_argument("--no-verify", action="store_true", help="Save without checking (a cluster not reachable yet).")
    cluster_commands.add_parser("list", help="List clusters (never their credentials).")
    show = cluster_commands.add_parser("show", help="One cluster: how it is reached, its environments, its health.")
    show.add_argument("name", help="The cluster's name.")
    remove = cluster_commands.add_parser(
        "remove", help="Delete a cluster no environment uses (nothing in Kubernetes is touched)."
    )
    remove.add_argument("name", help="The cluster's name.")


def run(args: argparse.Namespace) -> int:
    # The checks' requests are not the command's answer (httpx logs each at INFO).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if args.cluster_command == "add":
        return asyncio.run(_add(args))
    if args.cluster_command == "list":
        return asyncio.run(_list())
    if args.cluster_command == "show":
        return asyncio.run(_show(args.name))
    return asyncio.run(_remove(args.name))


def _from_kubeconfig(path: str, context: str | None) -> tuple[str, Credentials]:
    kubeconfig = Path(path).expanduser()
    if not kubeconfig.is_file():
        raise CommandError(ExitCode.USAGE, f"no kubeconfig file at {path}")
    try:
        return credentials_from_kubeconfig(str(kubeconfig), context)
    except ClusterCheckFailed as failed:
        raise CommandError(ExitCode.USAGE, f"{failed.problem}: {failed.message}") from None
    except (OSError, ValueError) as error:
        raise CommandError(ExitCode.USAGE, f"cannot read the kubeconfig {path}: {error}") from None


async def _add(args: argparse.Namespace) -> int:
    from app.db.engine import create_session_factory
    from app.services.catalog import CatalogService, ClusterCheck, ClusterSpec
    from app.services.cluster_checks import check_cluster

    if args.in_cluster:
        spec = ClusterSpec(name=args.name, in_cluster=True)
    else:
        _, credentials = _from_kubeconfig(args.kubeconfig, args.context)
        spec = ClusterSpec(
            name=args.name,
            server=credentials.server,
            token=credentials.token,
            ca_data=credentials.ca_data,
            client_certificate_data=credentials.client_certificate_data,
            client_key_data=credentials.client_key_data,
            insecure_skip_tls_verify=credentials.insecure_skip_tls_verify,
        )
    seconds = get_settings().cluster_timeout_seconds

    async def check(credentials: Credentials, namespaces: Sequence[str]) -> None:
        await check_cluster(credentials, [*namespaces, *args.namespace], request_seconds=seconds)

    verifying: ClusterCheck | None = None if args.no_verify else check
    async with migrated_database() as engine:
        try:
            async with create_session_factory(engine)() as session, session.begin():
                await CatalogService(session).create_cluster(spec, verifying)
        except InvalidInputs as errors:
            raise CommandError(ExitCode.USAGE, "; ".join(error.message for error in errors.errors)) from None
        except HiberniaError as error:
            raise CommandError(for_error_code(error.code.value), error.message) from None
    checked = "" if args.no_verify or args.in_cluster else " (checked: it answers and accepts the credentials)"
    print(f"cluster '{args.name}' registered{checked}")
    return 0


async def _list() -> int:
    from app.db.engine import create_session_factory
    from app.services.catalog import CatalogService

    async with migrated_database() as engine, create_session_factory(engine)() as session:
        for cluster in await CatalogService(session).clusters():
            print(f"{cluster.name}\t{_reached_by(cluster)}\t{cluster.created_at:%Y-%m-%d %H:%M}")
    return 0


def _reached_by(cluster: object) -> str:
    server = getattr(cluster, "server", None)
    if server:
        return str(server)
    if getattr(cluster, "in_cluster", False):
        return "in-cluster"
    return f"kubeconfig {getattr(cluster, 'kubeconfig_path', '')}"


async def _show(name: str) -> int:
    from app.db.engine import create_session_factory
    from app.db.repositories.catalog import CatalogRepository
    from app.services.cluster_checks import ClusterHealth

    async with migrated_database() as engine, create_session_factory(engine)() as session:
        repository = CatalogRepository(session)
        cluster = await repository.cluster_by_name(name)
        if cluster is None:
            raise CommandError(ExitCode.USAGE, f"there is no cluster '{name}'")
        environments = await repository.environment_names_on_cluster(cluster.id)
        health = await ClusterHealth(get_settings().cluster_timeout_seconds).of(cluster)
    credentials = [
        label
        for label, present in (
            ("token", cluster.token),
            ("client certificate", cluster.client_certificate_data),
            ("CA", cluster.ca_data),
        )
        if present
    ]
    print(f"name:          {cluster.name}")
    print(f"reached by:    {_reached_by(cluster)}")
    print(f"credentials:   {', '.join(credentials) or 'none stored'}")
    print(f"environments:  {', '.join(environments) or 'none'}")
    reachable = {True: "yes", False: "no", None: "not checked"}[health.reachable]
    print(f"reachable:     {reachable}" + (f" ({health.last_error})" if health.last_error else ""))
    return 0


async def _remove(name: str) -> int:
    from app.db.engine import create_session_factory
    from app.services.catalog_changes import CatalogChanges

    async with migrated_database() as engine:
        try:
            async with create_session_factory(engine)() as session, session.begin():
                await CatalogChanges(session).delete_cluster(name)
        except HiberniaError as error:
            raise CommandError(for_error_code(error.code.value), error.message) from None
    print(f"cluster '{name}' removed (nothing in Kubernetes was touched)")
    return 0
