// The API token, where the server asks for one (production): kept for this browser tab's session
// only (sessionStorage), sent as `Authorization: Bearer`.

const KEY = "hibernia.token";

export function token() {
  return sessionStorage.getItem(KEY);
}

export function authorization() {
  const value = token();
  return value ? { authorization: `Bearer ${value}` } : {};
}

export function signOut() {
  sessionStorage.removeItem(KEY);
}

function parsed() {
  // The first request may be answered before the body is parsed (first-page.js runs early).
  if (document.readyState !== "loading") return Promise.resolve();
  return new Promise((resolve) => document.addEventListener("DOMContentLoaded", resolve, { once: true }));
}

/** Shows the token dialog (with why it is shown) and resolves once a token is stored. */
export async function askForToken(reason) {
  await parsed();
  const dialog = document.getElementById("token-dialog");
  const form = dialog.querySelector("form");
  const input = form.elements.token;
  dialog.querySelector(".reason").textContent = reason;
  input.value = "";
  // Nothing on the page works without a token: Escape does not dismiss the question.
  dialog.oncancel = (event) => event.preventDefault();
  return new Promise((resolve) => {
    form.addEventListener(
      "submit",
      (event) => {
        event.preventDefault();
        sessionStorage.setItem(KEY, input.value.trim());
        dialog.close();
        resolve();
      },
      { once: true },
    );
    if (!dialog.open) dialog.showModal();
    input.focus();
  });
}
