"""`KubernetesGateway`: the `ClusterGateway` over kubernetes-asyncio.

Design points:

- One `ApiClient` (one aiohttp session and connection pool) per gateway, created on first use so a
  gateway can be built outside the event loop; `close()` releases it.
- The generated API methods are called with `_preload_content=False` and the JSON is parsed here
  straight into `Workload` (`workload_from_manifest`): the client's model deserialisation is by
  far the slowest part of a LIST.
- Every public call is bounded by `timeout` seconds in total: rate-limit waits, retries and
  Retry-After waits included. A wait that cannot fit in what is left fails at once.
- Retries (at most `max_retries`): 429 honouring `Retry-After` (capped by `max_retry_after`), 5xx
  and connection errors with exponential backoff. A create is retried only when the server
  certainly did not act on it (429, 503, connection not established).
- A token bucket (`rate` requests/s, `burst`) limits the requests of one gateway.
- Patches are sent as strategic merge patches carrying `metadata.resourceVersion`: maps merge and
  `None` deletes as in a JSON merge patch, containers merge by name, and the API server answers 409
  when the object changed since it was read.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email.utils
import json
import logging
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from kubernetes_asyncio.client import ApiClient, AppsV1Api, BatchV1Api, Configuration
from kubernetes_asyncio.config import load_incluster_config, load_kube_config
from yarl import URL

from app.cluster.gateway import (
    AccessDenied,
    ClusterUnavailable,
    FieldProblem,
    InvalidWorkload,
    WorkloadConflict,
    WorkloadNotFound,
    pod_template_path,
)
from app.cluster.json_tree import clone
from app.domain.workloads import RELEASE_LABEL, Workload, WorkloadKind

logger = logging.getLogger(__name__)

NAME_LABEL = "app.kubernetes.io/name"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"

_Operation = Callable[..., Awaitable[Any]]


# ---- conversion ----------------------------------------------------------------------------------


def _int(value: Any, default: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        return default
    return value


def _is_map(value: Any) -> bool:
    # JSON gives dicts: checked first, as the Mapping ABC check costs ten times more (every list
    # item goes through here a dozen times).
    return type(value) is dict or isinstance(value, Mapping)


def _string_map(value: Any) -> dict[str, str]:
    if not _is_map(value):
        return {}
    return {str(k): str(v) for k, v in value.items() if v is not None}


def _dig(obj: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not _is_map(obj):
            return None
        obj = obj.get(part)
    return obj


def workload_from_manifest(kind: WorkloadKind, obj: Mapping[str, Any]) -> Workload:
    """A `Workload` from the JSON of a Deployment, StatefulSet or CronJob (list items included)."""
    metadata = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    containers = _dig(obj, (*pod_template_path(kind), "spec", "containers")) or []
    containers = [c for c in containers if _is_map(c)]
    images = tuple(str(c.get("image") or "") for c in containers)
    generation = _int(metadata.get("generation"), 1)
    common: dict[str, Any] = {
        "kind": kind,
        "name": str(metadata.get("name", "")),
        "namespace": str(metadata.get("namespace", "")),
        "resource_version": str(metadata.get("resourceVersion", "")),
        "generation": generation,
        "labels": _string_map(metadata.get("labels")),
        "annotations": _string_map(metadata.get("annotations")),
        "images": images,
        "container_names": tuple(str(c.get("name") or "") for c in containers if _is_map(c) and c.get("image")),
    }
    if kind is WorkloadKind.CRON_JOB:
        # A CronJob has no rollout: it is always "observed".
        return Workload(
            desired_replicas=0,
            observed_generation=generation,
            suspended=spec.get("suspend") is True,
            **common,
        )
    progressing = next(
        (c for c in status.get("conditions") or [] if _is_map(c) and c.get("type") == "Progressing"),
        None,
    )
    return Workload(
        desired_replicas=_int(spec.get("replicas"), 1),
        ready_replicas=_int(status.get("readyReplicas"), 0),
        updated_replicas=_int(status.get("updatedReplicas"), 0),
        available_replicas=_int(status.get("availableReplicas"), 0),
        observed_generation=_int(status.get("observedGeneration"), 0),
        progress_deadline_exceeded=progressing is not None and progressing.get("reason") == "ProgressDeadlineExceeded",
        progress_deadline_seconds=_int(spec.get("progressDeadlineSeconds"), 600),
        **common,
    )


def deployment_manifest(
    namespace: str, name: str, release: str, image: str, replicas: int, container_name: str
) -> dict[str, Any]:
    """The Deployment Hibernia creates on an app environment's first deploy."""
    selector = {RELEASE_LABEL: release, NAME_LABEL: name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {**selector, MANAGED_BY_LABEL: "hibernia"},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(selector)},
            "template": {
                "metadata": {"labels": dict(selector)},
                "spec": {"containers": [{"name": container_name, "image": image}]},
            },
        },
    }


# ---- rate limiting -------------------------------------------------------------------------------


class RateLimitExceeded(Exception):
    """The token bucket cannot give a token within the time the caller has left."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"the next request slot is {wait:.2f}s away")
        self.wait = wait


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up; a request takes one token.

    Callers reserve a token at once (the balance may go negative) and sleep until it is theirs,
    so concurrent callers are served in arrival order without a lock.
    """

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = float(rate)
        self.burst = int(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    async def acquire(self, max_wait: float | None = None) -> None:
        """Take a token, waiting for it; `RateLimitExceeded` if that would take over `max_wait`."""
        self._refill()
        self._tokens -= 1
        if self._tokens >= 0:
            return
        wait = -self._tokens / self.rate
        if max_wait is not None and wait > max_wait:
            self._tokens += 1
            raise RateLimitExceeded(wait)
        try:
            await asyncio.sleep(wait)
        except BaseException:
            self._tokens += 1
            raise


# ---- the gateway ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _KindApi:
    plural: str
    list: _Operation
    list_all: _Operation  # in all namespaces
    read: _Operation
    patch: _Operation


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


def _proxy_from_environment(configuration: Configuration) -> tuple[str | None, dict[str, str] | None]:
    """The proxy for the API server from HTTP(S)_PROXY / NO_PROXY, unless the kubeconfig set one."""
    if configuration.proxy:
        return None, None
    try:
        proxy, proxy_auth = get_env_proxy_for_url(URL(str(configuration.host)))
    except LookupError:
        return None, None
    except ValueError as error:
        raise ClusterUnavailable(f"the proxy set in the environment is not usable: {error}") from error
    headers = None if proxy_auth is None else {str(aiohttp.hdrs.PROXY_AUTHORIZATION): proxy_auth.encode()}
    return str(proxy), headers


def _without_per_request_env_lookups(
    client: ApiClient, proxy: tuple[str | None, dict[str, str] | None]
) -> aiohttp.ClientSession:
    """Replaces kubernetes-asyncio's HTTP session by one that does not read the environment per request.

    kubernetes-asyncio opens its aiohttp session with `trust_env=True`, so every request looks up
    ~/.netrc and the proxy variables in a worker thread: two thread hops per request, which halved
    the rate of PATCHes a bulk deploy can send. A server's environment does not change while it
    runs, so the proxy is looked up once (`_proxy_from_environment`) and passed on. Credentials come
    from the kubeconfig, never from ~/.netrc.

    Returns the original session, which owns the connection pool the new one borrows: close it
    after the client.
    """
    rest = client.rest_client
    url, headers = proxy
    if url is not None:
        rest.proxy = url
        if headers is not None:
            rest.proxy_headers = headers
    original: aiohttp.ClientSession = rest.pool_manager
    rest.pool_manager = aiohttp.ClientSession(
        connector=original.connector, connector_owner=False, trust_env=False, read_bufsize=2**21
    )
    return original


class KubernetesGateway:
    """A `ClusterGateway` for one cluster (one kubernetes-asyncio `Configuration`)."""

    def __init__(
        self,
        configuration: Configuration,
        *,
        timeout: float = 10.0,
        rate: float = 20.0,
        burst: int = 40,
        max_retries: int = 3,
        max_retry_after: float = 10.0,
        backoff_seconds: float = 0.05,
        list_page_size: int = 500,
        cleanup_files: tuple[str, ...] = (),
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be > 0")
        self.configuration = configuration
        self.timeout = float(timeout)
        self.max_retries = max(0, int(max_retries))
        self.max_retry_after = float(max_retry_after)
        self.backoff_seconds = float(backoff_seconds)
        self.list_page_size = max(1, int(list_page_size))
        self.limiter = TokenBucket(rate, burst)
        self._cleanup_files = list(cleanup_files)
        self._client: ApiClient | None = None
        self._connector_session: aiohttp.ClientSession | None = None  # owns the connection pool
        self._kinds: dict[WorkloadKind, _KindApi] = {}
        self._create_deployment_op: _Operation | None = None
        self._closed = False

    # ---- construction ------------------------------------------------------------------------

    @classmethod
    def from_server(
        cls,
        server: str,
        token: str | None = None,
        ca_data: str | None = None,
        insecure_skip_tls_verify: bool = False,
        **options: Any,
    ) -> KubernetesGateway:
        """From an API server URL, a bearer token and a CA (PEM, or base64 of PEM as in a kubeconfig)."""
        configuration = Configuration(host=server.rstrip("/"))
        if token:
            configuration.api_key = {"BearerToken": token}
            configuration.api_key_prefix = {"BearerToken": "Bearer"}
        cleanup: tuple[str, ...] = ()
        if ca_data:
            pem = ca_data if "-----BEGIN" in ca_data else base64.b64decode(ca_data).decode("ascii")
            handle, path = tempfile.mkstemp(prefix="hibernia-ca-", suffix=".crt")
            with os.fdopen(handle, "w") as file:
                file.write(pem)
            configuration.ssl_ca_cert = path
            cleanup = (path,)
        configuration.verify_ssl = not insecure_skip_tls_verify
        return cls(configuration, cleanup_files=cleanup, **options)

    @classmethod
    async def from_kubeconfig(
        cls, path: str | None = None, context: str | None = None, **options: Any
    ) -> KubernetesGateway:
        """From a kubeconfig file (default: $KUBECONFIG or ~/.kube/config) and context (default: current)."""
        configuration = Configuration()
        await load_kube_config(
            config_file=path, context=context, client_configuration=configuration, persist_config=False
        )
        return cls(configuration, **options)

    @classmethod
    def from_in_cluster(cls, **options: Any) -> KubernetesGateway:
        """From the service account Kubernetes mounts into a pod (KUBERNETES_SERVICE_HOST/PORT and the
        token and CA under /var/run/secrets/kubernetes.io/serviceaccount); the token is re-read when
        it rotates."""
        return cls.from_service_account(None, None, **options)

    @classmethod
    def from_service_account(cls, token_path: str | None, ca_path: str | None, **options: Any) -> KubernetesGateway:
        """`from_in_cluster` with the token and CA files elsewhere (None: the standard paths)."""
        configuration = Configuration()
        paths: dict[str, str] = {}
        if token_path is not None:
            paths["token_filename"] = token_path
        if ca_path is not None:
            paths["cert_filename"] = ca_path
        load_incluster_config(client_configuration=configuration, **paths)  # type: ignore[no-untyped-call]
        return cls(configuration, **options)

    @property
    def server(self) -> str:
        return str(self.configuration.host)

    def _api(self, kind: WorkloadKind) -> _KindApi:
        if self._closed:
            raise ClusterUnavailable("the cluster gateway is closed")
        if self._client is None:
            proxy = _proxy_from_environment(self.configuration)  # before anything needs closing
            client = ApiClient(self.configuration)
            client.user_agent = "hibernia/0.1 (kubernetes-asyncio)"
            self._connector_session = _without_per_request_env_lookups(client, proxy)
            self._client = client
            apps, batch = AppsV1Api(client), BatchV1Api(client)
            self._kinds = {
                WorkloadKind.DEPLOYMENT: _KindApi(
                    "deployments",
                    apps.list_namespaced_deployment,
                    apps.list_deployment_for_all_namespaces,
                    apps.read_namespaced_deployment,
                    apps.patch_namespaced_deployment,
                ),
                WorkloadKind.STATEFUL_SET: _KindApi(
                    "statefulsets",
                    apps.list_namespaced_stateful_set,
                    apps.list_stateful_set_for_all_namespaces,
                    apps.read_namespaced_stateful_set,
                    apps.patch_namespaced_stateful_set,
                ),
                WorkloadKind.CRON_JOB: _KindApi(
                    "cronjobs",
                    batch.list_namespaced_cron_job,
                    batch.list_cron_job_for_all_namespaces,
                    batch.read_namespaced_cron_job,
                    batch.patch_namespaced_cron_job,
                ),
            }
            self._create_deployment_op = apps.create_namespaced_deployment
        return self._kinds[kind]

    async def close(self) -> None:
        self._closed = True
        client, self._client = self._client, None
        session, self._connector_session = self._connector_session, None
        try:
            if client is not None:
                await client.close()
        finally:
            if session is not None:
                await session.close()
        for path in self._cleanup_files:
            with contextlib.suppress(OSError):
                os.unlink(path)
        self._cleanup_files.clear()

    async def __aenter__(self) -> KubernetesGateway:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # ---- the protocol ------------------------------------------------------------------------

    async def list_workloads(self, namespace: str | None, kind: WorkloadKind, label_selector: str) -> list[Workload]:
        api = self._api(kind)
        where = "all namespaces" if namespace is None else namespace
        workloads: list[Workload] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        continue_token: str | None = None
        while True:
            options: dict[str, Any] = {"limit": self.list_page_size}
            if label_selector:
                options["label_selector"] = label_selector
            if continue_token:
                options["_continue"] = continue_token

            def page(timeout: float, options: dict[str, Any] = options) -> Awaitable[Any]:
                if namespace is None:
                    return api.list_all(_preload_content=False, _request_timeout=timeout, **options)
                return api.list(namespace, _preload_content=False, _request_timeout=timeout, **options)

            body = await self._call(f"list {api.plural} in {where}", kind, where, None, page, deadline=deadline)
            workloads.extend(workload_from_manifest(kind, item) for item in body.get("items") or [] if _is_map(item))
            continue_token = (body.get("metadata") or {}).get("continue") or None
            if not continue_token:
                break
        workloads.sort(key=lambda w: (w.namespace, w.name))
        return workloads

    async def get_workload(self, namespace: str, kind: WorkloadKind, name: str) -> Workload:
        api = self._api(kind)

        def read(timeout: float) -> Awaitable[Any]:
            return api.read(name, namespace, _preload_content=False, _request_timeout=timeout)

        return workload_from_manifest(kind, await self._call(f"get {api.plural}/{name}", kind, namespace, name, read))

    async def patch_workload(
        self,
        namespace: str,
        kind: WorkloadKind,
        name: str,
        patch: dict[str, Any],
        *,
        resource_version: str,
    ) -> Workload:
        api = self._api(kind)
        body = clone(patch)
        metadata = body.setdefault("metadata", {})
        if not isinstance(metadata, dict):
            raise InvalidWorkload(kind, namespace, name, "the patch's metadata must be an object")
        metadata["resourceVersion"] = resource_version

        def send(timeout: float) -> Awaitable[Any]:
            return api.patch(
                name,
                namespace,
                body,
                _content_type=STRATEGIC_MERGE_PATCH,
                _preload_content=False,
                _request_timeout=timeout,
            )

        return workload_from_manifest(kind, await self._call(f"patch {api.plural}/{name}", kind, namespace, name, send))

    async def create_deployment(
        self,
        namespace: str,
        name: str,
        release: str,
        image: str,
        replicas: int,
        container_name: str,
    ) -> Workload:
        self._api(WorkloadKind.DEPLOYMENT)
        body = deployment_manifest(namespace, name, release, image, replicas, container_name)
        create = self._create_deployment_op
        assert create is not None

        def send(timeout: float) -> Awaitable[Any]:
            return create(namespace, body, _preload_content=False, _request_timeout=timeout)

        answer = await self._call(
            f"create deployments/{name}", WorkloadKind.DEPLOYMENT, namespace, name, send, idempotent=False
        )
        return workload_from_manifest(WorkloadKind.DEPLOYMENT, answer)

    # ---- one call: rate limit, timeout, retries, errors --------------------------------------

    async def _send(self, operation: Callable[[float], Awaitable[Any]], remaining: float) -> _Answer:
        response: aiohttp.ClientResponse = await operation(max(remaining, 0.001))
        try:
            body = await response.read()
        finally:
            response.release()
        return _Answer(response.status, body, response.headers.get("Retry-After"))

    async def _call(
        self,
        what: str,
        kind: WorkloadKind,
        namespace: str,
        name: str | None,
        operation: Callable[[float], Awaitable[Any]],
        *,
        deadline: float | None = None,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout if deadline is None else deadline
        try:
            async with asyncio.timeout_at(deadline):
                return await self._attempts(what, kind, namespace, name, operation, deadline, idempotent)
        except TimeoutError:
            raise ClusterUnavailable(
                f"the Kubernetes API at {self.server} did not answer within {self.timeout:g}s ({what})"
            ) from None

    async def _attempts(
        self,
        what: str,
        kind: WorkloadKind,
        namespace: str,
        name: str | None,
        operation: Callable[[float], Awaitable[Any]],
        deadline: float,
        idempotent: bool,
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
                retryable = idempotent or isinstance(exc, aiohttp.ClientConnectorError)
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
                    wait = min(retry_after, self.max_retry_after) if retry_after is not None else self._backoff(attempt)
                    problem = f"the Kubernetes API failed with HTTP {answer.status}: {message} ({what})"
                    retryable = idempotent or answer.status == 503
                await self._before_retry(what, attempt, retryable, problem, wait, deadline)
                continue
            raise self._failure(answer.status, status, message, what, kind, namespace, name)

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

    def _failure(
        self,
        code: int,
        status: dict[str, Any],
        message: str,
        what: str,
        kind: WorkloadKind,
        namespace: str,
        name: str | None,
    ) -> Exception:
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
