// Building DOM nodes without innerHTML: text is always text, never markup.

/**
 * h("a", { href: "/x", class: "link" }, "text", child) — attributes set as attributes, except
 * `on*` functions (listeners) and `dataset`; null and false attributes are left out.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

/** A clone of a <template> in index.html, by id. */
export function fromTemplate(id) {
  return document.getElementById(id).content.firstElementChild.cloneNode(true);
}

/** Says something to screen readers (and nothing on screen). */
export function announce(message) {
  const region = document.getElementById("announcer");
  region.textContent = "";
  // A fresh text node after a tick is announced even when the message repeats.
  setTimeout(() => {
    region.textContent = message;
  }, 50);
}
