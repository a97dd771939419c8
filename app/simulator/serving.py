"""Serving an ASGI app with uvicorn as a task of the caller's event loop, stoppable and restartable
on the same address (a cluster that goes offline and comes back)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Generator

import uvicorn
from starlette.types import ASGIApp

from app.simulator.connections import ConnectionRegistry


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its host unless told otherwise, and closes
    the connections it holds open (watches, late answers) when it shuts down."""

    def __init__(self, config: uvicorn.Config, handle_signals: bool, connections: ConnectionRegistry) -> None:
        super().__init__(config)
        self._handle_signals = handle_signals
        self._connections = connections

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn waits for requests under way, and a watch lasts half an hour: on Ctrl-C the
        # simulator would hang, then cancel the streams with a traceback. An API server that
        # stops closes its watches; their clients reconnect.
        self._connections.close_held()
        await super().shutdown(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # Not uvicorn's: it raises the signal again once shut down, which asyncio.run turns into
        # a KeyboardInterrupt traceback on every Ctrl-C. The first SIGINT or SIGTERM stops
        # serving, a second one stops at once.
        if not self._handle_signals:
            yield
            return
        loop = asyncio.get_running_loop()
        originals = {caught: signal.getsignal(caught) for caught in (signal.SIGINT, signal.SIGTERM)}
        for caught in originals:
            loop.add_signal_handler(caught, self.handle_exit, caught, None)
        try:
            yield
        finally:
            for caught, original in originals.items():
                loop.remove_signal_handler(caught)
                signal.signal(caught, original)


class HttpServer:
    """One app, served on one address at a time, its connections recorded in `connections`."""

    def __init__(self, app: ASGIApp, connections: ConnectionRegistry, *, handle_signals: bool = False) -> None:
        self.app = app
        self.connections = connections
        self._handle_signals = handle_signals
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.host = "127.0.0.1"
        self.port = 0
        self.url: str | None = None

    @property
    def serving(self) -> bool:
        return self._server is not None

    async def start(self, host: str, port: int) -> str:
        """Listen on host:port (0: a free port, remembered for the next start); return the URL."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted connections only when the
        # listening socket says TCP; without it every answer waits ~40 ms for a delayed ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind((host, port))
            sock.listen(128)
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        self.host, self.port = host, sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            # uvicorn's h11 protocol, recording connections so that faults can reset them.
            http=self.connections.protocol_class(),
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        server = _Server(config, self._handle_signals, self.connections)
        task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]), name="simulator-http")
        # Known at once, so that stop() cleans up even when this wait is cancelled.
        self._server, self._task = server, task
        while not server.started:
            if task.done():
                self._server, self._task = None, None
                sock.close()
                task.result()
                raise RuntimeError("the simulator's HTTP server exited during startup")
            await asyncio.sleep(0.005)
        shown_host = f"[{host}]" if family == socket.AF_INET6 else host
        self.url = f"http://{shown_host}:{self.port}"
        return self.url

    async def stop(self) -> None:
        """Stop listening, close idle connections and those held open (watches, late answers);
        requests being served finish. Idempotent."""
        server, task = self._server, self._task
        self._server, self._task = None, None
        if server is None or task is None:
            return
        server.should_exit = True
        server.force_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=5)
        except TimeoutError:  # pragma: no cover - uvicorn did not stop in time
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # uvicorn leaves busy connections open when forced to exit: watches and held answers would
        # go on being served by a cluster that is down. Requests being served otherwise finish.
        self.connections.close_held()

    async def wait_closed(self) -> None:
        """Until the server exits (a signal, when signals are handled)."""
        if self._task is not None:
            await asyncio.shield(self._task)
