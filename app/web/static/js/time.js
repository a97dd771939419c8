// Times as people read them: "3 min ago", with the exact time on hover and in the markup.
import { h } from "./dom.js";

const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const EXACT = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const UNITS = [
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

export function relative(iso, now = Date.now()) {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  if (Math.abs(seconds) < 10) return "just now";
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return RELATIVE.format(Math.trunc(seconds / size), unit);
  }
  return "just now";
}

export function exact(iso) {
  return EXACT.format(new Date(iso));
}

/** A <time> element; "never" when there is no time. */
export function timeElement(iso) {
  if (!iso) return h("span", { class: "muted" }, "never");
  return h("time", { datetime: iso, title: exact(iso) }, relative(iso));
}
