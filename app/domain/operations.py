"""Operation vocabulary: outcomes, the hibernated policy, and the guard's explanation."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from app.domain.errors import InvalidInput
from app.domain.status import RecordedHibernation
from app.domain.wording import quoted


class OperationOutcome(StrEnum):
    APPLIED = "APPLIED"
    UNCHANGED = "UNCHANGED"
    SKIPPED = "SKIPPED"
    FAILED = "FAILED"


class HibernatedPolicy(StrEnum):
    REFUSE = "REFUSE"
    SKIP = "SKIP"
    WAKE = "WAKE"


# The image reference grammar of the OCI distribution (github.com/distribution/reference):
#   reference := name [":" tag] ["@" digest];  name := [domain "/"] path, at most 255 characters
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[_.]|__|-+)[a-z0-9]+)*"
_REFERENCE = re.compile(
    rf"^(?P<name>(?:(?P<domain>{_DOMAIN})/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$"
)
MAX_IMAGE_NAME = 255
_EXAMPLE = "give e.g. 'registry.example.com/team/api:1.4.2'"


def validate_image(image: str) -> str:
    image = image.strip()
    if not image:
        raise InvalidInput(f"Image must not be empty; {_EXAMPLE}.", field="image")
    match = _REFERENCE.match(image) if len(image) <= 2 * MAX_IMAGE_NAME else None
    if match is None:
        raise InvalidInput(f"{quoted(image)} is not a container image reference; {_EXAMPLE}.", field="image")
    if len(match["name"]) > MAX_IMAGE_NAME:
        raise InvalidInput(
            f"The image name {quoted(match['name'])} is longer than {MAX_IMAGE_NAME} characters.", field="image"
        )
    return image


def hibernated_explanation(
    target: str, hibernated: Sequence[str], total: int, records: Sequence[RecordedHibernation]
) -> str:
    """'App 'web' on environment 'dev' is hibernated since 14:02 UTC by ci-bot (...)'."""
    since: datetime | None = min((r.since for r in records), default=None)
    actor = next((r.actor for r in sorted(records, key=lambda r: r.since)), None)
    when = f" since {since:%Y-%m-%d %H:%M} UTC" if since else ""
    who = f" by {actor}" if actor else (" (outside Hibernia)" if not records else "")
    scope = (
        f"all {total} workloads" if len(hibernated) == total else f"{len(hibernated)} of {total} workloads"
    ) + f": {', '.join(hibernated)}"
    return (
        f"{target} is hibernated{when}{who} ({scope}). "
        "Unhibernate it first, or deploy with onHibernated: WAKE to wake it as part of the deploy."
    )
