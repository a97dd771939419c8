// Runs every graphql-http server audit against the URL given and prints the results as JSON:
// [{"id", "name", "status": "ok" | "warn" | "error", "reason"}]. Used by tests/test_graphql_over_http.py.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql url>');
  process.exit(2);
}
const results = [];
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  const result = await audit.fn();
  results.push({
    id: result.id,
    name: result.name,
    status: result.status,
    reason: result.status === 'ok' ? null : result.reason,
  });
}
console.log(JSON.stringify(results));
