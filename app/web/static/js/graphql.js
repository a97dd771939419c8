// The page's one GraphQL client. Documents live in /static/graphql/*.graphql (validated against
// the server's schema by the test suite); requests go to this origin's /graphql only.
import { askForToken, authorization } from "./session.js";

const documents = new Map();

/** Raised for top-level GraphQL errors (payload errors are data, handled by the caller). */
export class GraphQLRequestError extends Error {
  constructor(errors) {
    super(errors.map((error) => error.message).join(" "));
    this.errors = errors;
  }
}

export function documentText(name) {
  if (!documents.has(name)) {
    const loading = fetch(`/static/graphql/${name}.graphql`).then((response) => {
      if (!response.ok) throw new Error(`The page's document ${name} could not be loaded (${response.status}).`);
      return response.text();
    });
    loading.catch(() => documents.delete(name));
    documents.set(name, loading);
  }
  return documents.get(name);
}

async function post(query, variables) {
  return fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", ...authorization() },
    body: JSON.stringify({ query, variables }),
  });
}

/**
 * Runs the named document and returns its `data`. Where the server wants a token (401) the token
 * dialog is shown, and the request is sent again with the token given.
 */
export async function request(name, variables = {}) {
  const query = await documentText(name);
  let response = await post(query, variables);
  while (response.status === 401) {
    const body = await response.json().catch(() => ({}));
    const reason = body.errors?.[0]?.message ?? "This server needs an API token.";
    await askForToken(reason);
    response = await post(query, variables);
  }
  const body = await response.json().catch(() => null);
  if (body === null) throw new Error(`The server answered ${response.status} without a GraphQL response.`);
  if (body.errors?.length) throw new GraphQLRequestError(body.errors);
  return body.data;
}
