// Deploy, hibernate and wake, for one row or a selection: single mutations for one app, the bulk
// mutations (one per environment) for several; every app's outcome goes to the Results region.
import { request } from "./graphql.js";
import { confirmAction } from "./confirm-dialog.js";
import { openDeployDialog } from "./deploy-dialog.js";
import { showResults } from "./results.js";

const SINGLE = { Deploy: ["deploy", "deploy"], Hibernate: ["hibernate", "hibernate"], Wake: ["unhibernate", "unhibernate"] };
const BULK = {
  Deploy: ["deploy-many", "deployMany"],
  Hibernate: ["hibernate-many", "hibernateMany"],
  Wake: ["unhibernate-many", "unhibernateMany"],
};
let lastImage = "";

// What a person is asked before hibernating or waking several apps at once.
const CONFIRMATIONS = {
  Hibernate: "Each is scaled to 0; its replicas are recorded, so a wake restores them.",
  Wake: "Each gets back the replicas recorded when it was hibernated.",
};

function byEnvironment(targets) {
  const groups = new Map();
  for (const target of targets) {
    const name = target.environment.name;
    if (!groups.has(name)) groups.set(name, []);
    groups.get(name).push(target.app.name);
  }
  return groups;
}

async function send(action, targets, extra) {
  if (targets.length === 1) {
    const [document, field] = SINGLE[action];
    const target = targets[0];
    const input = { app: target.app.name, environment: target.environment.name, ...extra };
    const payload = (await request(document, { input }))[field];
    return [{ app: input.app, environment: input.environment, ...payload }];
  }
  const [document, field] = BULK[action];
  const results = [];
  for (const [environment, apps] of byEnvironment(targets)) {
    const payload = (await request(document, { input: { environment, apps, ...extra } }))[field];
    if (payload.errors.length) {
      for (const app of apps) results.push({ app, environment, outcome: "FAILED", status: null, errors: payload.errors });
    }
    for (const result of payload.results) results.push({ environment, ...result });
  }
  return results;
}

/**
 * Runs `action` ("Deploy", "Hibernate" or "Wake") on `targets` (overview rows); shows each app's
 * outcome in `resultsSection`, then calls `onDone()` so the view re-reads.
 */
export async function runAction(action, targets, { serverConfig, resultsSection, onStart, onDone }) {
  const title = `${action}: ${targets.length === 1 ? "1 app" : `${targets.length} apps`}`;
  if (action !== "Deploy") {
    if (targets.length > 1) {
      const label = `${action} ${targets.length} apps`;
      const confirmed = await confirmAction({
        title: `${label}?`,
        text: CONFIRMATIONS[action],
        items: targets.map((t) => `${t.app.name} on ${t.environment.name}`),
        confirmLabel: label,
      });
      if (!confirmed) return;
    }
    onStart?.();
    try {
      showResults(resultsSection, title, await send(action, targets, {}));
    } catch (failure) {
      showResults(resultsSection, title, targets.map((t) => failed(t, failure)));
    }
    await onDone();
    return;
  }
  openDeployDialog({
    targets,
    lastImage,
    checkEnabled: serverConfig.hibernationCheckEnabled,
    perform: async (image, onHibernated) => {
      lastImage = image;
      onStart?.();
      let results;
      try {
        results = await send("Deploy", targets, { image, onHibernated });
      } catch (failure) {
        await onDone();
        throw failure;
      }
      // One app refused for a reason the dialog can act on stays in the dialog; the rest is a result.
      if (targets.length === 1 && results[0].errors.length) {
        await onDone();
        return results[0].errors;
      }
      showResults(resultsSection, title, results);
      await onDone();
      return [];
    },
  });
}

function failed(target, failure) {
  return {
    app: target.app.name,
    environment: target.environment.name,
    outcome: "FAILED",
    status: null,
    errors: [{ code: "INTERNAL", message: failure.message }],
  };
}
