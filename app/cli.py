"""The `hibernia` command: serve, migrate, export-schema."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from app.config import get_settings

logger = logging.getLogger("hibernia")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hibernia", description="Hibernation-aware GraphQL API for Kubernetes apps.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="Migrate the database and serve the API and playground at /graphql.")
    serve.add_argument("--host", default="127.0.0.1", help="Interface to listen on (default 127.0.0.1).")
    serve.add_argument("--port", type=int, default=8000, help="Port to listen on (default 8000).")
    serve.add_argument("--demo", action="store_true", help="Seed demo environments and apps.")
    serve.add_argument("--no-migrate", action="store_true", help="Do not apply migrations at start.")

    commands.add_parser("migrate", help="Apply database migrations up to the latest.")

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


def _serve(host: str, port: int, demo: bool, migrate: bool) -> None:
    import uvicorn

    from app.main import create_app

    if migrate:
        asyncio.run(_migrate())
    on_startup = None
    if demo:
        from app.demo import start_demo

        on_startup = start_demo
    print(f"Hibernia playground: http://{host}:{port}/graphql", flush=True)
    uvicorn.run(create_app(on_startup=on_startup), host=host, port=port, log_level="info")


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args = _parser().parse_args(argv)
    if args.command == "serve":
        _serve(args.host, args.port, args.demo, not args.no_migrate)
    elif args.command == "migrate":
        asyncio.run(_migrate())
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
