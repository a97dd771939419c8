"""Fault injection: latency, 5xx, 429 with Retry-After, outages, 403s, 409s, reset connections and
writes whose answer is late or never comes.

Faults apply to Kubernetes API requests only, never to the admin endpoints under /_simulator/.
For one request the injector decides, in this order:

1. `outage` → 503 ServiceUnavailable at once (no latency);
2. `forbidden_namespaces` → 403 Forbidden for requests in those namespaces; `namespaced_access`
   (or any forbidden namespace) → 403 for lists in all namespaces, as with namespaced Roles;
3. `latency_seconds` → the answer is delayed (cut short if the client disconnects);
4. `reset_next` > 0 → the TCP connection is reset (RST, no HTTP answer at all) before the request
   is applied, and the counter decreases; else with probability `reset_rate` → the same;
5. `throttle_next` > 0 → 429 TooManyRequests with `Retry-After: retry_after_seconds`, and the
   counter decreases; else with probability `throttle_rate` → the same 429;
6. with probability `error_rate` → 500 InternalError;

and for writes only (create, update, patch, delete; on any subresource):

7. `conflict_next` > 0 (then `conflict_rate`) → 409 Conflict with the API server's `Status` body
   (reason `Conflict`, "the object has been modified; please apply your changes to the latest
   version and try again"); the object is not changed;
8. `dropped_answer_next` > 0 (then `dropped_answer_rate`) → the write is applied, then the
   connection is reset without an answer: a write that landed but whose answer was lost;
9. `late_answer_next` > 0 (then `late_answer_rate`) → the write is applied at once and its answer
   held `late_answer_seconds` (default 30): the client's timeout fires first. A client that gives
   up just closes its connection; nothing is logged as an error.

aiohttp (under kubernetes-asyncio) retries a request of an idempotent method (GET, PUT, DELETE)
once by itself, on a new connection, after a reset or dropped connection: a single reset of such a
request is invisible above it. Use `reset_next=2` (or a rate) to make one read fail.

Each `*_next` counter decreases only when its fault fires. Probabilities draw from a
`random.Random(seed)`, and a rate of 0 draws nothing, so a given sequence of requests always meets
the same faults. `only_verbs` and `only_namespaces`, when not empty, restrict steps 3-9 to matching
requests (verbs as the request log names them: get, list, create, update, patch, delete,
discovery).

The request log records every faulted request with its verb and the status that says what
happened: the HTTP status answered (409, 429, 500, 503, ...), or one of the pseudo-statuses of
`app.simulator.recording` for requests that got no answer: `CONNECTION_RESET` (444: reset, nothing
was changed), `APPLIED_UNANSWERED` (299: the write was applied, its answer never reached the client)
and `CLIENT_GONE` (499: the client went away before the answer, nothing was changed).
"""

from __future__ import annotations

import enum
import random
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from app.simulator import errors
from app.simulator.errors import ApiError
from app.simulator.resources import ResourceType

WRITE_VERBS = frozenset({"create", "update", "patch", "delete"})


@dataclass(slots=True)
class Faults:
    """The fault knobs. All zero/empty means a healthy API server."""

    latency_seconds: float = 0.0
    error_rate: float = 0.0
    throttle_next: int = 0
    throttle_rate: float = 0.0
    retry_after_seconds: float = 1.0
    outage: bool = False
    forbidden_namespaces: list[str] = field(default_factory=list)
    # Credentials with namespaced Roles only: a list in all namespaces is 403.
    namespaced_access: bool = False
    # The connection reset before the request is applied.
    reset_next: int = 0
    reset_rate: float = 0.0
    # Writes answered 409 Conflict, unapplied.
    conflict_next: int = 0
    conflict_rate: float = 0.0
    # Writes applied, then answered only after late_answer_seconds.
    late_answer_next: int = 0
    late_answer_rate: float = 0.0
    late_answer_seconds: float = 30.0
    # Writes applied, then the connection reset without an answer.
    dropped_answer_next: int = 0
    dropped_answer_rate: float = 0.0
    only_verbs: list[str] = field(default_factory=list)
    only_namespaces: list[str] = field(default_factory=list)
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any, base: Faults | None = None) -> Faults:
        """Build from a JSON object; missing keys come from `base` (or the defaults).

        Raises `ValueError` naming the knob for an unknown knob or a value of the wrong type.
        """
        if not isinstance(data, dict):
            raise ValueError("faults must be a JSON object")
        defaults = cls().to_json()
        unknown = set(data) - set(defaults)
        if unknown:
            raise ValueError(f"unknown fault knobs: {', '.join(sorted(unknown))}; known: {', '.join(sorted(defaults))}")
        values = (base or cls()).to_json()
        for name, value in data.items():
            values[name] = _coerce(name, value, defaults[name])
        faults = cls(**values)
        faults.check()
        return faults

    def check(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.endswith("_rate") and not 0.0 <= value <= 1.0:
                raise ValueError(f"{f.name} must be within [0, 1], got {value}")
            if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
                raise ValueError(f"{f.name} must not be negative, got {value}")


def _coerce(name: str, value: Any, default: Any) -> Any:
    """`value` as the type of the knob's default, or ValueError (JSON has no int/float split)."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        return int(value)
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name} must be a number, got {value!r}")
        return float(value)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{name} must be a list of strings, got {value!r}")
    return list(value)


class Answer(enum.Enum):
    """How the answer of a request reaches its client."""

    ON_TIME = "on time"
    LATE = "late"  # the request is applied, the answer held
    DROPPED = "dropped"  # the request is applied, the connection reset instead of answering


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What to do with one request: wait `delay` seconds, then reset the connection (`reset`),
    answer `error`, answer 409 Conflict without applying (`conflict`), or serve it and deliver the
    answer as `answer` says (held `hold_seconds` when late)."""

    delay: float = 0.0
    error: ApiError | None = None
    reset: bool = False
    conflict: bool = False
    answer: Answer = Answer.ON_TIME
    hold_seconds: float = 0.0


class FaultInjector:
    """Holds the current `Faults` and the seeded random source; decides per request."""

    def __init__(self, faults: Faults | None = None) -> None:
        self._faults = faults or Faults()
        self._faults.check()
        self._random = random.Random(self._faults.seed)

    @property
    def faults(self) -> Faults:
        return self._faults

    def set(self, faults: Faults) -> None:
        """Replace the knobs; the random source restarts from the new seed."""
        faults.check()
        self._faults = faults
        self._random = random.Random(faults.seed)

    def reset(self) -> None:
        self.set(Faults())

    def _fires(self, fault: str) -> bool:
        """Whether the `<fault>_next` counter (consumed here) or the `<fault>_rate` draw fires."""
        remaining: int = getattr(self._faults, f"{fault}_next")
        if remaining > 0:
            setattr(self._faults, f"{fault}_next", remaining - 1)
            return True
        rate: float = getattr(self._faults, f"{fault}_rate")
        return rate > 0 and self._random.random() < rate

    def decide(self, verb: str, namespace: str | None, resource: ResourceType | None) -> FaultDecision:
        f = self._faults
        if f.outage:
            return FaultDecision(error=errors.service_unavailable("the API server is unavailable (simulated outage)"))
        if namespace is not None and namespace in f.forbidden_namespaces:
            return FaultDecision(error=errors.forbidden(resource, verb, namespace))
        if namespace is None and (f.namespaced_access or f.forbidden_namespaces):
            # Access to some namespaces only is a namespaced grant: no list across all of them.
            return FaultDecision(error=errors.forbidden(resource, verb, None))
        if f.only_verbs and verb not in f.only_verbs:
            return FaultDecision()
        if f.only_namespaces and namespace not in f.only_namespaces:
            return FaultDecision()
        delay = f.latency_seconds
        if self._fires("reset"):
            return FaultDecision(delay, reset=True)
        if self._fires("throttle"):
            return FaultDecision(delay, errors.too_many_requests(f.retry_after_seconds))
        if f.error_rate > 0 and self._random.random() < f.error_rate:
            return FaultDecision(delay, errors.internal_error("simulated failure"))
        if verb not in WRITE_VERBS:
            return FaultDecision(delay)
        if self._fires("conflict"):
            return FaultDecision(delay, conflict=True)
        if self._fires("dropped_answer"):
            return FaultDecision(delay, answer=Answer.DROPPED)
        if self._fires("late_answer"):
            return FaultDecision(delay, answer=Answer.LATE, hold_seconds=f.late_answer_seconds)
        return FaultDecision(delay)
