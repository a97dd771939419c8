// Asks before an action on several apps at once ("Hibernate 12 apps?"), naming each of them.
import { h } from "./dom.js";

/** Resolves true when the person confirms, false when they cancel (button or Escape). */
export function confirmAction({ title, text, items, confirmLabel }) {
  const dialog = document.getElementById("confirm-dialog");
  const form = dialog.querySelector("form");
  dialog.querySelector("#confirm-title").textContent = title;
  dialog.querySelector(".confirm-text").textContent = text;
  dialog.querySelector(".confirm-list").replaceChildren(...items.map((item) => h("li", {}, item)));
  const confirm = dialog.querySelector(".confirm-button");
  const cancel = dialog.querySelector('button[value="cancel"]');
  confirm.textContent = confirmLabel;
  return new Promise((resolve) => {
    const finish = (answer) => {
      form.removeEventListener("submit", onSubmit);
      cancel.removeEventListener("click", onCancel);
      dialog.removeEventListener("close", onCancel);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const onSubmit = (event) => {
      event.preventDefault();
      finish(true);
    };
    const onCancel = () => finish(false);
    form.addEventListener("submit", onSubmit);
    cancel.addEventListener("click", onCancel);
    dialog.addEventListener("close", onCancel);
    dialog.showModal();
    cancel.focus(); // the safe choice is the default one
  });
}
