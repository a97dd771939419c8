// Keeps a view current: pushed status changes over WebSocket where the server offers them
// (serverConfig.subscriptionsEnabled), else — or where WebSockets are blocked — polling.
import { documentText } from "./graphql.js";
import { subscribe } from "./graphql-ws.js";
import { token } from "./session.js";

export const POLL_INTERVAL_MS = 5000;

function socketUrl() {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}/graphql`;
}

class Polling {
  constructor(refresh) {
    this.refresh = refresh;
    this.timer = null;
    this.onVisibility = () => {
      if (document.hidden) this.pause();
      else this.resume(true);
    };
    document.addEventListener("visibilitychange", this.onVisibility);
    this.resume(false);
  }

  pause() {
    clearTimeout(this.timer);
    this.timer = null;
  }

  resume(now) {
    this.pause();
    const tick = async () => {
      try {
        await this.refresh();
      } finally {
        if (this.timer !== null) this.timer = setTimeout(tick, POLL_INTERVAL_MS);
      }
    };
    this.timer = setTimeout(tick, now ? 0 : POLL_INTERVAL_MS);
  }

  close() {
    this.pause();
    document.removeEventListener("visibilitychange", this.onVisibility);
  }
}

/**
 * watch({ pushes, filter, onChange, refresh }) → { mode, close() }.
 * `onChange(statusChange)` gets each pushed change; `refresh()` re-reads the view (after a
 * reconnection, and at each poll). `mode` is "subscription" or "polling" (shown on the page).
 */
export function watch({ pushes, filter, onChange, refresh, onModeChange }) {
  const state = { mode: pushes ? "subscription" : "polling", close: () => {} };
  const poll = () => {
    const polling = new Polling(refresh);
    state.mode = "polling";
    state.close = () => polling.close();
    onModeChange?.(state.mode);
  };
  const handle = {
    get mode() {
      return state.mode;
    },
    close: () => state.close(),
  };
  if (!pushes) {
    poll();
    return handle;
  }
  documentText("status-changes").then((query) => {
    const subscription = subscribe({
      url: socketUrl(),
      query,
      variables: { filter },
      connectionParams: () => (token() ? { Authorization: `Bearer ${token()}` } : {}),
      onNext: (data) => onChange(data.statusChanges),
      onConnected: (reconnected) => {
        if (reconnected) refresh();
      },
      onGiveUp: () => poll(),
    });
    state.close = () => subscription.close();
    onModeChange?.(state.mode);
  });
  return handle;
}
