// Sends the overview's first request as soon as this small module is in (an async script in
// index.html), while the rest of the page's modules are still loading; the overview takes its
// answer instead of asking again.
import { SORTS, apiFilter, filterFromUrl } from "./filters.js";
import { request } from "./graphql.js";

export const PAGE_SIZE = 100;
let pending = null;

export function overviewVariables(filter, withContext) {
  return {
    first: PAGE_SIZE,
    after: filter.after,
    filter: apiFilter(filter),
    orderBy: SORTS[filter.sort].order,
    withContext,
  };
}

/** The request already under way for exactly these variables, once; otherwise null. */
export function takeFirstPage(variables) {
  const taken = pending;
  pending = null;
  return taken && taken.key === JSON.stringify(variables) ? taken.answer : null;
}

if (window.location.pathname === "/") {
  const variables = overviewVariables(filterFromUrl(), true);
  const answer = request("overview", variables);
  answer.catch(() => {}); // the overview reports failures when it takes the answer
  pending = { key: JSON.stringify(variables), answer };
}
