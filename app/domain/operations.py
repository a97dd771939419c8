"""Operation vocabulary: outcomes, the hibernated policy, and the guard's explanation."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from app.domain.errors import InvalidInput
from app.domain.status import RecordedHibernation


class OperationOutcome(StrEnum):
    APPLIED = "APPLIED"
    UNCHANGED = "UNCHANGED"
    SKIPPED = "SKIPPED"
    FAILED = "FAILED"


class HibernatedPolicy(StrEnum):
    REFUSE = "REFUSE"
    SKIP = "SKIP"
    WAKE = "WAKE"


# registry/path:tag or @sha256:digest; a pragmatic subset of the OCI reference grammar.
_IMAGE = re.compile(
    r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)


def validate_image(image: str) -> str:
    image = image.strip()
    if not image:
        raise InvalidInput("Image must not be empty; give e.g. 'registry.example.com/team/api:1.4.2'.", field="image")
    if len(image) > 1024 or not _IMAGE.match(image):
        raise InvalidInput(
            f"'{image[:80]}' is not a container image reference; give e.g. 'registry.example.com/team/api:1.4.2'.",
            field="image",
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
