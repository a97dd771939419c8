// Boots the page: routes on the path (history API), keeps what the first request learnt about the
// viewer and the server, and shows who is signed in.
import { h } from "./dom.js";
import { GraphQLRequestError } from "./graphql.js";
import { showOverview } from "./overview.js";
import { signOut, token } from "./session.js";

const main = document.getElementById("main");
const ROLE_WORDS = { VIEWER: "viewer", DEPLOYER: "deployer", ADMIN: "admin" };

const context = {
  loaded: false,
  viewer: null,
  serverConfig: null,
  environments: [],
  teams: [],
  listed: false, // environments and teams come with the overview's first load only
  /** Takes the viewer and server facts from a response that asked for them ($withContext). */
  set(data) {
    this.viewer = data.viewer;
    this.serverConfig = data.serverConfig;
    if (data.environments) {
      this.environments = data.environments;
      this.teams = data.teams;
      this.listed = true;
    }
    this.loaded = true;
    showWho();
  },
};

function showWho() {
  const who = document.getElementById("who");
  const viewer = context.viewer;
  const reach = viewer.environments === null ? "all environments" : viewer.environments.join(", ") || "no environment";
  const signOutButton = h("button", { type: "button", class: "link" }, "Sign out");
  signOutButton.addEventListener("click", () => {
    signOut();
    window.location.reload();
  });
  who.replaceChildren(
    h("span", {}, `${viewer.name} · ${ROLE_WORDS[viewer.role]} · ${reach}`),
    ...(token() ? [signOutButton] : []),
  );
  who.hidden = false;
  // The playground is off where tokens are required (production).
  document.querySelector(".playground-link").hidden = Boolean(token());
}

let leave = null;

async function render() {
  leave?.();
  leave = null;
  const match = window.location.pathname.match(/^\/apps\/([^/]+)\/([^/]+)\/?$/);
  try {
    if (match) {
      const { showAppEnvironment } = await import("./app-environment.js");
      leave = await showAppEnvironment(main, context, decodeURIComponent(match[1]), decodeURIComponent(match[2]));
    } else {
      document.title = "Hibernia";
      leave = await showOverview(main, context);
    }
  } catch (failure) {
    const message =
      failure instanceof GraphQLRequestError ? failure.message : `The page could not load: ${failure.message}`;
    main.replaceChildren(h("p", { class: "failure", role: "alert" }, message));
  }
}

export function navigate(url) {
  history.pushState({}, "", url);
  render().then(() => main.focus());
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-route]");
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  navigate(link.getAttribute("href"));
});
window.addEventListener("popstate", () => render());
render();
