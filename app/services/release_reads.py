"""Coalesces the workload reads of a bulk operation: one LIST per (namespace, kind) for many apps.

Each app of a bulk operation still reads its workloads inside its own lease; reads that arrive
together are answered by one LIST with `app.kubernetes.io/instance in (...)`, so a group of apps in
one namespace costs a few LISTs instead of three per app.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from app.cluster.gateway import ClusterGateway
from app.domain.workloads import Workload
from app.services.workload_lists import read_releases

_Waiter = tuple[str, "asyncio.Future[list[Workload]]"]

# Set for the tasks of one bulk operation; None elsewhere (a single operation reads on its own).
_current: ContextVar[ReleaseReadBatcher | None] = ContextVar("hibernia_release_reads", default=None)


class ReleaseReadBatcher:
    def __init__(self, window_seconds: float = 0.025) -> None:
        self.window_seconds = window_seconds
        self._pending: dict[tuple[int, str], list[_Waiter]] = {}
        self._gateways: dict[tuple[int, str], ClusterGateway] = {}
        self._lists: set[asyncio.Task[None]] = set()  # strong references while they run

    async def read(self, gateway: ClusterGateway, cluster_id: int, namespace: str, release: str) -> list[Workload]:
        key = (cluster_id, namespace)
        future: asyncio.Future[list[Workload]] = asyncio.get_running_loop().create_future()
        waiters = self._pending.setdefault(key, [])
        waiters.append((release, future))
        if len(waiters) == 1:
            self._gateways[key] = gateway
            asyncio.get_running_loop().call_later(self.window_seconds, self._flush, key)
        return await future

    def _flush(self, key: tuple[int, str]) -> None:
        waiters = self._pending.pop(key, [])
        gateway = self._gateways.pop(key)
        if waiters:
            task = asyncio.ensure_future(self._list(gateway, key[1], waiters))
            self._lists.add(task)
            task.add_done_callback(self._lists.discard)

    async def _list(self, gateway: ClusterGateway, namespace: str, waiters: list[_Waiter]) -> None:
        try:
            found = await read_releases(gateway, namespace, [release for release, _ in waiters])
        except Exception as error:
            for _, future in waiters:
                if not future.done():
                    future.set_exception(error)
            return
        for release, future in waiters:
            if not future.done():
                future.set_result(found[release])


def current_batcher() -> ReleaseReadBatcher | None:
    return _current.get()


@contextmanager
def batched_release_reads() -> Iterator[ReleaseReadBatcher]:
    """Within this block (and the tasks it starts), release reads are coalesced."""
    batcher = ReleaseReadBatcher()
    token = _current.set(batcher)
    try:
        yield batcher
    finally:
        _current.reset(token)
