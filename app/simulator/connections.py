"""The simulator's TCP connections: found by request, reset on demand, and those held open by the
server (watches, late answers) closed when it goes offline.

An ASGI application cannot reach the socket under a request: the scope carries the peer address
(`scope["client"]`) but not the transport. uvicorn lets its host choose the HTTP protocol class
(`uvicorn.Config(http=...)`, a documented option), so the simulator serves with a subclass of
uvicorn's h11 protocol (`ConnectionRegistry.protocol_class()`) that records each connection's
transport under its peer address from `connection_made` to `connection_lost`, the asyncio
`Protocol` contract. A request finds its connection by `scope["client"]`, which uvicorn computes
from the same transport with the same function, and a live peer address names one connection only.

A *reset* sets `SO_LINGER` to a zero timeout and aborts the transport: the kernel then sends RST
instead of FIN, so the client reads "connection reset by peer" and never an HTTP answer, exactly as
when a proxy or a crashing API server drops the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Iterator

from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

Peer = tuple[str, int]


def _peer(peer: object) -> Peer | None:
    if not isinstance(peer, list | tuple) or len(peer) != 2:
        return None
    return str(peer[0]), int(peer[1])


class ConnectionRegistry:
    """The open connections of one simulated cluster, by peer address."""

    def __init__(self) -> None:
        self._transports: dict[Peer, asyncio.Transport] = {}
        self._held: dict[Peer, int] = {}

    def __len__(self) -> int:
        return len(self._transports)

    def protocol_class(self) -> type[asyncio.Protocol]:
        """uvicorn's h11 protocol, recording its connections here."""
        registry = self

        class TrackedH11Protocol(H11Protocol):
            def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
                super().connection_made(transport)
                if self.client is not None:
                    registry._transports[self.client] = transport

            def connection_lost(self, exc: Exception | None) -> None:
                if self.client is not None and registry._transports.get(self.client) is self.transport:
                    del registry._transports[self.client]
                super().connection_lost(exc)

        return TrackedH11Protocol

    def _find(self, peer: object) -> asyncio.Transport | None:
        key = _peer(peer)
        return self._transports.get(key) if key is not None else None

    def reset(self, peer: object) -> bool:
        """Reset the connection of `peer` (a scope's `client`); False when it is not known."""
        transport = self._find(peer)
        if transport is None:
            return False
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
        return True

    def close(self, peer: object) -> None:
        """Close the connection of `peer` at once, dropping what it has not yet sent."""
        transport = self._find(peer)
        if transport is not None:
            transport.abort()

    @contextlib.contextmanager
    def held(self, peer: object) -> Iterator[None]:
        """Mark the connection of `peer` as held open by the server (a watch, a late answer)."""
        key = _peer(peer)
        if key is not None:
            self._held[key] = self._held.get(key, 0) + 1
        try:
            yield
        finally:
            if key is not None:
                self._held[key] -= 1
                if not self._held[key]:
                    del self._held[key]

    def close_held(self) -> None:
        """Close the connections held open by the server (going offline): watches and held
        answers end, and their clients see the connection closed. Requests being served
        otherwise finish, as when an API server stops gracefully."""
        for key in list(self._held):
            transport = self._transports.get(key)
            if transport is not None:
                transport.abort()


class ConnectionReset(Response):
    """Not an answer: the request's TCP connection is reset (see the module docstring)."""

    def __init__(self, registry: ConnectionRegistry) -> None:
        super().__init__(status_code=204)
        self._registry = registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._registry.reset(scope.get("client")):
            raise RuntimeError("cannot reset the connection: the simulator is not served by SimulatedCluster")
        # Return once uvicorn has seen the connection go; returning earlier, without an answer,
        # would make it report an application that ended without a response.
        while (await receive())["type"] != "http.disconnect":
            pass
