"""The request log: every Kubernetes API request the simulator answered, in order.

Tests assert on it ("one LIST per namespace and kind", "the 429 was retried once"). Admin
requests under /_simulator/ are not recorded.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

# Pseudo-statuses of requests that got no HTTP answer (nginx's 444 and 499; 299 is ours, in the
# 2xx range because the change landed).
CONNECTION_RESET = 444
"""The connection was reset without an answer; nothing was changed."""
APPLIED_UNANSWERED = 299
"""The write was applied, but its answer never reached the client (dropped, or the client gave up
waiting for a late answer)."""
CLIENT_GONE = 499
"""The client went away before the answer (during injected latency); nothing was changed."""


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One API request. `verb` follows Kubernetes audit naming: get, list, create, update, patch,
    delete, or `discovery` for /api, /apis and /version; `kind` is the Kind (`Deployment`) or None;
    `subresource` is `scale`, `status` or None; `status` is the HTTP status code answered, or one
    of the pseudo-statuses above when no answer reached the client. A request is recorded once
    its answer is settled (a late answer: when it is sent or its client has gone)."""

    method: str
    path: str
    verb: str
    kind: str | None
    namespace: str | None
    name: str | None
    subresource: str | None
    label_selector: str | None
    status: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    def __init__(self) -> None:
        self._requests: list[RecordedRequest] = []

    def append(self, request: RecordedRequest) -> None:
        self._requests.append(request)

    def clear(self) -> None:
        self._requests.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the log, oldest first."""
        return list(self._requests)

    def count(
        self,
        verb: str | None = None,
        kind: str | None = None,
        namespace: str | None = None,
        name: str | None = None,
        subresource: str | None = None,
        status: int | None = None,
    ) -> int:
        """How many recorded requests match every given criterion (None matches anything)."""
        return sum(
            1
            for r in self._requests
            if (verb is None or r.verb == verb)
            and (kind is None or r.kind == kind)
            and (namespace is None or r.namespace == namespace)
            and (name is None or r.name == name)
            and (subresource is None or r.subresource == subresource)
            and (status is None or r.status == status)
        )

    def counts(self) -> dict[str, int]:
        """`"<verb> <kind>[/<subresource>]"` → number of requests, e.g. `"list Deployment": 2`."""
        counter: Counter[str] = Counter()
        for r in self._requests:
            what = r.kind or r.path
            if r.subresource:
                what = f"{what}/{r.subresource}"
            counter[f"{r.verb} {what}"] += 1
        return dict(sorted(counter.items()))
