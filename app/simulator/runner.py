"""`SimulatedCluster`: the simulator served inside the caller's event loop, with in-process helpers."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from app.simulator.api import build_app
from app.simulator.controller import Controller
from app.simulator.demo import seed_demo
from app.simulator.faults import FaultInjector, Faults
from app.simulator.history import WatchHistory
from app.simulator.manifests import (
    cronjob_manifest,
    deployment_manifest,
    hpa_manifest,
    statefulset_manifest,
)
from app.simulator.recording import RecordedRequest, RequestLog
from app.simulator.resources import resource_for_kind
from app.simulator.serving import HttpServer
from app.simulator.state import SimulatorState
from app.simulator.store import ObjectStore
from app.simulator.watches import WatchHub

logger = logging.getLogger(__name__)


class SimulatedCluster:
    """A Kubernetes API server stand-in, with in-process helpers to seed and inspect it.

    `rollout_seconds` is how long the controller takes to bring ready replicas to the desired
    count (0: at once, inside the write); `status_churn_seconds` > 0 makes it write the status of
    a workload under rollout at least that often (see `app.simulator.controller`). Both can be
    changed later (`cluster.controller.rollout_seconds = 2`, or the `/_simulator/controller` admin
    endpoint); `reset()` restores them. `token`, when set, is the bearer token every API request
    must carry. The state (objects, faults, request log) lives as long as this object, across
    `go_offline()`/`go_online()`.
    """

    def __init__(
        self,
        *,
        rollout_seconds: float = 0.0,
        status_churn_seconds: float = 0.0,
        faults: Faults | None = None,
        token: str | None = None,
        handle_signals: bool = False,
    ) -> None:
        self.store = ObjectStore()
        self.controller = Controller(self.store, rollout_seconds, status_churn_seconds=status_churn_seconds)
        self.fault_injector = FaultInjector(faults)
        self.log = RequestLog()
        self.history = WatchHistory(self.store)
        self.watches = WatchHub(self.store, self.history)
        self.state = SimulatorState(self.store, self.controller, self.fault_injector, self.log, self.watches, token)
        self.app = build_app(self.state)
        self._http = HttpServer(self.app, self.state.connections, handle_signals=handle_signals)

    # ---- serving -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL (`http://127.0.0.1:PORT`); raises before `start()`."""
        if self._http.url is None:
            raise RuntimeError("the simulated cluster is not started")
        return self._http.url

    @property
    def online(self) -> bool:
        return self._http.serving

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on host:port (0: a free port) as a task of the running loop; return the base URL."""
        if self._http.serving:
            return self.url
        await self._http.start(host, port)
        self.controller.start()
        return self.url

    async def stop(self) -> None:
        """Stop serving and stop the controller. Idempotent."""
        await self._http.stop()
        await self.controller.stop()

    async def go_offline(self) -> None:
        """Close the listening socket, idle connections, open watches and held late answers:
        clients now get *connection refused*, like a cluster whose API server is down (requests
        being served finish first, as in a graceful stop). State is kept."""
        await self._http.stop()

    async def go_online(self) -> None:
        """Listen again on the same address after `go_offline()`."""
        if not self._http.serving:
            await self._http.start(self._http.host, self._http.port)

    async def wait_closed(self) -> None:
        """Until the server exits (a signal, when `handle_signals` is set)."""
        await self._http.wait_closed()

    async def __aenter__(self) -> SimulatedCluster:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # ---- faults and knobs --------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        """The fault knobs in force (mutable: e.g. `cluster.faults.throttle_next = 2`)."""
        return self.fault_injector.faults

    def set_faults(self, faults: Faults | None = None, **knobs: Any) -> Faults:
        """Replace the fault knobs: `set_faults(error_rate=0.5, seed=3)`; no argument heals."""
        new = Faults.from_json(knobs, faults or Faults())
        self.fault_injector.set(new)
        return new

    def grant(self, token: str, *, deny: list[str] | tuple[str, ...] = ()) -> None:
        """Accept another bearer token, with these verbs forbidden to it ("patch deployments",
        "list *"); an empty `deny` grants everything. `reset()` forgets it."""
        self.state.access.grant(token, deny)

    def set_stuck(self, *workloads: str) -> None:
        """Make these workloads (`namespace/name`) stuck; every other one recovers."""
        self.controller.set_stuck(set(workloads))

    def reset(self, *, objects: bool = True) -> None:
        """Heal every fault, unstick every workload, restore the controller's timings given at
        construction and the watch settings, clear the request log and (by default) the objects;
        deleting the objects also ends open watches and forgets the watch history."""
        self.state.reset(objects=objects)

    def drop_watches(self) -> int:
        """End every open watch (clients see their stream end); returns how many were open."""
        return self.watches.drop_all()

    def forget_watch_history(self) -> None:
        """Forget the watch history: a watch from any earlier resourceVersion gets 410 Expired."""
        self.history.forget()

    # ---- request log -------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every API request answered so far, oldest first."""
        return self.log.requests

    def count(
        self,
        verb: str | None = None,
        kind: str | None = None,
        namespace: str | None = None,
        name: str | None = None,
        subresource: str | None = None,
        status: int | None = None,
    ) -> int:
        """How many API requests match (e.g. `count("list", "Deployment", "dev")`)."""
        return self.log.count(verb, kind, namespace, name, subresource, status)

    def clear_requests(self) -> None:
        self.log.clear()

    # ---- seeding and inspection --------------------------------------------------------------

    def add(self, manifest: Mapping[str, Any]) -> dict[str, Any]:
        """Create any served object from its manifest, bypassing HTTP, faults and the log."""
        rt = resource_for_kind(str(manifest["kind"]))
        return self.store.create(rt, str(manifest["metadata"]["namespace"]), dict(manifest))

    def add_deployment(
        self,
        namespace: str,
        name: str,
        release: str | None,
        replicas: int = 1,
        image: str = "nginx:1.27",
        *,
        container_name: str | None = None,
        annotations: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        hibernated_from: int | None = None,
    ) -> dict[str, Any]:
        """A Deployment labelled `app.kubernetes.io/instance=<release>` (None: no such label).
        `hibernated_from=N` stores it hibernated: 0 replicas and the hibernation annotation N."""
        return self.add(
            deployment_manifest(
                namespace,
                name,
                release,
                replicas,
                image,
                container_name=container_name,
                annotations=annotations,
                labels=labels,
                hibernated_from=hibernated_from,
            )
        )

    def add_statefulset(
        self,
        namespace: str,
        name: str,
        release: str | None,
        replicas: int = 1,
        image: str = "postgres:16",
        *,
        container_name: str | None = None,
        annotations: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        hibernated_from: int | None = None,
    ) -> dict[str, Any]:
        return self.add(
            statefulset_manifest(
                namespace,
                name,
                release,
                replicas,
                image,
                container_name=container_name,
                annotations=annotations,
                labels=labels,
                hibernated_from=hibernated_from,
            )
        )

    def add_cronjob(
        self,
        namespace: str,
        name: str,
        release: str | None,
        image: str = "busybox:1.36",
        *,
        schedule: str = "*/15 * * * *",
        suspend: bool = False,
        container_name: str | None = None,
        annotations: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        return self.add(
            cronjob_manifest(
                namespace,
                name,
                release,
                image,
                schedule=schedule,
                suspend=suspend,
                container_name=container_name,
                annotations=annotations,
                labels=labels,
            )
        )

    def add_hpa(
        self,
        namespace: str,
        name: str,
        target_name: str,
        *,
        target_kind: str = "Deployment",
        min_replicas: int = 1,
        max_replicas: int = 5,
        release: str | None = None,
    ) -> dict[str, Any]:
        return self.add(
            hpa_manifest(
                namespace,
                name,
                target_name,
                target_kind=target_kind,
                min_replicas=min_replicas,
                max_replicas=max_replicas,
                release=release,
            )
        )

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any]:
        """The stored object (a copy), by Kind name; raises the 404 `ApiError` when absent."""
        return self.store.get(resource_for_kind(kind), namespace, name)

    def patch(self, kind: str, namespace: str, name: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        """A JSON merge patch applied in process, like a change made behind Hibernia's back."""
        return self.store.patch(resource_for_kind(kind), namespace, name, "application/merge-patch+json", dict(patch))

    def seed_demo(self) -> dict[str, list[str]]:
        """Create the demo namespaces and apps; returns namespace → releases."""
        return seed_demo(self)


async def serve_simulator(
    host: str = "127.0.0.1",
    port: int = 8001,
    rollout_seconds: float = 5.0,
    seed: str | None = None,
    status_churn_seconds: float = 0.0,
) -> None:
    """Serve a simulated cluster until interrupted (SIGINT/SIGTERM). `seed="demo"` seeds demo apps."""
    cluster = SimulatedCluster(
        rollout_seconds=rollout_seconds, status_churn_seconds=status_churn_seconds, handle_signals=True
    )
    if seed == "demo":
        cluster.seed_demo()
    elif seed:
        raise ValueError(f"unknown seed {seed!r}; the known seed is 'demo'")
    try:
        url = await cluster.start(host, port)
        print(
            f"Kubernetes API simulator serving at {url} (rollout {rollout_seconds:g}s"
            f"{', demo apps' if seed else ''}; admin endpoints under {url}/_simulator/)\n"
            f"Try: kubectl --server {url} get deploy --all-namespaces",
            flush=True,
        )
        await cluster.wait_closed()
    finally:
        await cluster.stop()
