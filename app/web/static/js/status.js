// Statuses in a person's words, their badges, and which actions make sense in each.
import { h } from "./dom.js";

export const STATUSES = [
  ["HEALTHY", "Healthy", "✓"],
  ["PROGRESSING", "Progressing", "↻"],
  ["WAKING", "Waking", "☀"],
  ["HIBERNATING", "Hibernating", "☾"],
  ["PARTIALLY_HIBERNATED", "Partially hibernated", "◐"],
  ["REDUCED", "Reduced", "◔"],
  ["STOPPED", "Stopped by its owner", "■"],
  ["DEGRADED", "Degraded", "⚠"],
  ["MISSING", "Missing", "✕"],
  ["UNKNOWN", "Unknown", "?"],
  ["NOT_DEPLOYED", "Not deployed", "○"],
];
const WORDS = new Map(STATUSES.map(([status, word]) => [status, word]));
const ICONS = new Map(STATUSES.map(([status, , icon]) => [status, icon]));

export const HIBERNATED = new Set(["HIBERNATING", "PARTIALLY_HIBERNATED"]);
const RUNNING = new Set(["HEALTHY", "PROGRESSING", "DEGRADED", "WAKING"]);
// Awake at a reduced count: it can be hibernated to 0, or woken to its original replicas.
const REDUCED = "REDUCED";

export function statusWord(status) {
  return WORDS.get(status) ?? status;
}

/** The word carries the meaning; the colour and icon only repeat it. */
export function badge(status) {
  return h(
    "span",
    { class: "badge", dataset: { status } },
    h("span", { class: "icon", "aria-hidden": "true" }, ICONS.get(status) ?? "•"),
    h("span", { class: "word" }, statusWord(status)),
  );
}

/** "Deploy", "Hibernate", "Wake": what an app environment in this status can be asked to do. */
export function actionsFor(status) {
  const actions = ["Deploy"];
  if (RUNNING.has(status) || status === "PARTIALLY_HIBERNATED" || status === REDUCED) actions.push("Hibernate");
  if (HIBERNATED.has(status) || status === REDUCED) actions.push("Wake");
  return actions;
}

/** Whether the viewer's token may deploy, hibernate and wake in this environment. */
export function mayOperate(viewer, environment) {
  if (!viewer || viewer.role === "VIEWER") return false;
  return viewer.environments === null || viewer.environments.includes(environment);
}
