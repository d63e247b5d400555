#!/usr/bin/env node
// Runs before `npm start` and `npm test`. npm puts node_modules/.bin first on PATH, so these
// scripts run on the pinned `node` devDependency (Node 24); this check catches the case where
// that binary is missing (e.g. `npm ci --ignore-scripts`) and an older system Node took over.
const [major] = process.versions.node.split('.').map(Number);
if (major < 22) {
  console.error(
    `polycloud needs Node >= 22 (24 LTS recommended); this is Node ${process.versions.node} at ${process.execPath}. ` +
      'Run `npm ci` (it installs Node 24 into node_modules/.bin, allowed by "allowScripts") or install Node 24 from nodejs.org.',
  );
  process.exit(1);
}
