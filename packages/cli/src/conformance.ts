import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConformanceReport } from '@polycloud/conformance';
import { adapterOf, type ConformanceConfig } from './harness.js';
import { CliError, color, EXIT, parseUrl, say, showUrl } from './util.js';

/** The cell symbols of the README matrix (scripts/matrix.mjs). */
const SYMBOLS: Record<string, string> = {
  passed: '✅',
  unsupported: '➖',
  'emulator-gap': '⚠️',
  failed: '❌',
  'not-run': '·',
};

/**
 * Runs the shared suites against the user's endpoints. The suites are vitest tests, so this
 * writes a small test file that registers them with the CLI's harnesses and runs it with
 * vitest's Node API in this process; the suites write their reports as in CI.
 */
export async function conformanceCommand(
  blob: string,
  queue: string | undefined,
  kv: string | undefined,
  o: { reportRoot?: string; name?: string; emulator?: string; filter?: string },
): Promise<void> {
  for (const u of [blob, queue, kv]) if (u !== undefined) parseUrl(u);
  const emulators: Record<string, string> = {};
  for (const id of (o.emulator ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const services = EMULATOR_SERVICES[id];
    if (!services)
      throw new CliError(
        'INVALID_ARGUMENT',
        `--emulator ${id} is not an emulator id`,
        `one or more of ${Object.keys(EMULATOR_SERVICES).join(', ')}, comma-separated`,
      );
    for (const s of services) emulators[s] ??= id;
  }
  const prefix = o.name ?? `cli-${adapterOf(blob)}`;
  const cfg: ConformanceConfig = {
    blob,
    ...(queue ? { queue } : {}),
    ...(kv ? { kv } : {}),
    emulators: emulators as ConformanceConfig['emulators'],
    reportPrefix: prefix,
  };
  const dir = mkdtempSync(join(tmpdir(), 'polycloud-conformance-'));
  const conformance = import.meta.resolve('@polycloud/conformance');
  const harness = new URL('./harness.js', import.meta.url).href;
  const file = join(dir, 'conformance.test.mjs');
  writeFileSync(
    file,
    [
      `import { bucketSuite, kvSuite, queueSuite } from ${JSON.stringify(fileURLToPath(conformance))};`,
      `import { blobHarness, kvHarness, queueHarness } from ${JSON.stringify(fileURLToPath(harness))};`,
      'const cfg = JSON.parse(process.env.POLYCLOUD_CONFORMANCE_CONFIG);',
      'if (cfg.blob) bucketSuite(blobHarness(cfg));',
      'if (cfg.queue) queueSuite(queueHarness(cfg));',
      'if (cfg.kv) kvSuite(kvHarness(cfg));',
      '',
    ].join('\n'),
  );
  process.env.POLYCLOUD_CONFORMANCE_CONFIG = JSON.stringify(cfg);
  // Reports go to <root>/reports/conformance, where root is the project root above the working directory.
  const root = resolve(o.reportRoot ?? process.cwd());
  mkdirSync(root, { recursive: true });
  const prevCwd = process.cwd();
  process.chdir(root);
  say(
    `running the conformance suites against ${[blob, queue, kv]
      .filter(Boolean)
      .map((u) => showUrl(u!))
      .join(', ')}`,
  );
  let failed = false;
  try {
    const { startVitest } = await import('vitest/node');
    const vitest = await startVitest(
      'test',
      [],
      {
        root: dir,
        include: ['conformance.test.mjs'],
        watch: false,
        reporters: ['dot'],
        pool: 'forks',
        maxWorkers: 1,
        testTimeout: 120_000,
        hookTimeout: 300_000,
        ...(o.filter ? { testNamePattern: o.filter } : {}),
      },
      { server: { fs: { strict: false } } },
    );
    await vitest.close();
    failed = vitest.state.getCountOfFailedTests() > 0 || (process.exitCode ?? 0) !== 0;
  } finally {
    process.chdir(prevCwd);
    rmSync(dir, { recursive: true, force: true });
  }
  process.exitCode = 0;
  let rows = 0;
  const counts: Record<string, number> = {};
  say('');
  for (const service of ['blob', 'queue', 'kv'] as const) {
    if (!cfg[service]) continue;
    const path = join(findRepoRoot(root), 'reports', 'conformance', `${prefix}-${service}.json`);
    let report: ConformanceReport;
    try {
      report = JSON.parse(readFileSync(path, 'utf8')) as ConformanceReport;
    } catch {
      say(`${service}: no report written (${path})`);
      failed = true;
      continue;
    }
    for (const t of report.tests) {
      rows++;
      counts[t.outcome] = (counts[t.outcome] ?? 0) + 1;
      const reason = t.reason && t.outcome !== 'passed' ? color.dim(`  (${t.reason.slice(0, 120)})`) : '';
      say(`${SYMBOLS[t.outcome] ?? '?'}  ${report.adapter}-${service}  ${t.name}${reason}`);
      if (t.outcome === 'failed') failed = true;
    }
    say(color.dim(`report: ${path}`));
  }
  say('');
  say(
    `${rows} tests: ${Object.entries(counts)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ')}`,
  );
  if (failed) process.exitCode = EXIT.FAILED;
}

/** The suites' report root: the nearest directory at or above `from` whose package.json declares workspaces, else `from`. */
function findRepoRoot(from: string): string {
  let dir = resolve(from);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { workspaces?: unknown }).workspaces !== undefined)
          return dir;
      } catch {
        // not the root
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return resolve(from);
    dir = parent;
  }
}

/** Emulator ids (conformance/src/emulators/catalog.ts) and the services they stand in for. */
const EMULATOR_SERVICES: Readonly<Record<string, readonly string[]>> = {
  moto: ['blob', 'queue', 'kv'],
  elasticmq: ['queue'],
  dynalite: ['kv'],
  'fake-gcs-server': ['blob'],
  pstest: ['queue'],
  'bigtable-emulator': ['kv'],
  azurite: ['blob', 'queue', 'kv'],
};
