// The overview's table body, updated in place by key (app, environment): a refresh changes only
// the rows whose data changed, and keeps the keyboard focus where it was.
import { h } from "./dom.js";
import { actionsFor, badge, mayOperate } from "./status.js";
import { timeElement } from "./time.js";

export function rowKey(app, environment) {
  return JSON.stringify([app, environment]);
}

export function appEnvironmentUrl(app, environment) {
  return `/apps/${encodeURIComponent(app)}/${encodeURIComponent(environment)}`;
}

function cell(label, ...children) {
  return h("td", { "data-label": label }, ...children);
}

let labels = 0;
const busy = new Set(); // keys of rows an operation is working on

function buildCells(node, { viewer, selected, onAction, onSelect }) {
  const app = node.app.name;
  const environment = node.environment.name;
  const key = rowKey(app, environment);
  const operable = mayOperate(viewer, environment);
  // Buttons are named "Deploy", "Hibernate", "Wake"; their description says on what.
  const labelId = `row-target-${++labels}`;
  const checkbox = operable
    ? h("input", {
        type: "checkbox",
        "aria-label": `Select ${app} on ${environment}`,
        "data-focus-key": "select",
        checked: selected.has(key),
        onchange: (event) => onSelect(node, event.target.checked),
      })
    : null;
  const buttons = operable
    ? actionsFor(node.status).map((action) =>
        h(
          "button",
          {
            type: "button",
            "aria-describedby": labelId,
            "aria-disabled": String(busy.has(key)),
            "data-focus-key": action,
            onclick: (event) => {
              if (event.currentTarget.getAttribute("aria-disabled") !== "true") onAction(action, [node]);
            },
          },
          action,
        ),
      )
    : [];
  return [
    h("td", { class: "select-column" }, checkbox),
    cell(
      "App",
      h("a", { href: appEnvironmentUrl(app, environment), "data-route": true, "data-focus-key": "link" }, app),
      h("span", { id: labelId, class: "visually-hidden" }, `${app} on ${environment}`),
    ),
    cell("Team", node.app.team),
    cell("Environment", environment),
    cell("Status", badge(node.status)),
    cell("Reason", node.statusReason),
    cell("Since", timeElement(node.statusSince)),
    cell("Observed", timeElement(node.statusObservedAt)),
    cell("Actions", h("div", { class: "row-actions" }, buttons)),
  ];
}

function signature(node, selected, viewer) {
  const key = rowKey(node.app.name, node.environment.name);
  return JSON.stringify([node, selected.has(key), viewer?.role, viewer?.environments]);
}

/** Relative times ("3 minutes ago") move on even when nothing else changes. */
export function refreshTimes(container) {
  for (const time of container.querySelectorAll("time")) time.replaceWith(timeElement(time.dateTime));
}

function updateRow(row, node, options) {
  const next = signature(node, options.selected, options.viewer);
  if (row.dataset.signature === next) {
    refreshTimes(row);
    return;
  }
  const focused = row.contains(document.activeElement) ? document.activeElement.dataset.focusKey : null;
  row.dataset.signature = next;
  row.dataset.status = node.status;
  row.replaceChildren(...buildCells(node, options));
  if (focused) {
    // The same control, or its counterpart once the status changed (Hibernate ⇄ Wake), or the first.
    const counterpart = { Hibernate: "Wake", Wake: "Hibernate" }[focused];
    const again =
      row.querySelector(`[data-focus-key="${focused}"]`) ??
      row.querySelector(`[data-focus-key="${counterpart}"]`) ??
      row.querySelector("[data-focus-key]");
    again?.focus();
  }
}

/** Makes `tbody` show `nodes` in order, reusing the rows it has. */
export function renderRows(tbody, nodes, options) {
  const existing = new Map([...tbody.rows].map((row) => [row.dataset.key, row]));
  nodes.forEach((node, index) => {
    const key = rowKey(node.app.name, node.environment.name);
    let row = existing.get(key);
    existing.delete(key);
    if (!row) {
      row = h("tr", { dataset: { key, app: node.app.name, environment: node.environment.name } });
    }
    updateRow(row, node, options);
    if (tbody.rows[index] !== row) tbody.insertBefore(row, tbody.rows[index] ?? null);
  });
  for (const row of existing.values()) row.remove();
}

/** The rows with a pushed status change applied (the refresh that follows brings the rest). */
export function withChange(nodes, change) {
  const changed = change.appEnvironment;
  const key = rowKey(changed.app.name, changed.environment.name);
  return nodes.map((node) =>
    rowKey(node.app.name, node.environment.name) === key
      ? { ...node, status: change.toStatus, statusReason: change.reason, statusSince: change.at }
      : node,
  );
}

/**
 * Marks the rows an operation is working on: busy, their buttons inert until it is done. Inert by
 * aria-disabled rather than `disabled`, so a keyboard user's focus stays where it was.
 */
export function setBusy(tbody, nodes, isBusy) {
  for (const node of nodes) {
    const key = rowKey(node.app.name, node.environment.name);
    if (isBusy) busy.add(key);
    else busy.delete(key);
  }
  for (const row of tbody.rows) {
    const rowBusy = busy.has(row.dataset.key);
    row.setAttribute("aria-busy", String(rowBusy));
    for (const button of row.querySelectorAll("button")) button.setAttribute("aria-disabled", String(rowBusy));
  }
}
