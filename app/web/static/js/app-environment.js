// One app environment's page: live workloads, the hibernation record, deployments and transitions
// (each paged), and the same actions as on the overview.
import { request } from "./graphql.js";
import { h, fromTemplate } from "./dom.js";
import { runAction } from "./actions.js";
import { watch } from "./live.js";
import { actionsFor, badge, mayOperate, statusWord } from "./status.js";
import { timeElement } from "./time.js";

const KINDS = { DEPLOYMENT: "Deployment", STATEFUL_SET: "StatefulSet", CRON_JOB: "CronJob" };
const OUTCOMES = { RUNNING: "Running", SUCCEEDED: "Succeeded", FAILED: "Failed", SKIPPED: "Skipped" };
const POLICIES = { REFUSE: "Refuse", SKIP: "Skip", WAKE: "Wake first" };
const CAUSES = {
  OBSERVED: "Observed",
  DEPLOY: "Deploy",
  HIBERNATE: "Hibernate",
  UNHIBERNATE: "Wake",
  ATTACH: "Attached",
};

const row = (...cells) => h("tr", {}, cells.map((content) => h("td", {}, content ?? "—")));

/** The rows, or one row saying there are none. */
function rowsOrNone(rows, columns, none) {
  return rows.length ? rows : [h("tr", {}, h("td", { colspan: columns, class: "none" }, none))];
}

function deploymentRow(d) {
  return row(timeElement(d.startedAt), h("code", {}, d.image), OUTCOMES[d.outcome] ?? d.outcome, d.actor, POLICIES[d.onHibernated], d.reason);
}

function transitionRow(t) {
  return row(
    timeElement(t.at),
    h("span", { class: "transition" }, badge(t.fromStatus), " → ", badge(t.toStatus)),
    CAUSES[t.cause] ?? t.cause,
    t.actor,
    t.reason,
  );
}

function workloadRow(w) {
  return row(
    KINDS[w.kind] ?? w.kind,
    w.name,
    String(w.desiredReplicas),
    String(w.readyReplicas),
    w.originalReplicas === null ? null : String(w.originalReplicas),
    w.hibernated ? "Yes" : "No",
    w.images.join(", "),
  );
}

function pager(view, selector, tbody, connection, document, field, toRow, id) {
  const button = view.querySelector(selector);
  let cursor = connection.pageInfo.endCursor;
  button.hidden = !connection.pageInfo.hasNextPage;
  button.onclick = async () => {
    const next = (await request(document, { id, after: cursor })).node[field];
    tbody.append(...next.edges.map((edge) => toRow(edge.node)));
    cursor = next.pageInfo.endCursor;
    button.hidden = !next.pageInfo.hasNextPage;
  };
}

export async function showAppEnvironment(main, context, app, environment) {
  const view = fromTemplate("app-environment-template");
  const results = view.querySelector("section.results");
  let live = null;
  document.title = `${app} on ${environment} · Hibernia`;
  view.querySelector("h1").textContent = `${app} on ${environment}`;
  main.replaceChildren(view);

  async function load() {
    const withContext = !context.loaded;
    const data = await request("app-environment", { app, environment, withContext });
    if (withContext) context.set(data);
    const node = data.appEnvironment;
    if (!node) {
      view.querySelector(".summary").replaceChildren(
        h("p", { role: "alert" }, `There is no app ${app} on environment ${environment} (or your token may not see it).`),
      );
      return null;
    }
    render(node);
    return node;
  }

  function render(node) {
    const liveStatus = node.liveStatus;
    view.querySelector(".summary").replaceChildren(
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Status"),
        h("dd", {}, badge(liveStatus.status), " ", liveStatus.reason),
        h("dt", {}, "Team"),
        h("dd", {}, node.app.team),
        h("dt", {}, "Release"),
        h("dd", {}, node.releaseName, ` (${node.desiredReplicas} replica${node.desiredReplicas === 1 ? "" : "s"} when awake)`),
        h("dt", {}, "Where"),
        h("dd", {}, `namespace ${node.environment.namespace} on cluster ${node.environment.cluster.name}`),
        h("dt", {}, "Status since"),
        h("dd", {}, timeElement(node.statusSince)),
      ),
    );
    const target = { ...node, status: liveStatus.status };
    const buttons = mayOperate(context.viewer, environment)
      ? actionsFor(liveStatus.status).map((action) =>
          h("button", { type: "button", onclick: () => act(action, target) }, action),
        )
      : [];
    view.querySelector(".actions").replaceChildren(...buttons);

    view.querySelector(".live-reason").textContent = `Read from the cluster ${new Date(liveStatus.observedAt).toLocaleTimeString()}: ${statusWord(liveStatus.status)}.`;
    view
      .querySelector("table.workloads tbody")
      .replaceChildren(...rowsOrNone(liveStatus.workloads.map(workloadRow), 7, "No workloads of this release in the cluster."));

    const record = node.hibernation;
    view.querySelector(".hibernation-summary").textContent = record
      ? `Hibernated since ${new Date(record.since).toLocaleString()} by ${record.actor}; waking restores these replicas.`
      : "Nothing is hibernated.";
    view.querySelector("table.hibernation").hidden = !record;
    view.querySelector("table.hibernation tbody").replaceChildren(
      ...(record?.workloads ?? []).map((w) =>
        row(
          KINDS[w.kind] ?? w.kind,
          w.name,
          w.originalReplicas === null ? (w.originalSuspend === null ? null : `suspend: ${w.originalSuspend}`) : String(w.originalReplicas),
          timeElement(w.since),
          w.actor,
        ),
      ),
    );

    const deployments = view.querySelector("table.deployments tbody");
    deployments.replaceChildren(
      ...rowsOrNone(node.deployments.edges.map((edge) => deploymentRow(edge.node)), 6, "No deploys through Hibernia yet."),
    );
    pager(view, ".more-deployments", deployments, node.deployments, "more-deployments", "deployments", deploymentRow, node.id);
    const transitions = view.querySelector("table.transitions tbody");
    transitions.replaceChildren(...node.transitions.edges.map((edge) => transitionRow(edge.node)));
    pager(view, ".more-transitions", transitions, node.transitions, "more-transitions", "transitions", transitionRow, node.id);
  }

  async function act(action, target) {
    await runAction(action, [target], {
      serverConfig: context.serverConfig,
      resultsSection: results,
      onDone: () => load(),
    });
  }

  const node = await load();
  if (node) {
    live = watch({
      pushes: context.serverConfig.subscriptionsEnabled,
      filter: { environments: [environment], apps: [app] },
      onChange: () => load().catch(() => {}),
      refresh: () => load().catch(() => {}),
    });
  }
  return () => live?.close();
}
