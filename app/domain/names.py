"""Validation of the names Kubernetes and Hibernia accept."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from app.domain.errors import InvalidInput
from app.domain.wording import quoted

_DNS_1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_1123_LABEL_MAX = 63
RELEASE_NAME_MAX = 53  # Helm's limit: release names end up in generated resource names


def validate_dns_label(value: str, *, field: str, what: str, max_length: int = DNS_1123_LABEL_MAX) -> str:
    if not value:
        raise InvalidInput(f"{what} must not be empty.", field=field)
    if len(value) > max_length:
        raise InvalidInput(f"{what} '{value[:80]}' is longer than {max_length} characters.", field=field)
    if not _DNS_1123_LABEL.match(value):
        raise InvalidInput(
            f"{what} '{value[:80]}' is not a valid DNS-1123 label: use lower-case letters, digits and '-', "
            "starting and ending with a letter or digit (e.g. 'payments-api').",
            field=field,
        )
    return value


MAX_SERVER_URL = 2048
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def validate_server_url(value: str, *, field: str = "server") -> str:
    """An API server URL: http or https, a valid host (name or IP address), an optional port, at most
    2,048 characters, no credentials (they go in the token or the kubeconfig)."""
    example = "give e.g. 'https://10.0.0.1:6443'"
    if len(value) > MAX_SERVER_URL:
        raise InvalidInput(f"Server URL is longer than {MAX_SERVER_URL} characters.", field=field)
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise InvalidInput(f"Server {quoted(value)} is not a URL; {example}.", field=field) from None
    if parts.scheme not in ("http", "https"):
        raise InvalidInput(f"Server {quoted(value)} must be an http or https URL; {example}.", field=field)
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("Server URL must not carry credentials; give a token instead.", field=field)
    if parts.query or parts.fragment:
        raise InvalidInput(f"Server {quoted(value)} must not have a query or fragment; {example}.", field=field)
    host = parts.hostname or ""
    if not _valid_host(host):
        raise InvalidInput(f"Server {quoted(value)} has no valid host name or IP address; {example}.", field=field)
    if port == 0:
        raise InvalidInput(f"Server {quoted(value)} has port 0; {example}.", field=field)
    return value.rstrip("/")


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    if not host or len(host) > 253:
        return False
    return all(_HOST_LABEL.match(label) for label in host.rstrip(".").split("."))
