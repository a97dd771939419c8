// The overview: every app environment with its status, filtered and counted exactly, 100 rows a
// page, kept current (pushed changes or polling), with actions on rows and on a selection.
import { request } from "./graphql.js";
import { h, fromTemplate, announce } from "./dom.js";
import { SORTS, filterFromUrl, urlForFilter } from "./filters.js";
import { overviewVariables, takeFirstPage } from "./first-page.js";
import { runAction } from "./actions.js";
import { watch } from "./live.js";
import { refreshTimes, renderRows, rowKey, setBusy, withChange } from "./rows.js";
import { STATUSES, actionsFor, badge, mayOperate } from "./status.js";

const NUMBER = new Intl.NumberFormat();

function fillSelect(select, names, chosen) {
  const first = select.options[0];
  select.replaceChildren(first, ...names.map((name) => h("option", { value: name }, name)));
  select.value = chosen ?? "";
}

export async function showOverview(main, context) {
  const view = fromTemplate("overview-template");
  const form = view.querySelector("form.filters");
  const tbody = view.querySelector("tbody");
  const results = view.querySelector("section.results");
  const selected = new Map(); // key → row node
  let filter = filterFromUrl();
  let nodes = [];
  let generation = 0;
  let live = null;

  function syncForm() {
    form.elements.search.value = filter.search;
    form.elements.environment.value = filter.environments[0] ?? "";
    form.elements.team.value = filter.teams[0] ?? "";
    form.elements.sort.value = filter.sort;
    for (const box of form.querySelectorAll('input[name="status"]')) box.checked = filter.statuses.includes(box.value);
  }

  function renderCounts(counts) {
    const options = view.querySelector(".status-options");
    const byStatus = new Map(counts.map((row) => [row.status, row.count]));
    if (!options.children.length) {
      for (const [status] of STATUSES) {
        options.append(
          h(
            "label",
            { class: "status-option", dataset: { status } },
            h("input", { type: "checkbox", name: "status", value: status }),
            badge(status),
            h("span", { class: "count" }, ""),
          ),
        );
      }
      syncForm();
    }
    for (const label of options.children) {
      label.querySelector(".count").textContent = NUMBER.format(byStatus.get(label.dataset.status) ?? 0);
    }
    const shown = filter.statuses.length ? filter.statuses : STATUSES.map(([status]) => status);
    return shown.reduce((sum, status) => sum + (byStatus.get(status) ?? 0), 0);
  }

  function renderSelection() {
    const count = selected.size;
    view.querySelector(".selection").textContent =
      count === 0 ? "No rows selected" : `${count} row${count === 1 ? "" : "s"} selected`;
    const statuses = [...selected.values()].map((node) => node.status);
    for (const button of view.querySelectorAll("[data-bulk]")) {
      button.disabled = !statuses.some((status) => actionsFor(status).includes(button.dataset.bulk));
    }
    const pageBox = view.querySelector(".select-page");
    const selectable = nodes.filter((node) => mayOperate(context.viewer, node.environment.name));
    pageBox.checked = selectable.length > 0 && selectable.every((n) => selected.has(rowKey(n.app.name, n.environment.name)));
    pageBox.disabled = selectable.length === 0;
  }

  const rowOptions = () => ({
    viewer: context.viewer,
    selected,
    onAction: (action, targets) => act(action, targets),
    onSelect: (node, checked) => {
      const key = rowKey(node.app.name, node.environment.name);
      if (checked) selected.set(key, node);
      else selected.delete(key);
      renderSelection();
    },
  });

  function render(data) {
    nodes = data.appEnvironments.edges.map((edge) => edge.node);
    for (const node of nodes) {
      const key = rowKey(node.app.name, node.environment.name);
      if (selected.has(key)) selected.set(key, node); // keep the selection's statuses current
    }
    const total = renderCounts(data.statusCounts);
    renderRows(tbody, nodes, rowOptions());
    view.querySelector(".empty").hidden = nodes.length > 0;
    view.querySelector(".page-summary").textContent = nodes.length
      ? `Showing ${NUMBER.format(nodes.length)} of ${NUMBER.format(total)} app environments` +
        (filter.after ? " (a later page)" : "")
      : "";
    view.querySelector(".next-page").hidden = !data.appEnvironments.pageInfo.hasNextPage;
    view.querySelector(".next-page").dataset.cursor = data.appEnvironments.pageInfo.endCursor ?? "";
    view.querySelector(".first-page").hidden = !filter.after;
    renderSelection();
  }

  async function load() {
    const mine = ++generation;
    const withContext = !context.listed;
    const variables = overviewVariables(filter, withContext);
    const data = await (takeFirstPage(variables) ?? request("overview", variables));
    if (mine !== generation) return; // a newer filter's answer wins
    if (withContext) context.set(data);
    if (!form.elements.environment.options[1]) {
      fillSelect(form.elements.environment, context.environments.map((e) => e.name), filter.environments[0]);
      fillSelect(form.elements.team, context.teams, filter.teams[0]);
    }
    render(data);
  }

  const failure = view.querySelector(".failure");
  function showFailure(error) {
    failure.textContent = `Could not read the app environments: ${error.message} The page tries again shortly.`;
    failure.hidden = false;
  }

  /** Reads the page again; a failure is shown (and cleared by the next success), never thrown. */
  async function reload() {
    try {
      await load();
      failure.hidden = true;
      return true;
    } catch (error) {
      showFailure(error);
      return false;
    }
  }

  function changeFilter(change, { replace = false } = {}) {
    filter = { ...filter, ...change, after: change.after ?? null };
    selected.clear();
    history[replace ? "replaceState" : "pushState"]({}, "", urlForFilter(filter));
    reload().then((ok) => {
      if (ok) announce(view.querySelector(".page-summary").textContent || "No app environment matches.");
    });
    restartLive();
  }

  async function act(action, targets) {
    await runAction(action, targets, {
      serverConfig: context.serverConfig,
      resultsSection: results,
      onStart: () => setBusy(tbody, targets, true),
      onDone: async () => {
        setBusy(tbody, targets, false);
        selected.clear();
        await reload();
      },
    });
  }

  function restartLive() {
    live?.close();
    live = watch({
      pushes: context.serverConfig.subscriptionsEnabled,
      filter: { environments: filter.environments.length ? filter.environments : null, teams: filter.teams.length ? filter.teams : null },
      onChange: (change) => {
        // The row shows the new status at once, buttons included; the counts come with the refresh.
        nodes = withChange(nodes, change);
        renderRows(tbody, nodes, rowOptions());
        renderSelection();
        scheduleRefresh();
      },
      refresh: reload,
      onModeChange: (mode) => {
        view.querySelector(".live-mode").textContent =
          mode === "subscription" ? "Live: changes are pushed as they happen." : "Live: refreshed every few seconds.";
      },
    });
  }

  let refreshTimer = null;
  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(reload, 300);
  }

  let searchTimer = null;
  form.addEventListener("submit", (event) => event.preventDefault());
  form.elements.search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => changeFilter({ search: form.elements.search.value.trim() }, { replace: true }), 300);
  });
  form.elements.environment.addEventListener("change", (event) =>
    changeFilter({ environments: event.target.value ? [event.target.value] : [] }),
  );
  form.elements.sort.append(...Object.entries(SORTS).map(([value, { label }]) => h("option", { value }, label)));
  form.elements.sort.addEventListener("change", (event) => changeFilter({ sort: event.target.value }));
  form.elements.team.addEventListener("change", (event) => changeFilter({ teams: event.target.value ? [event.target.value] : [] }));
  form.addEventListener("change", (event) => {
    if (event.target.name !== "status") return;
    const statuses = [...form.querySelectorAll('input[name="status"]:checked')].map((box) => box.value);
    changeFilter({ statuses });
  });
  view.querySelector(".clear-filters").addEventListener("click", () => {
    changeFilter({ search: "", environments: [], teams: [], statuses: [], sort: "app" });
    syncForm();
  });
  view.querySelector(".next-page").addEventListener("click", (event) => {
    filter = { ...filter, after: event.target.dataset.cursor };
    selected.clear(); // a selection is of rows on screen
    history.pushState({}, "", urlForFilter(filter));
    reload().then(() => announce(view.querySelector(".page-summary").textContent));
  });
  view.querySelector(".first-page").addEventListener("click", () => changeFilter({}));
  view.querySelector(".select-page").addEventListener("change", (event) => {
    for (const node of nodes) {
      if (!mayOperate(context.viewer, node.environment.name)) continue;
      const key = rowKey(node.app.name, node.environment.name);
      if (event.target.checked) selected.set(key, node);
      else selected.delete(key);
    }
    renderRows(tbody, nodes, rowOptions());
    renderSelection();
  });
  for (const button of view.querySelectorAll("[data-bulk]")) {
    button.addEventListener("click", () => {
      const action = button.dataset.bulk;
      const targets = [...selected.values()].filter((node) => actionsFor(node.status).includes(action));
      if (targets.length) act(action, targets);
    });
  }

  main.replaceChildren(view);
  syncForm();
  await load();
  restartLive();
  const clock = setInterval(() => refreshTimes(tbody), 30_000);
  return () => {
    clearInterval(clock);
    live?.close();
    clearTimeout(refreshTimer);
    clearTimeout(searchTimer);
    generation += 1;
  };
}
