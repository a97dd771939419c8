"""Validation of the names Kubernetes and Hibernia accept."""

from __future__ import annotations

import re

from app.domain.errors import InvalidInput

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
