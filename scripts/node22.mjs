#!/usr/bin/env node
// npm run test:node22 — the floor. Installs Node 22 (npm package `node`, pinned) into
// .emulators/node22 once, then runs core, memory, local and one emulator-backed adapter per cloud
// (S3 on moto, Cloud Storage on fake-gcs-server, Azure Blob on Azurite) on it. The whole matrix
// runs on Node 24 in `npm test`.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const NODE22 = '22.23.3';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(process.env.POLYCLOUD_EMULATORS_DIR || path.join(root, '.emulators'), 'node22');
const bin = path.join(dir, 'node_modules', 'node', 'bin');
const version = () =>
  existsSync(path.join(bin, 'node'))
    ? execFileSync(path.join(bin, 'node'), ['--version'], { encoding: 'utf8' }).trim()
    : '';

if (version() !== `v${NODE22}`) {
  mkdirSync(dir, { recursive: true });
  // The `node` package fetches its platform binary in a preinstall script, allowed here by name.
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'polycloud-node22', private: true, allowScripts: { node: true } }, null, 2),
  );
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', `node@${NODE22}`], {
    cwd: dir,
    stdio: 'inherit',
  });
}
if (version() !== `v${NODE22}`) {
  console.error(`Node ${NODE22} could not be installed into ${dir}`);
  process.exit(1);
}
console.log(`Node 22 leg on ${version()}`);

const files = [
  'packages/core/test',
  'adapters/memory/test',
  'adapters/local/test',
  'adapters/aws/test/s3.conformance.test.ts',
  'adapters/gcp/test/storage.conformance.test.ts',
  'adapters/azure/test/blob.conformance.test.ts',
];
const env = {
  ...process.env,
  PATH: `${bin}${path.delimiter}${process.env.PATH}`,
  POLYCLOUD_EMULATORS: 'moto,fake-gcs-server,azurite',
  POLYCLOUD_EXPECT_NODE: NODE22,
};
const run = spawnSync(path.join(root, 'node_modules', '.bin', 'vitest'), ['run', ...files], {
  cwd: root,
  env,
  stdio: 'inherit',
});
process.exitCode = run.status ?? 1;
