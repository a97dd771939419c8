// The overview's filter and order live in the URL (?search=&environment=&team=&status=&sort=&after=),
// so a view is shareable and reload and the back button work.

// ?sort= → the API's AppEnvironmentOrder; the first is the default.
export const SORTS = {
  app: { label: "App name", order: { field: "APP_NAME", direction: "ASC" } },
  environment: { label: "Environment", order: { field: "ENVIRONMENT_NAME", direction: "ASC" } },
  changed: { label: "Status changed, newest first", order: { field: "STATUS_SINCE", direction: "DESC" } },
};

export function filterFromUrl(url = new URL(window.location.href)) {
  const params = url.searchParams;
  return {
    search: params.get("search") ?? "",
    environments: params.getAll("environment"),
    teams: params.getAll("team"),
    statuses: params.getAll("status"),
    sort: params.get("sort") in SORTS ? params.get("sort") : "app",
    after: params.get("after"),
  };
}

export function urlForFilter(filter) {
  const params = new URLSearchParams();
  if (filter.search) params.set("search", filter.search);
  for (const environment of filter.environments) params.append("environment", environment);
  for (const team of filter.teams) params.append("team", team);
  for (const status of filter.statuses) params.append("status", status);
  if (filter.sort !== "app") params.set("sort", filter.sort);
  if (filter.after) params.set("after", filter.after);
  const query = params.toString();
  return query ? `/?${query}` : "/";
}

/** The API's AppFilter: only the parts that are set. */
export function apiFilter(filter) {
  const result = {};
  if (filter.search) result.search = filter.search;
  if (filter.environments.length) result.environments = filter.environments;
  if (filter.teams.length) result.teams = filter.teams;
  if (filter.statuses.length) result.statuses = filter.statuses;
  return result;
}
