"""`KubernetesGateway`: the `ClusterGateway` over kubernetes-asyncio.

Design points:

- One `ApiClient` (one aiohttp session and connection pool) per gateway, created on first use so a
  gateway can be built outside the event loop; `close()` releases it.
- The generated API methods are called with `_preload_content=False` and the JSON is parsed
  straight into `Workload` (`app.cluster.manifests`).
- Every call goes through `ApiCaller` (`app.cluster.api_calls`): one deadline, retries, and a
  token bucket (`rate` requests/s, `burst`) per gateway.
- Patches are sent as strategic merge patches carrying `metadata.resourceVersion`: maps merge and
  `None` deletes as in a JSON merge patch, containers merge by name, and the API server answers 409
  when the object changed since it was read.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from kubernetes_asyncio.client import ApiClient, AppsV1Api, BatchV1Api, Configuration
from kubernetes_asyncio.config import load_incluster_config, load_kube_config

from app.cluster.api_calls import ApiCaller
from app.cluster.client_session import proxy_from_environment, without_per_request_env_lookups
from app.cluster.gateway import ClusterUnavailable, InvalidWorkload
from app.cluster.manifests import deployment_manifest, is_map, workload_from_manifest
from app.cluster.rate_limit import RateLimitExceeded, TokenBucket
from app.cluster.watching import WatchEvent, WatchExpired, events_of
from app.domain.workloads import Workload, WorkloadKind

STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
# API servers send a bookmark about every minute; a watch silent twice that long is dead.
WATCH_READ_TIMEOUT = 120.0

_Operation = Callable[..., Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class _KindApi:
    plural: str
    list: _Operation
    list_all: _Operation  # in all namespaces
    read: _Operation
    patch: _Operation


def _pem_file(data: str, prefix: str, suffix: str) -> str:
    """A private temporary file holding PEM (given as PEM or base64 of PEM), for the TLS library."""
    text = data if "-----BEGIN" in data else base64.b64decode(data).decode("ascii")
    handle, path = tempfile.mkstemp(prefix=prefix, suffix=suffix)
    with os.fdopen(handle, "w") as file:
        file.write(text)
    return path


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
        self.list_page_size = max(1, int(list_page_size))
        self.limiter = TokenBucket(rate, burst)
        self._calls = ApiCaller(
            str(configuration.host),
            timeout=self.timeout,
            limiter=self.limiter,
            max_retries=max(0, int(max_retries)),
            max_retry_after=float(max_retry_after),
            backoff_seconds=float(backoff_seconds),
        )
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
        *,
        client_certificate_data: str | None = None,
        client_key_data: str | None = None,
        **options: Any,
    ) -> KubernetesGateway:
        """From an API server URL, a bearer token, a CA and a client certificate and key (PEM, or base64
        of PEM as in a kubeconfig)."""
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
        if client_certificate_data and client_key_data:
            configuration.cert_file = _pem_file(client_certificate_data, "hibernia-client-", ".crt")
            configuration.key_file = _pem_file(client_key_data, "hibernia-client-", ".key")
            cleanup = (*cleanup, configuration.cert_file, configuration.key_file)
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
            proxy = proxy_from_environment(self.configuration)  # before anything needs closing
            client = ApiClient(self.configuration)
            client.user_agent = "hibernia/0.1 (kubernetes-asyncio)"
            self._connector_session = without_per_request_env_lookups(client, proxy)
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
        return (await self.list_versioned(namespace, kind, label_selector))[0]

    async def list_versioned(
        self, namespace: str | None, kind: WorkloadKind, label_selector: str
    ) -> tuple[list[Workload], str]:
        api = self._api(kind)
        version = ""
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

            body = await self._calls.call(f"list {api.plural} in {where}", kind, where, None, page, deadline=deadline)
            workloads.extend(workload_from_manifest(kind, item) for item in body.get("items") or [] if is_map(item))
            metadata = body.get("metadata") or {}
            # The pages of one list are one snapshot: the first page's resourceVersion is the list's.
            version = version or str(metadata.get("resourceVersion") or "")
            continue_token = metadata.get("continue") or None
            if not continue_token:
                break
        workloads.sort(key=lambda w: (w.namespace, w.name))
        return workloads, version

    async def watch(
        self,
        namespace: str | None,
        kind: WorkloadKind,
        label_selector: str,
        resource_version: str,
        timeout_seconds: int,
    ) -> AsyncIterator[WatchEvent]:
        """The events of one kind after `resource_version`, until the server ends the watch after
        `timeout_seconds`; bookmarks included. Raises WatchExpired when the version is too old."""
        api = self._api(kind)
        where = "all namespaces" if namespace is None else namespace
        try:
            await self.limiter.acquire(max_wait=self.timeout)
        except RateLimitExceeded as error:
            raise ClusterUnavailable(f"client-side rate limit leaves no slot to watch {api.plural}: {error}") from None
        options: dict[str, Any] = {
            "watch": True,
            "allow_watch_bookmarks": True,
            "timeout_seconds": timeout_seconds,
            "resource_version": resource_version,
            "_preload_content": False,
            # No total: a watch lasts minutes. A stream silent past the read timeout is dead.
            "_request_timeout": aiohttp.ClientTimeout(
                total=None, connect=self.timeout, sock_connect=self.timeout, sock_read=WATCH_READ_TIMEOUT
            ),
        }
        if label_selector:
            options["label_selector"] = label_selector
        try:
            if namespace is None:
                response = await api.list_all(**options)
            else:
                response = await api.list(namespace, **options)
        except (aiohttp.ClientError, TimeoutError) as error:
            raise ClusterUnavailable(f"cannot watch {api.plural} in {where} at {self.server}: {error}") from None
        if response.status != 200:
            body = await response.read()
            response.release()
            if response.status == 410:
                raise WatchExpired(f"watching {api.plural} in {where} from {resource_version}: 410 Gone")
            raise self._calls.failure_of(response.status, body, f"watch {api.plural} in {where}", kind, where, None)
        async for event in events_of(kind, response, resource_version):
            yield event

    async def get_workload(self, namespace: str, kind: WorkloadKind, name: str) -> Workload:
        api = self._api(kind)

        def read(timeout: float) -> Awaitable[Any]:
            return api.read(name, namespace, _preload_content=False, _request_timeout=timeout)

        return workload_from_manifest(
            kind, await self._calls.call(f"get {api.plural}/{name}", kind, namespace, name, read)
        )

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
        body = copy.deepcopy(patch)
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

        answer = await self._calls.call(f"patch {api.plural}/{name}", kind, namespace, name, send, write=True)
        return workload_from_manifest(kind, answer)

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

        answer = await self._calls.call(
            f"create deployments/{name}", WorkloadKind.DEPLOYMENT, namespace, name, send, idempotent=False, write=True
        )
        return workload_from_manifest(WorkloadKind.DEPLOYMENT, answer)
