// Starts GraphiQL (vendored UMD builds: React, ReactDOM, GraphiQL, its explorer plugin) on this
// server's /graphql. A classic script, not a module: the UMD builds define globals.
(function () {
  "use strict";

  var EXAMPLE = [
    "# Hibernia's GraphQL playground. The book icon opens the docs:",
    "# every type and field, described. Run this (Ctrl-Enter) to see",
    "# how many apps are in each status, and which are hibernated where.",
    "query HibernatedApps {",
    "  statusCounts { status count }",
    "  appEnvironments(first: 20, filter: { statuses: [HIBERNATING, PARTIALLY_HIBERNATED] }) {",
    "    edges {",
    "      node {",
    "        app { name team }",
    "        environment { name }",
    "        status",
    "        statusReason",
    "        statusSince",
    "        hibernation { since actor workloads { kind name originalReplicas } }",
    "      }",
    "    }",
    "    pageInfo { hasNextPage endCursor }",
    "  }",
    "}",
    "",
  ].join("\n");

  var fetcher = GraphiQL.createFetcher({ url: window.location.origin + "/graphql" });
  var explorer = GraphiQLPluginExplorer.explorerPlugin();
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(
      GraphiQL,
      {
        fetcher: fetcher,
        defaultQuery: EXAMPLE,
        plugins: [explorer],
        defaultEditorToolsVisibility: false,
        shouldPersistHeaders: false,
      },
      React.createElement(GraphiQL.Logo, null, "Hibernia"),
    ),
  );
})();
