// Copies the playground's third-party files out of node_modules (installed by `npm ci` from
// package-lock.json) into the Python package, with every installed package's licence beside them.
// Run through `make web-vendor`; the output depends only on the lockfile, so it is byte-for-byte
// the same on every machine.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const modules = new URL("./node_modules/", import.meta.url).pathname;
const target = new URL("../app/web/static/vendor/", import.meta.url).pathname;

// [file in node_modules, name in the package]
const FILES = [
  ["react/umd/react.production.min.js", "react.production.min.js"],
  ["react-dom/umd/react-dom.production.min.js", "react-dom.production.min.js"],
  ["graphiql/graphiql.min.js", "graphiql.min.js"],
  ["graphiql/graphiql.min.css", "graphiql.min.css"],
  ["@graphiql/plugin-explorer/dist/index.umd.js", "graphiql-plugin-explorer.umd.js"],
  ["@graphiql/plugin-explorer/dist/style.css", "graphiql-plugin-explorer.css"],
];

const LICENCE_FILE = /^(licen[cs]e|copying)(\.(md|txt|markdown))?$/i;

function installedPackages(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.name.startsWith("@")) {
      found.push(...installedPackages(path));
      continue;
    }
    if (existsSync(join(path, "package.json"))) found.push(path);
    if (existsSync(join(path, "node_modules"))) found.push(...installedPackages(join(path, "node_modules")));
  }
  return found;
}

function licences() {
  const seen = new Map();
  for (const path of installedPackages(modules)) {
    const meta = JSON.parse(readFileSync(join(path, "package.json"), "utf8"));
    const key = `${meta.name}@${meta.version}`;
    if (seen.has(key)) continue;
    const file = readdirSync(path).filter((name) => LICENCE_FILE.test(name)).sort()[0];
    const text = file ? readFileSync(join(path, file), "utf8").trim() : null;
    seen.set(key, { key, licence: meta.license ?? "unstated", text });
  }
  const parts = [
    "Third-party software shipped in this folder (the offline GraphQL playground).",
    "Built by `make web-vendor` from web/package-lock.json: every package installed there, with its licence.",
    "",
  ];
  for (const { key, licence, text } of [...seen.values()].sort((a, b) => (a.key < b.key ? -1 : 1))) {
    parts.push("=".repeat(78), `${key} (${licence})`, "=".repeat(78));
    parts.push(text ?? `No licence file in the package; its package.json declares: ${licence}.`, "");
  }
  return parts.join("\n");
}

rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });
for (const [source, name] of FILES) copyFileSync(join(modules, source), join(target, name));
writeFileSync(join(target, "THIRD-PARTY-LICENSES.txt"), licences());
console.log(`vendored ${FILES.length} files and their licences into app/web/static/vendor/`);
