"""The pipeline client's only way in: the server's public GraphQL API over HTTP."""

from __future__ import annotations

import argparse
import getpass
import os
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.commands.exit_codes import CommandError, ExitCode

DEFAULT_URL = "http://127.0.0.1:8000"
REQUEST_TIMEOUT_SECONDS = 120.0  # a bulk operation over hundreds of apps answers when all are done

# Top-level error codes (extensions.code) and what a pipeline should make of them.
_TOP_LEVEL_CODES = {
    "UNAUTHENTICATED": ExitCode.FORBIDDEN,
    "FORBIDDEN": ExitCode.FORBIDDEN,
    "SERVICE_UNAVAILABLE": ExitCode.UNAVAILABLE,
    "INTERNAL": ExitCode.FAILED,
}


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        default=os.environ.get("HIBERNIA_URL") or DEFAULT_URL,
        help=f"The server's base URL (default: $HIBERNIA_URL, else {DEFAULT_URL}).",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("HIBERNIA_TOKEN") or None,
        help="API token (default: $HIBERNIA_TOKEN; a development server needs none).",
    )
    parser.add_argument(
        "--output", choices=["text", "json"], default="text", help="text (default) or json: the API's payload."
    )


@dataclass
class ApiClient:
    """Sends GraphQL documents; turns every failure that is not a payload's into a CommandError."""

    url: str
    token: str | None
    _http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.url = self.url.rstrip("/")
        headers = {"accept": "application/json"}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        else:  # a development server records the local user as the actor
            headers["x-hibernia-actor"] = _local_user()
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=REQUEST_TIMEOUT_SECONDS)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ApiClient:
        return cls(args.url, args.token)

    def close(self) -> None:
        self._http.close()

    def execute(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The response's `data`; a top-level error, a refused token or an unreachable server raises."""
        try:
            response = self._http.post("/graphql", json={"query": document, "variables": variables or {}})
        except httpx.TimeoutException:
            raise CommandError(
                ExitCode.UNAVAILABLE, f"the Hibernia server at {self.url} did not answer in time"
            ) from None
        except httpx.TransportError as error:
            raise CommandError(
                ExitCode.UNAVAILABLE, f"cannot reach the Hibernia server at {self.url}: {error or type(error).__name__}"
            ) from None
        body = _json_body(response)
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            first = errors[0]
            code = str((first.get("extensions") or {}).get("code", ""))
            message = str(first.get("message", "the server refused the request"))
            raise CommandError(_top_level_exit_code(response.status_code, code), message)
        if response.status_code != 200 or not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            raise CommandError(
                ExitCode.UNAVAILABLE if response.status_code >= 500 else ExitCode.FAILED,
                f"the server at {self.url} answered HTTP {response.status_code} without a GraphQL result",
            )
        data: dict[str, Any] = body["data"]
        return data


def _local_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "hibernia-cli"


def _json_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _top_level_exit_code(status: int, code: str) -> ExitCode:
    if code in _TOP_LEVEL_CODES:
        return _TOP_LEVEL_CODES[code]
    if status in (401, 403):
        return ExitCode.FORBIDDEN
    if status >= 500:
        return ExitCode.UNAVAILABLE
    # Validation: an unknown status or field, a value the schema refuses, a limit.
    return ExitCode.USAGE
