"""One Kubernetes API call: rate limit, timeout, retries and the mapping of failures.

Every call is bounded by `timeout` seconds in total: rate-limit waits, retries and Retry-After
waits included; a wait that cannot fit in what is left fails at once. Retries (at most
`max_retries`): 429 honouring `Retry-After` (capped by `max_retry_after`), 5xx and connection
errors with exponential backoff. A call that is not idempotent (a create) is retried only when the
server certainly did not act on it (429, 503, connection not established).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp

from app.cluster.gateway import (
    AccessDenied,
    ClusterUnavailable,
    FieldProblem,
    InvalidWorkload,
    WorkloadConflict,
    WorkloadNotFound,
    WriteOutcomeUnknown,
)
from app.cluster.rate_limit import RateLimitExceeded, TokenBucket
from app.domain.workloads import WorkloadKind

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    body: bytes
    retry_after: str | None


def _parse_retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _status_of(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body)
    except ValueError:
        return {"message": body.decode("utf-8", "replace")[:500]}
    return parsed if isinstance(parsed, dict) else {}


@dataclass(slots=True)
class _Sent:
    """Whether an attempt of this call may have been acted on by the server."""

    maybe_landed: bool = False


class ApiCaller:
    """Sends one API request at a time through the rate limit, with retries, within a deadline."""

    def __init__(
        self,
        server: str,
        *,
        timeout: float,
        limiter: TokenBucket,
        max_retries: int,
        max_retry_after: float,
        backoff_seconds: float,
    ) -> None:
        self.server = server
        self.timeout = timeout
        self.limiter = limiter
        self.max_retries = max_retries
        self.max_retry_after = max_retry_after
        self.backoff_seconds = backoff_seconds

    async def _send(self, operation: Callable[[float], Awaitable[Any]], remaining: float) -> _Answer:
        response: aiohttp.ClientResponse = await operation(max(remaining, 0.001))
        try:
            body = await response.read()
        finally:
            response.release()
        return _Answer(response.status, body, response.headers.get("Retry-After"))

    async def call(
        self,
        what: str,
        kind: WorkloadKind,
        namespace: str,
        name: str | None,
        operation: Callable[[float], Awaitable[Any]],
        *,
        deadline: float | None = None,
        idempotent: bool = True,
        write: bool = False,
    ) -> dict[str, Any]:
        """One call. A `write` that fails after its request may have reached the server raises
        `WriteOutcomeUnknown` instead of `ClusterUnavailable`: the caller must read the object back."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout if deadline is None else deadline
        sent = _Sent()
        try:
            async with asyncio.timeout_at(deadline):
                return await self._attempts(what, kind, namespace, name, operation, deadline, idempotent, sent)
        except TimeoutError:
            sent.maybe_landed = True  # the deadline can only cut a request that was on its way
            error = ClusterUnavailable(
                f"the Kubernetes API at {self.server} did not answer within {self.timeout:g}s ({what})"
            )
        except WorkloadConflict as conflict:
            if write and sent.maybe_landed:
                # A retry met a newer resourceVersion: perhaps the earlier attempt's own write.
                raise WriteOutcomeUnknown(f"{conflict}; an earlier attempt may have landed") from None
            raise
        except ClusterUnavailable as unavailable:
            error = unavailable
        if write and sent.maybe_landed:
            raise WriteOutcomeUnknown(f"{error.reason}; the change may have landed") from None
        raise error from None

    async def _attempts(
        self,
        what: str,
        kind: WorkloadKind,
        namespace: str,
        name: str | None,
        operation: Callable[[float], Awaitable[Any]],
        deadline: float,
        idempotent: bool,
        sent: _Sent,
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            attempt += 1
            try:
                await self.limiter.acquire(max_wait=deadline - loop.time())
            except RateLimitExceeded as exc:
                raise ClusterUnavailable(
                    f"client-side rate limit ({self.limiter.rate:g} requests/s, burst {self.limiter.burst}) "
                    f"leaves no request slot within the {self.timeout:g}s timeout ({what})"
                ) from exc
            try:
                answer = await self._send(operation, deadline - loop.time())
            except TimeoutError:
                raise
            except aiohttp.ClientError as exc:
                connected = not isinstance(exc, aiohttp.ClientConnectorError)
                sent.maybe_landed = sent.maybe_landed or connected
                retryable = idempotent or not connected
                problem = f"cannot reach the Kubernetes API at {self.server}: {exc or type(exc).__name__}"
                await self._before_retry(what, attempt, retryable, problem, self._backoff(attempt), deadline)
                continue
            if 200 <= answer.status < 300:
                try:
                    parsed = json.loads(answer.body)
                except ValueError:
                    parsed = None
                if not isinstance(parsed, dict):
                    raise ClusterUnavailable(f"the Kubernetes API answered {what} with something other than an object")
                return parsed
            status = _status_of(answer.body)
            message = str(status.get("message") or status.get("reason") or f"HTTP {answer.status}")
            if answer.status == 429 or answer.status >= 500:
                retry_after = _parse_retry_after(answer.retry_after)
                if answer.status == 429:
                    wait = 1.0 if retry_after is None else retry_after
                    if wait > self.max_retry_after:
                        raise ClusterUnavailable(
                            f"the Kubernetes API is throttling requests (429) and asks to retry after {wait:g}s, "
                            f"more than the {self.max_retry_after:g}s allowed ({what})"
                        )
                    problem = f"the Kubernetes API kept throttling requests (429 Too Many Requests) ({what})"
                    retryable = True
                else:
                    # A 503 is a refusal; any other 5xx may come after the write was stored.
                    sent.maybe_landed = sent.maybe_landed or answer.status != 503
                    wait = min(retry_after, self.max_retry_after) if retry_after is not None else self._backoff(attempt)
                    problem = f"the Kubernetes API failed with HTTP {answer.status}: {message} ({what})"
                    retryable = idempotent or answer.status == 503
                await self._before_retry(what, attempt, retryable, problem, wait, deadline)
                continue
            raise self.failure_of(answer.status, answer.body, what, kind, namespace, name)

    def _backoff(self, attempt: int) -> float:
        return float(min(self.backoff_seconds * 2 ** (attempt - 1), 2.0))

    async def _before_retry(
        self, what: str, attempt: int, retryable: bool, problem: str, wait: float, deadline: float
    ) -> None:
        """Sleep before the next attempt, or raise `ClusterUnavailable` when there is none."""
        if not retryable or attempt > self.max_retries:
            suffix = f" after {attempt} attempts" if attempt > 1 else ""
            raise ClusterUnavailable(f"{problem}{suffix}")
        left = deadline - asyncio.get_running_loop().time()
        if wait >= left:
            raise ClusterUnavailable(f"{problem}; no time left to retry within the {self.timeout:g}s timeout")
        logger.info("retrying %s in %.2fs (attempt %d): %s", what, wait, attempt, problem)
        await asyncio.sleep(wait)

    def failure_of(
        self, code: int, body: bytes, what: str, kind: WorkloadKind, namespace: str, name: str | None
    ) -> Exception:
        """The exception for a 4xx answer (or one not retried), from its `Status` body."""
        status = _status_of(body)
        message = str(status.get("message") or status.get("reason") or f"HTTP {code}")
        reason = status.get("reason")
        target = name or ""
        if code == 401:
            return ClusterUnavailable(
                f"the Kubernetes API at {self.server} rejected the credentials (401 Unauthorized)"
            )
        if code == 403:
            return AccessDenied(f"the Kubernetes API refused access (403 Forbidden): {message}")
        if code == 404 and name is not None:
            return WorkloadNotFound(kind, namespace, name)
        if code == 409:
            return WorkloadConflict(kind, namespace, target, message, already_exists=reason == "AlreadyExists")
        if code in (400, 422):
            causes = (status.get("details") or {}).get("causes") or []
            problems = tuple(
                FieldProblem(str(c.get("field", "")), str(c.get("message", "")))
                for c in causes
                if isinstance(c, Mapping)
            )
            return InvalidWorkload(kind, namespace, target, message, problems)
        return ClusterUnavailable(f"unexpected answer from the Kubernetes API: HTTP {code} {message} ({what})")
