"""The page's graphql-transport-ws client (graphql-ws.js, live.js) against a scripted protocol peer.

The peer is a tiny Starlette app in this process: it serves the page's modules and answers
WebSocket upgrades at /graphql as each test scripts it, so the client's side of the protocol —
connection_init with the token, subscribe, next, ping/pong, complete, reconnection after a drop,
giving up (and so polling) when refused — is checked before the server has the subscription.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from app.web.pages import STATIC
from tests.fixtures.servers import free_port

PROTOCOL = "graphql-transport-ws"
QUERY = "subscription Changes($filter: StatusChangeFilter) { statusChanges(filter: $filter) { toStatus } }"
Behaviour = Callable[[WebSocket, "Peer"], Awaitable[None]]


@dataclass
class Peer:
    behaviour: Behaviour | None = None
    connections: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    outbox: asyncio.Queue[dict[str, Any] | None] = field(default_factory=asyncio.Queue)

    async def receive(self, socket: WebSocket) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(await socket.receive_text())
        self.received.append(message)
        return message


async def acknowledge_then_relay(socket: WebSocket, peer: Peer) -> None:
    """A well-behaved server: ack, take the subscription, then send what the test queues (None: drop)."""
    await socket.accept(subprotocol=PROTOCOL)
    assert (await peer.receive(socket))["type"] == "connection_init"
    await socket.send_text(json.dumps({"type": "connection_ack"}))
    assert (await peer.receive(socket))["type"] == "subscribe"
    relay = asyncio.create_task(_relay(socket, peer))
    try:
        while True:
            await peer.receive(socket)
    except WebSocketDisconnect:
        pass
    finally:
        relay.cancel()


async def _relay(socket: WebSocket, peer: Peer) -> None:
    while (message := await peer.outbox.get()) is not None:
        await socket.send_text(json.dumps(message))
    await socket.close(1001, "going away")


async def refuse_after_init(socket: WebSocket, peer: Peer) -> None:
    await socket.accept(subprotocol=PROTOCOL)
    await peer.receive(socket)
    await socket.close(4403, "Forbidden")


async def reject_the_upgrade(socket: WebSocket, peer: Peer) -> None:
    await socket.close()  # before accepting: the upgrade is answered 403, as a blocking proxy might


@pytest.fixture
async def peer() -> AsyncIterator[tuple[Peer, str]]:
    state = Peer()

    async def graphql(socket: WebSocket) -> None:
        state.connections += 1
        assert state.behaviour is not None
        await state.behaviour(socket, state)

    async def blank(_request: Any) -> HTMLResponse:
        return HTMLResponse("<!doctype html><title>peer</title>")

    app = Starlette(
        routes=[
            Route("/", blank),
            WebSocketRoute("/graphql", graphql),
            Mount("/static", StaticFiles(directory=STATIC)),
        ]
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield state, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def _start(browser: Any, origin: str, script: str) -> Any:
    context = await browser.new_context(base_url=origin)
    page = await context.new_page()
    await page.goto("/")
    await page.evaluate(script, f"ws://{origin.removeprefix('http://')}/graphql")
    return page


SUBSCRIBE = f"""async (url) => {{
  const {{ subscribe }} = await import("/static/js/graphql-ws.js");
  window.events = [];
  window.subscription = subscribe({{
    url,
    query: {json.dumps(QUERY)},
    variables: {{ filter: {{ environments: ["prod"] }} }},
    connectionParams: () => ({{ Authorization: "Bearer s3cret" }}),
    onNext: (data) => window.events.push(["next", data]),
    onConnected: (reconnected) => window.events.push(["connected", reconnected]),
    onGiveUp: (reason) => window.events.push(["giveUp", reason]),
  }});
}}"""


async def _events(page: Any, count: int, seconds: float = 10) -> list[Any]:
    for _ in range(int(seconds / 0.05)):
        events: list[Any] = await page.evaluate("window.events")
        if len(events) >= count:
            return events
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {count} events, got {await page.evaluate('window.events')}")


async def test_it_subscribes_with_the_token_and_answers_pings(browser: Any, peer: tuple[Peer, str]) -> None:
    state, origin = peer
    state.behaviour = acknowledge_then_relay
    page = await _start(browser, origin, SUBSCRIBE)
    try:
        await _events(page, 1)
        change = {"statusChanges": {"toStatus": "HIBERNATING"}}
        await state.outbox.put({"id": "1", "type": "next", "payload": {"data": change}})
        await state.outbox.put({"type": "ping"})

        events = await _events(page, 2)
        for _ in range(100):
            if any(m["type"] == "pong" for m in state.received):
                break
            await asyncio.sleep(0.05)
        await page.evaluate("window.subscription.close()")
        for _ in range(100):
            if state.received[-1]["type"] == "complete":
                break
            await asyncio.sleep(0.05)
    finally:
        await page.context.close()

    init, subscribe = state.received[0], state.received[1]
    assert init == {"type": "connection_init", "payload": {"Authorization": "Bearer s3cret"}}
    assert subscribe == {
        "id": "1",
        "type": "subscribe",
        "payload": {"query": QUERY, "variables": {"filter": {"environments": ["prod"]}}},
    }
    assert events[:2] == [["connected", False], ["next", change]]
    assert [m["type"] for m in state.received[2:]] == ["pong", "complete"]


async def test_it_reconnects_after_a_drop_and_says_so(browser: Any, peer: tuple[Peer, str]) -> None:
    state, origin = peer
    state.behaviour = acknowledge_then_relay
    page = await _start(browser, origin, SUBSCRIBE)
    try:
        await _events(page, 1)
        await state.outbox.put(None)  # the server goes away

        events = await _events(page, 2)
    finally:
        await page.context.close()

    assert events == [["connected", False], ["connected", True]], "a reconnection asks the page to catch up"
    assert state.connections == 2
    assert [m["type"] for m in state.received].count("subscribe") == 2


async def test_a_refusal_is_final(browser: Any, peer: tuple[Peer, str]) -> None:
    state, origin = peer
    state.behaviour = refuse_after_init
    page = await _start(browser, origin, SUBSCRIBE)
    try:
        events = await _events(page, 1)
        await asyncio.sleep(1.5)  # longer than the first backoff
    finally:
        await page.context.close()

    assert events == [["giveUp", "Forbidden"]]
    assert state.connections == 1


async def test_where_websockets_are_blocked_the_page_polls(browser: Any, peer: tuple[Peer, str]) -> None:
    state, origin = peer
    state.behaviour = reject_the_upgrade
    watch = """async (url) => {
      const { watch } = await import("/static/js/live.js");
      window.events = [];
      window.live = watch({
        pushes: true,
        filter: {},
        onChange: () => window.events.push(["change"]),
        refresh: async () => window.events.push(["refresh"]),
        onModeChange: (mode) => window.events.push(["mode", mode]),
      });
    }"""
    page = await _start(browser, origin, watch)
    try:
        events = await _events(page, 2, seconds=15)
    finally:
        await page.context.close()

    assert events[:2] == [["mode", "subscription"], ["mode", "polling"]]
    assert state.connections == 3, "three tries, then polling"
