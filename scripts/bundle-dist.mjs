#!/usr/bin/env node
// Cold start (issue 14, goal 6): one module per package entry point plus a few shared chunks,
// instead of the 25–45 small ES modules tsc emits on each adapter's import path. Node pays a
// fixed cost per ES module (resolution, loading, linking: ~0.3 ms CPU and more wall time each on
// a 2-core machine), which was most of an adapter's extra over its SDK client.
//
//   node scripts/bundle-dist.mjs <package dir>...           bundle in place (prepack): the entry
//                                                           files in dist/ become bundles, the
//                                                           chunks go to dist/_chunks/, the tsc
//                                                           originals are kept aside
//   node scripts/bundle-dist.mjs --restore <package dir>... put the tsc entry files back (postpack)
//   node scripts/bundle-dist.mjs --out <dir> <package dir>... write <dir>/<package name>/ (package.json
//                                                           + dist with the bundles), leave the
//                                                           package alone (the bench's cold section)
//
// Identity stays single: one bundle build per package, so a module lands in exactly one chunk
// (PolycloudError, Bucket, the scheme registry, the call context are defined once however many
// entry points import them), and other packages (core, the SDKs) stay external, imported by name.
// Chunks, so that an adapter loads only what its service needs: modules that more than one
// service of the package reach go into `shared`; a module reached by one service goes into that
// service's chunk (core: `blob`, `queue`, `kv`) or, in the adapters, into its entry file.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const args = process.argv.slice(2);
const restore = args.includes('--restore');
const outIdx = args.indexOf('--out');
const outRoot = outIdx >= 0 ? path.resolve(args[outIdx + 1]) : undefined;
const dirs = args.filter((a, i) => !a.startsWith('--') && (outIdx < 0 || i !== outIdx + 1));
if (dirs.length === 0) {
  console.error('usage: bundle-dist.mjs [--restore | --out <dir>] <package dir>...');
  process.exit(2);
}

const BACKUP = '.bundle-backup';
// Core's entry points grouped by service: a module only the index (which re-exports everything)
// reaches stays in the index's own file.
const CORE_SERVICES = {
  'blob/index': 'blob',
  driver: 'blob',
  'driver/index': 'blob',
  'queue/index': 'queue',
  'kv/index': 'kv',
  'driver/base': 'shared',
};
const AGGREGATES = new Set(['index']);

for (const dir of dirs) {
  const pkgDir = path.resolve(dir);
  if (restore) restoreEntries(pkgDir);
  else await bundlePackage(pkgDir);
}

/** Entry name (path in dist without .js) per export of the package. */
function entriesOf(pkg) {
  const out = [];
  for (const value of Object.values(pkg.exports ?? {})) {
    const target = typeof value === 'string' ? value : value.default;
    if (typeof target !== 'string' || !target.startsWith('./dist/') || !target.endsWith('.js')) continue;
    out.push(target.slice('./dist/'.length, -'.js'.length));
  }
  return out;
}

/** Static relative imports of a tsc-emitted module (dynamic ones stay lazy). */
function staticImports(file) {
  const src = readFileSync(file, 'utf8');
  const out = [];
  for (const m of src.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+['"](\.[^'"]+)['"]/gms)) out.push(m[1]);
  for (const m of src.matchAll(/^\s*import\s+['"](\.[^'"]+)['"]/gm)) out.push(m[1]);
  return out.map((s) => path.resolve(path.dirname(file), s));
}

/** For every module of the package: the services whose entry points import it statically. */
function reachability(dist, entries, serviceOf) {
  const reach = new Map();
  for (const entry of entries) {
    if (AGGREGATES.has(entry) && entries.length > 1) continue;
    const service = serviceOf(entry);
    const stack = [path.join(dist, `${entry}.js`)];
    const seen = new Set();
    while (stack.length > 0) {
      const file = stack.pop();
      if (seen.has(file) || !existsSync(file)) continue;
      seen.add(file);
      if (!reach.has(file)) reach.set(file, new Set());
      reach.get(file).add(service);
      stack.push(...staticImports(file));
    }
  }
  return reach;
}

async function bundlePackage(pkgDir) {
  const pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  const dist = path.join(pkgDir, 'dist');
  const entries = entriesOf(pkg);
  if (entries.length === 0) throw new Error(`${pkg.name}: no dist entry points in "exports"`);
  // In place, bundle the tsc originals even when a previous run left bundles behind.
  if (!outRoot) restoreEntries(pkgDir);
  const isCore = pkg.name === '@polycloud/core';
  const serviceOf = (entry) => (isCore ? (CORE_SERVICES[entry] ?? entry) : entry);
  const reach = reachability(dist, entries, serviceOf);
  const chunkOf = (id) => {
    const services = reach.get(id);
    if (services === undefined || services.size === 0) return null;
    if (services.size > 1 || services.has('shared')) return 'shared';
    return isCore ? [...services][0] : null;
  };

  const { rolldown } = await import('rolldown');
  const stage = mkdtempSync(path.join(tmpdir(), 'polycloud-bundle-'));
  try {
    const bundle = await rolldown({
      input: Object.fromEntries(entries.map((e) => [e, path.join(dist, `${e}.js`)])),
      platform: 'node',
      // Every bare specifier (core from an adapter, the SDKs, node: built-ins) stays an import.
      external: (id) => !id.startsWith('.') && !path.isAbsolute(id),
      logLevel: 'warn',
    });
    await bundle.write({
      dir: stage,
      format: 'esm',
      entryFileNames: '[name].js',
      chunkFileNames: '_chunks/[name].js',
      codeSplitting: {
        // Higher priority first: `shared` takes its modules (and rolldown's helpers) before a
        // service chunk could pull them in as dependencies.
        groups: [
          { name: 'shared', priority: 3, test: (id) => chunkOf(id) === 'shared' },
          ...['blob', 'queue', 'kv'].map((name) => ({
            name,
            priority: 2,
            test: (id) => chunkOf(id) === name,
          })),
        ],
      },
      // No keepNames: its helper would be one more module on every import path. Renamed
      // functions (two modules' `describe`) only change `fn.name`; a renamed class would change
      // what inspect() prints for its instances, so that fails the build below.
      // The doc comments stay in src/ and the .d.ts files; in the bundles they are only bytes
      // to read at start-up.
      comments: false,
      sourcemap: true,
    });
    await bundle.close();
    for (const file of listJs(stage)) {
      const renamed = readFileSync(file, 'utf8').match(/\bclass\s+[A-Za-z_$][\w$]*\$\d+\b/);
      if (renamed) {
        throw new Error(
          `${pkg.name}: bundling renamed ${renamed[0]} in ${path.relative(stage, file)} (two classes of that name); rename one in the source`,
        );
      }
    }

    const target = outRoot ? path.join(outRoot, pkg.name) : pkgDir;
    if (outRoot) {
      rmSync(target, { recursive: true, force: true });
      mkdirSync(target, { recursive: true });
      cpSync(path.join(pkgDir, 'package.json'), path.join(target, 'package.json'));
      cpSync(dist, path.join(target, 'dist'), { recursive: true });
    } else {
      for (const e of entries) {
        for (const ext of ['.js', '.js.map']) {
          const file = path.join(dist, e + ext);
          if (!existsSync(file)) continue;
          const backup = path.join(pkgDir, BACKUP, e + ext);
          mkdirSync(path.dirname(backup), { recursive: true });
          cpSync(file, backup, { preserveTimestamps: true });
        }
      }
    }
    rmSync(path.join(target, 'dist', '_chunks'), { recursive: true, force: true });
    cpSync(stage, path.join(target, 'dist'), { recursive: true });
    const chunks = existsSync(path.join(stage, '_chunks'))
      ? readdirSync(path.join(stage, '_chunks')).filter((f) => f.endsWith('.js'))
      : [];
    console.log(`${pkg.name}: ${entries.length} entry points, chunks: ${chunks.join(', ') || 'none'}`);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

function listJs(dir) {
  return readdirSync(dir, { recursive: true })
    .filter((f) => f.endsWith('.js'))
    .map((f) => path.join(dir, f));
}

/** Puts the tsc entry files back and removes the chunks (no-op when nothing was bundled). */
function restoreEntries(pkgDir) {
  const backup = path.join(pkgDir, BACKUP);
  if (!existsSync(backup)) return;
  cpSync(backup, path.join(pkgDir, 'dist'), { recursive: true, preserveTimestamps: true });
  rmSync(backup, { recursive: true, force: true });
  rmSync(path.join(pkgDir, 'dist', '_chunks'), { recursive: true, force: true });
}
