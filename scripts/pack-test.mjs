#!/usr/bin/env node
// npm run test:pack — the packages as a stranger gets them. Packs every publishable workspace
// (prepack builds it), lints each tarball (publint --strict, @arethetypeswrong/cli esm-only),
// installs the tarballs into a fresh application outside the repository, imports every entry
// point from ESM and CommonJS, type-checks a consumer under nodenext and bundler resolution, and
// runs the conformance suites from node_modules with the emulator harness's own bin.
// Exit code 0 only if every step passed. Prints a summary line per step.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const rootPkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const keep = process.argv.includes('--keep');
const work = mkdtempSync(path.join(tmpdir(), 'polycloud-pack-'));
const tarballs = path.join(work, 'tarballs');
const app = path.join(work, 'app');
mkdirSync(tarballs);
mkdirSync(app);

const results = [];
function step(name, fn) {
  const started = performance.now();
  try {
    const detail = fn();
    results.push({ name, ok: true, ms: performance.now() - started, detail });
    console.log(`ok   ${name}${detail ? ` (${detail})` : ''}`);
  } catch (err) {
    results.push({ name, ok: false, ms: performance.now() - started });
    console.log(
      `FAIL ${name}\n${indent(err.stdout ?? '')}${indent(err.stderr ?? '')}${indent(err.message ?? String(err))}`,
    );
  }
}
const indent = (s) => (s ? `${String(s).trimEnd().replace(/^/gm, '     ')}\n` : '');
function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

// Publishable workspaces: every non-private package.json under the workspace globs.
const workspaces = [];
for (const pattern of rootPkg.workspaces) {
  const dirs = pattern.endsWith('/*')
    ? readdir(path.join(root, pattern.slice(0, -2))).map((d) => path.join(pattern.slice(0, -2), d))
    : [pattern];
  for (const dir of dirs) {
    const file = path.join(root, dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8'));
    if (!pkg.private) workspaces.push({ dir, pkg });
  }
}
function readdir(dir) {
  return existsSync(dir) ? execFileSync('ls', [dir], { encoding: 'utf8' }).split('\n').filter(Boolean) : [];
}

const packed = new Map(); // name -> tarball path
step(`npm pack ${workspaces.length} packages`, () => {
  const out = run(
    'npm',
    ['pack', '--json', '--pack-destination', tarballs, ...workspaces.flatMap((w) => ['-w', w.dir])],
    {
      cwd: root,
    },
  );
  const json = JSON.parse(out.slice(out.indexOf('[')));
  for (const entry of json) {
    const files = entry.files.map((f) => f.path);
    for (const required of ['LICENSE', 'README.md', 'package.json']) {
      if (!files.includes(required)) throw new Error(`${entry.name}: ${required} missing from the tarball`);
    }
    if (!files.some((f) => f.startsWith('dist/') && f.endsWith('.d.ts')))
      throw new Error(`${entry.name}: no dist/*.d.ts`);
    if (files.some((f) => /(^|\/)test\//.test(f) || f.endsWith('.tsbuildinfo'))) {
      throw new Error(`${entry.name}: tests or build info in the tarball`);
    }
    packed.set(entry.name, path.join(tarballs, entry.filename));
  }
  return json.map((e) => `${e.name} ${(e.size / 1024).toFixed(0)} KiB`).join(', ');
});

for (const [name, tarball] of packed) {
  step(`publint --strict ${name}`, () => {
    const dir = path.join(work, 'extract', name.replace('/', '__'));
    mkdirSync(dir, { recursive: true });
    run('tar', ['-xzf', tarball, '-C', dir]);
    run(
      path.join(root, 'node_modules/.bin/publint'),
      ['run', path.join(dir, 'package'), '--strict', '--pack', 'false'],
      {
        cwd: root,
      },
    );
  });
  step(`attw --profile esm-only ${name}`, () => {
    run(
      path.join(root, 'node_modules/.bin/attw'),
      [tarball, '--profile', 'esm-only', '--format', 'table-flipped'],
      {
        cwd: root,
      },
    );
  });
}

// Peers the entry points load: the versions this repository tests with (from its lock file).
const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
const version = (name) => lock.packages[`node_modules/${name}`]?.version;
const peers = new Set();
for (const { pkg } of workspaces) for (const peer of Object.keys(pkg.peerDependencies ?? {})) peers.add(peer);
const devTools = ['typescript', '@types/node', 'vitest'];

step('install the tarballs and peers into a fresh app', () => {
  writeFileSync(
    path.join(app, 'package.json'),
    JSON.stringify({ name: 'pack-test-app', private: true, type: 'module' }, null, 2),
  );
  const specs = [
    ...packed.values(),
    ...[...peers, ...devTools].filter((p) => version(p)).map((p) => `${p}@${version(p)}`),
  ];
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...specs], { cwd: app });
  return `${specs.length} specs`;
});

// Every entry point of every package, from its exports map.
const entryPoints = [];
for (const { pkg } of workspaces) {
  for (const key of Object.keys(pkg.exports ?? {})) {
    if (key.includes('*') || key === './package.json') continue;
    entryPoints.push(key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`);
  }
}
const importable = entryPoints.filter((e) => !e.endsWith('/global-setup'));

step(`import ${importable.length} entry points from ESM`, () => {
  const code = `${importable.map((e, i) => `import * as m${i} from '${e}';`).join('\n')}
const mods = [${importable.map((_, i) => `m${i}`).join(', ')}];
const empty = mods.map((m, i) => [${JSON.stringify(importable)}[i], Object.keys(m).length]).filter(([, n]) => n === 0);
if (empty.length) { console.error('no exports:', empty); process.exit(1); }
// Each package is packed as one bundle build (scripts/bundle-dist.mjs): a name that several of
// its entry points export must be the same object in all of them (one class, one registry).
const names = ${JSON.stringify(importable)};
const seen = new Map();
const twice = [];
mods.forEach((m, i) => {
  const pkg = names[i].split('/').slice(0, 2).join('/');
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== 'function' && (typeof v !== 'object' || v === null)) continue;
    const key = pkg + ' ' + k;
    if (seen.has(key) && seen.get(key) !== v) twice.push(key);
    else seen.set(key, v);
  }
});
if (twice.length) { console.error('defined more than once:', twice); process.exit(1); }
const { openBucket } = await import('@polycloud/core');
const b = await openBucket('mem://pack-test');
if (!(b instanceof (await import('@polycloud/core/blob')).Bucket)) { console.error('two Bucket classes'); process.exit(1); }
await b.put('k', 'v');
if ((await b.getText('k')) !== 'v') process.exit(1);
console.log('esm ok');`;
  writeFileSync(path.join(app, 'esm.mjs'), code);
  return run(process.execPath, ['esm.mjs'], { cwd: app }).trim();
});

step(`require ${importable.length} entry points from CommonJS (require(esm))`, () => {
  const code = `const names = ${JSON.stringify(importable)};
for (const n of names) {
  const m = require(n);
  if (Object.keys(m).length === 0) { console.error('no exports from', n); process.exit(1); }
}
const { isPolycloudError, PolycloudError } = require('@polycloud/core');
if (typeof isPolycloudError !== 'function' || typeof PolycloudError !== 'function') process.exit(1);
console.log('cjs ok');`;
  writeFileSync(path.join(app, 'cjs.cjs'), code);
  return run(process.execPath, ['--no-warnings', 'cjs.cjs'], { cwd: app }).trim();
});

const consumer = `import { openBucket, openKv, openQueue, isPolycloudError, type KvStore } from '@polycloud/core';
import { bucketSuite } from '@polycloud/conformance';
${importable
  .filter((e) => e !== '@polycloud/core' && e !== '@polycloud/conformance')
  .map((e, i) => `import * as e${i} from '${e}';\nvoid e${i};`)
  .join('\n')}

interface Session { user: string; roles: string[]; expires?: number }
const sessions: KvStore<Session> = await openKv<Session>('mem://sessions');
await sessions.set('s', { user: 'ada', roles: [] });
const entry = await sessions.get('s');
const user: string | undefined = entry?.value.user;
const bucket = await openBucket('mem://b');
const queue = await openQueue<{ id: number }>('mem://q');
try { await bucket.head('missing'); } catch (err) { if (isPolycloudError(err, 'NOT_FOUND')) console.log(user); }
await queue.send({ id: 1 });
void bucketSuite;
`;
for (const [label, options] of [
  ['nodenext', { module: 'nodenext', moduleResolution: 'nodenext' }],
  ['bundler', { module: 'esnext', moduleResolution: 'bundler' }],
]) {
  step(`type-check a strict consumer (moduleResolution ${label})`, () => {
    const dir = path.join(app, `ts-${label}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'consumer.ts'), consumer);
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          ...options,
          target: 'es2022',
          lib: ['es2024', 'esnext.disposable', 'dom'],
          strict: true,
          noEmit: true,
          types: ['node'],
          skipLibCheck: false,
        },
        files: ['consumer.ts'],
      }),
    );
    run(path.join(app, 'node_modules/.bin/tsc'), ['-p', dir], { cwd: app });
  });
}

// A third party's conformance run, all from node_modules: the harness installs and starts an
// emulator through the package's own bin and vitest globalSetup, and the suites run against the
// memory adapter and DynamoDB (dynalite) through the published adapters.
step('conformance suites from node_modules (memory + dynalite through the installed harness)', () => {
  const dir = path.join(app, 'conformance-app');
  mkdirSync(path.join(dir, 'test'), { recursive: true });
  cpSync(path.join(root, 'scripts', 'pack-fixtures', 'conformance'), dir, { recursive: true });
  const install = spawnSync(
    path.join(app, 'node_modules/.bin/polycloud-emulators'),
    ['install', 'dynalite'],
    {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, POLYCLOUD_EMULATORS_DIR: '' },
    },
  );
  if (install.status !== 0)
    throw Object.assign(new Error('polycloud-emulators install dynalite failed'), install);
  const test = spawnSync(path.join(app, 'node_modules/.bin/vitest'), ['run', '--reporter=dot'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, POLYCLOUD_EMULATORS: 'dynalite', POLYCLOUD_EMULATORS_DIR: '', NO_COLOR: '1' },
  });
  if (test.status !== 0) throw Object.assign(new Error(`vitest exited ${test.status}`), test);
  const summary = /Tests\s+(.*)/.exec(test.stdout)?.[1]?.trim();
  const reports = ['memory-kv', 'aws-kv-dynalite'].filter((r) =>
    existsSync(path.join(dir, 'reports', 'conformance', `${r}.json`)),
  );
  if (reports.length !== 2) throw new Error(`reports missing: found ${reports.join(', ') || 'none'}`);
  return `${summary}; reports ${reports.join(', ')}`;
});

const failed = results.filter((r) => !r.ok);
console.log(
  `\npack test: ${results.length - failed.length} passed, ${failed.length} failed (${work}${keep ? ', kept' : ''})`,
);
if (!keep) rmSync(work, { recursive: true, force: true });
process.exitCode = failed.length ? 1 : 0;
