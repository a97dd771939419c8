// A small client of the graphql-transport-ws protocol (the `graphql-ws` library's protocol, which
// strawberry serves): connection_init → connection_ack, subscribe/next/error/complete, ping/pong.
// One subscription per connection; reconnects with backoff and jitter, and tells its owner when a
// connection is back so it can catch up on what it missed.

const PROTOCOL = "graphql-transport-ws";
const ACK_TIMEOUT_MS = 10_000;
const MAX_BACKOFF_MS = 30_000;
// Close codes after which reconnecting cannot help (bad request, unauthorised, forbidden, ...).
const FATAL_CLOSE_CODES = new Set([4400, 4401, 4403, 4406, 4409]);

/**
 * subscribe({ url, query, variables, connectionParams, onNext, onConnected, onGiveUp })
 * → { close() }. `onConnected(reconnected)` runs on every acknowledged connection; `onGiveUp(reason)`
 * once the server refuses for good or no connection was ever acknowledged after `maxFailures` tries.
 */
export function subscribe({ url, query, variables, connectionParams, onNext, onConnected, onGiveUp, maxFailures = 3 }) {
  let socket = null;
  let closed = false;
  let failures = 0;
  let everAcknowledged = false;
  let retryTimer = null;

  function scheduleRetry(reason) {
    failures += 1;
    if (!everAcknowledged && failures >= maxFailures) {
      closed = true;
      onGiveUp?.(reason);
      return;
    }
    const backoff = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(failures, 6));
    retryTimer = setTimeout(connect, backoff / 2 + Math.random() * (backoff / 2));
  }

  function connect() {
    if (closed) return;
    let acknowledged = false;
    const ws = new WebSocket(url, PROTOCOL);
    socket = ws;
    const ackTimer = setTimeout(() => ws.close(4408, "Connection initialisation timeout"), ACK_TIMEOUT_MS);

    ws.addEventListener("open", () => {
      ws.send(JSON.stringify({ type: "connection_init", payload: connectionParams?.() ?? {} }));
    });
    ws.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        ws.close(4400, "Invalid message");
        return;
      }
      switch (message.type) {
        case "connection_ack": {
          clearTimeout(ackTimer);
          acknowledged = true;
          const reconnected = everAcknowledged;
          everAcknowledged = true;
          failures = 0;
          ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query, variables } }));
          onConnected?.(reconnected);
          break;
        }
        case "next":
          if (message.payload?.data) onNext(message.payload.data);
          break;
        case "ping":
          ws.send(JSON.stringify({ type: "pong" }));
          break;
        case "error":
          // The subscription itself was refused (e.g. a document the server does not know).
          closed = true;
          ws.close(1000, "Subscription refused");
          onGiveUp?.(message.payload?.[0]?.message ?? "the server refused the subscription");
          break;
        case "complete":
          ws.close(1000, "Completed");
          break;
        default:
          break;
      }
    });
    ws.addEventListener("close", (event) => {
      clearTimeout(ackTimer);
      if (socket === ws) socket = null;
      if (closed) return;
      if (FATAL_CLOSE_CODES.has(event.code)) {
        closed = true;
        onGiveUp?.(event.reason || `closed with ${event.code}`);
        return;
      }
      scheduleRetry(acknowledged ? "connection dropped" : event.reason || "could not connect");
    });
  }

  connect();
  return {
    close() {
      closed = true;
      clearTimeout(retryTimer);
      if (socket && socket.readyState <= WebSocket.OPEN) {
        if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ id: "1", type: "complete" }));
        socket.close(1000, "Normal closure");
      }
    },
  };
}
