"""Fault injection: latency, 5xx, 429 with Retry-After, outages, 403s.

Faults apply to Kubernetes API requests only, never to the admin endpoints under /_simulator/.
For one request the injector decides, in this order:

1. `outage` → 503 ServiceUnavailable at once (no latency);
2. `forbidden_namespaces` → 403 Forbidden for requests in those namespaces; `namespaced_access`
   (or any forbidden namespace) → 403 for lists in all namespaces, as with namespaced Roles;
3. `latency_seconds` → the answer is delayed (cut short if the client disconnects);
4. `throttle_next` > 0 → 429 TooManyRequests with `Retry-After: retry_after_seconds`, and the
   counter decreases; else with probability `throttle_rate` → the same 429;
5. with probability `error_rate` → 500 InternalError.

Probabilities draw from a `random.Random(seed)`, so a given sequence of requests always meets the
same faults. `only_verbs` and `only_namespaces`, when not empty, restrict steps 3-5 to matching
requests (verbs as the request log names them: get, list, create, update, patch, delete).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from app.simulator import errors
from app.simulator.errors import ApiError
from app.simulator.resources import ResourceType


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
    only_verbs: list[str] = field(default_factory=list)
    only_namespaces: list[str] = field(default_factory=list)
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any, base: Faults | None = None) -> Faults:
        """Build from a JSON object; missing keys come from `base` (or the defaults)."""
        if not isinstance(data, dict):
            raise ValueError("faults must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault knobs: {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
        values = (base or cls()).to_json()
        values.update(data)
        faults = cls(
            latency_seconds=float(values["latency_seconds"]),
            error_rate=float(values["error_rate"]),
            throttle_next=int(values["throttle_next"]),
            throttle_rate=float(values["throttle_rate"]),
            retry_after_seconds=float(values["retry_after_seconds"]),
            outage=bool(values["outage"]),
            forbidden_namespaces=[str(v) for v in values["forbidden_namespaces"]],
            namespaced_access=bool(values["namespaced_access"]),
            only_verbs=[str(v) for v in values["only_verbs"]],
            only_namespaces=[str(v) for v in values["only_namespaces"]],
            seed=int(values["seed"]),
        )
        faults.check()
        return faults

    def check(self) -> None:
        for name in ("error_rate", "throttle_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value}")
        if self.latency_seconds < 0 or self.retry_after_seconds < 0 or self.throttle_next < 0:
            raise ValueError("latency_seconds, retry_after_seconds and throttle_next must not be negative")


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What to do with one request: wait `delay` seconds, then answer `error` (or serve it)."""

    delay: float = 0.0
    error: ApiError | None = None


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
        if f.throttle_next > 0:
            f.throttle_next -= 1
            return FaultDecision(delay, errors.too_many_requests(f.retry_after_seconds))
        if f.throttle_rate > 0 and self._random.random() < f.throttle_rate:
            return FaultDecision(delay, errors.too_many_requests(f.retry_after_seconds))
        if f.error_rate > 0 and self._random.random() < f.error_rate:
            return FaultDecision(delay, errors.internal_error("simulated failure"))
        return FaultDecision(delay)
