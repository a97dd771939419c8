// The deploy dialog. Before anything is sent it says which targets are hibernated — since when,
// by whom — and offers "Wake and deploy", "Skip hibernated apps" (several targets) or "Cancel".
import { h } from "./dom.js";
import { HIBERNATED, statusWord } from "./status.js";
import { exact } from "./time.js";

const POLICIES = { deploy: "REFUSE", wake: "WAKE", skip: "SKIP" };

function hibernatedSince(target) {
  const since = target.hibernation?.since ?? target.statusSince;
  const by = target.hibernation?.actor;
  const word = statusWord(target.status).toLowerCase();
  return `${target.app.name} on ${target.environment.name} is ${word} since ${exact(since)}${by ? ` by ${by}` : ""}.`;
}

function describeTargets(targets) {
  if (targets.length === 1) return `${targets[0].app.name} on ${targets[0].environment.name}`;
  const environments = new Set(targets.map((t) => t.environment.name));
  return `${targets.length} apps on ${[...environments].join(", ")}`;
}

/**
 * Opens the dialog for `targets` (overview rows). `perform(image, policy)` sends the deploy and
 * resolves to the payload errors to show in the dialog (empty: done, the dialog closes).
 */
export function openDeployDialog({ targets, checkEnabled, perform, lastImage }) {
  const dialog = document.getElementById("deploy-dialog");
  const form = dialog.querySelector("form");
  const hibernated = targets.filter((target) => HIBERNATED.has(target.status));
  const warn = checkEnabled && hibernated.length > 0;
  const button = (value) => form.querySelector(`button[value="${value}"]`);

  dialog.querySelector("#deploy-title").textContent = `Deploy to ${describeTargets(targets)}`;
  dialog.querySelector(".targets").textContent =
    targets.length > 1 ? targets.map((t) => `${t.app.name} on ${t.environment.name}`).join(", ") : "";
  const warning = dialog.querySelector(".hibernated-warning");
  warning.hidden = !warn;
  if (warn) {
    const single = targets.length === 1;
    dialog.querySelector(".warning-text").textContent = single
      ? `${hibernatedSince(hibernated[0])} A deploy now would be refused: wake it and deploy, or cancel.`
      : `${hibernated.length} of ${targets.length} selected apps ${hibernated.length === 1 ? "is" : "are"} ` +
        "hibernated. Wake them and deploy to all, skip the hibernated apps, or cancel.";
    dialog
      .querySelector(".hibernated-list")
      .replaceChildren(...(single ? [] : hibernated.map((target) => h("li", {}, hibernatedSince(target)))));
  }
  dialog.querySelector(".check-off").hidden = checkEnabled || hibernated.length === 0;
  // Only the offered choices can be taken; the others are hidden and disabled, so Enter in the
  // Image field deploys only where "Deploy" is offered and never picks a wake by default.
  let offered = new Set();
  const offer = (...values) => {
    offered = new Set(values);
    for (const value of Object.keys(POLICIES)) {
      button(value).hidden = !offered.has(value);
      button(value).disabled = !offered.has(value);
    }
    button("cancel").disabled = false;
  };
  offer(...(warn ? ["wake", ...(targets.length > 1 ? ["skip"] : [])] : ["deploy"]));
  const error = dialog.querySelector(".dialog-error");
  error.hidden = true;
  form.elements.image.value = lastImage ?? "";

  // The browser gives the focus back to the control that opened the dialog; if a pushed change
  // redrew that control's row meanwhile, the same control in the redrawn row takes it instead.
  const opener = document.activeElement;
  const openerRow = opener?.closest?.("tr[data-key]")?.dataset.key;
  const openerControl = opener?.dataset?.focusKey;
  const close = () => {
    form.removeEventListener("submit", onSubmit);
    button("cancel").removeEventListener("click", close);
    if (dialog.open) dialog.close();
    if (opener?.isConnected || !openerRow) return;
    const row = [...document.querySelectorAll("tr[data-key]")].find((tr) => tr.dataset.key === openerRow);
    (row?.querySelector(`[data-focus-key="${openerControl}"]`) ?? row?.querySelector("[data-focus-key]"))?.focus();
  };
  async function onSubmit(event) {
    event.preventDefault();
    const image = form.elements.image.value.trim();
    if (!image) return;
    const choice = event.submitter?.value;
    if (!offered.has(choice)) return;
    for (const b of form.querySelectorAll("button")) b.disabled = true;
    try {
      const errors = await perform(image, POLICIES[choice]);
      if (errors.length === 0) {
        close();
        return;
      }
      error.textContent = errors.map((e) => e.message).join(" ");
      error.hidden = false;
      if (errors.some((e) => e.code === "APP_HIBERNATED")) offered = new Set(["wake"]); // hibernated since the page looked
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    } finally {
      offer(...offered);
    }
  }
  form.addEventListener("submit", onSubmit);
  button("cancel").addEventListener("click", close);
  dialog.addEventListener("close", close, { once: true });
  dialog.showModal();
  form.elements.image.focus();
}
