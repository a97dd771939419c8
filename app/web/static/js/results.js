// The "Results" region: one line per app of the last action, with the server's own words.
import { announce, h } from "./dom.js";
import { statusWord } from "./status.js";

const OUTCOMES = { APPLIED: "Done", UNCHANGED: "Nothing to do", SKIPPED: "Skipped", FAILED: "Failed" };

/** results: [{ app, environment, outcome, status, errors: [{code, message}] }] */
export function showResults(section, title, results) {
  const list = section.querySelector("ul");
  list.replaceChildren(
    ...results.map((result) => {
      const outcome = OUTCOMES[result.outcome] ?? result.outcome;
      const details = result.errors.length
        ? result.errors.map((error) => error.message).join(" ")
        : result.status
          ? `Now ${statusWord(result.status.status).toLowerCase()}: ${result.status.reason}`
          : "";
      return h(
        "li",
        { dataset: { app: result.app, environment: result.environment, outcome: result.outcome } },
        h("strong", {}, `${result.app} on ${result.environment}`),
        ` — ${outcome}${details ? `. ${details}` : "."}`,
      );
    }),
  );
  let summary = section.querySelector(".results-summary");
  if (!summary) {
    summary = h("p", { class: "results-summary" });
    list.before(summary);
  }
  summary.textContent = title;
  section.hidden = false;
  const failed = results.filter((result) => result.outcome === "FAILED").length;
  announce(`${title}: ${results.length - failed} of ${results.length} done${failed ? `, ${failed} failed` : ""}.`);
}
