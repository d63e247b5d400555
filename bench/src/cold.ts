/**
 * Cold start: how long `import('<adapter subpath>')` takes in a fresh Node process, against
 * importing the SDK client package it wraps, alone. The adapters are imported as an application
 * gets them from npm: `tsc -b` (incremental), then `scripts/bundle-dist.mjs`, which `npm pack`
 * runs too, writes the packed layout (one file per entry point plus shared chunks) of every
 * polycloud package into a temporary `node_modules`, next to links to the repository's SDKs.
 * The tsc output as it is in the repository (`dist/`, one module per source file) is measured
 * in the same rounds for comparison (in each row's note). Runs alternate (SDK, packed, dist,
 * then the reverse); the figures are medians, the noise band the spread of per-round ratios.
 * Goal: the adapter costs at most 5 ms more than its SDK client.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchSettings, median, progress } from './common.js';
import type { Row } from './results.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const COLD_PAIRS: readonly (readonly [provider: string, subpath: string, sdk: string])[] = [
  ['aws', '@polycloud/aws/s3', '@aws-sdk/client-s3'],
  ['aws', '@polycloud/aws/sqs', '@aws-sdk/client-sqs'],
  ['aws', '@polycloud/aws/dynamodb', '@aws-sdk/client-dynamodb'],
  ['gcp', '@polycloud/gcp/storage', '@google-cloud/storage'],
  ['gcp', '@polycloud/gcp/pubsub', '@google-cloud/pubsub'],
  ['gcp', '@polycloud/gcp/bigtable', '@google-cloud/bigtable'],
  ['azure', '@polycloud/azure/blob', '@azure/storage-blob'],
  ['azure', '@polycloud/azure/queue', '@azure/storage-queue'],
  ['azure', '@polycloud/azure/table', '@azure/data-tables'],
  ['memory', '@polycloud/memory', '@polycloud/core'],
];

/**
 * ms that `import(spec)` takes in a fresh process started from the repository root: wall time,
 * and the main thread's CPU time, which moves far less than wall time on a shared, loaded machine.
 */
function importMs(spec: string, cwd: string): { wall: number; cpu: number } {
  const code = `const c=process.threadCpuUsage();const t=performance.now();await import(${JSON.stringify(spec)});const w=performance.now()-t;const u=process.threadCpuUsage(c);process.stdout.write(w+' '+(u.user+u.system)/1000)`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd,
    env: { ...process.env, NODE_OPTIONS: '' },
    encoding: 'utf8',
  });
  const [wall, cpu] = out.split(' ').map(Number);
  return { wall: wall!, cpu: cpu! };
}

const PACKAGES = ['packages/core', 'adapters/aws', 'adapters/gcp', 'adapters/azure', 'adapters/memory'];

/** A directory whose node_modules holds the packed layout of polycloud and links to the rest. */
function packedApp(): string {
  const app = mkdtempSync(path.join(tmpdir(), 'polycloud-cold-'));
  const modules = path.join(app, 'node_modules');
  mkdirSync(path.join(modules, '@polycloud'), { recursive: true });
  execFileSync(
    process.execPath,
    [path.join(root, 'scripts', 'bundle-dist.mjs'), '--out', modules, ...PACKAGES],
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  for (const name of readdirSync(path.join(root, 'node_modules'))) {
    if (name === '@polycloud' || name.startsWith('.')) continue;
    symlinkSync(path.join(root, 'node_modules', name), path.join(modules, name));
  }
  return app;
}

const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;

/**
 * Instructions (millions) the process executes to `import(spec)`, counted by valgrind's
 * callgrind: unlike time, the count does not move with the machine's load. Opt-in
 * (`BENCH_COLD_INSTRUCTIONS=1`; about 10–60 s per process), one process per side.
 */
function importInstructions(spec: string, cwd: string): number {
  const run = spawnSync(
    'valgrind',
    [
      '--tool=callgrind',
      '--callgrind-out-file=/dev/null',
      '--smc-check=all-non-file',
      process.execPath,
      '--input-type=module',
      '-e',
      `await import(${JSON.stringify(spec)})`,
    ],
    { cwd, env: { ...process.env, NODE_OPTIONS: '' }, encoding: 'utf8' },
  );
  const m = /Collected : (\d+)/.exec(run.stderr ?? '');
  if (run.status !== 0 || m === null)
    throw new Error(`valgrind failed for ${spec}: ${run.error ?? run.stderr}`);
  return Number(m[1]) / 1e6;
}

export async function coldRows(s: BenchSettings): Promise<Row[]> {
  progress('cold: building the adapters (tsc -b, incremental) and their packed layout');
  execFileSync(
    process.execPath,
    [
      path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-b',
      'adapters/aws',
      'adapters/gcp',
      'adapters/azure',
      'adapters/memory',
    ],
    { cwd: root, stdio: 'inherit' },
  );
  const app = packedApp();
  try {
    return coldPairs(s, app);
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
}

function coldPairs(s: BenchSettings, app: string): Row[] {
  const rows: Row[] = [];
  for (const [provider, subpath, sdk] of COLD_PAIRS) {
    if (!s.providers.has(provider)) continue;
    // The SDK resolves to the same files from both directories (links); a polycloud baseline
    // (core, for memory) does not, so the dist side gets its own from the repository.
    const sides = [
      { spec: sdk, cwd: app },
      { spec: subpath, cwd: app },
      { spec: subpath, cwd: root },
      ...(sdk.startsWith('@polycloud/') ? [{ spec: sdk, cwd: root }] : []),
    ];
    const distBase = sides.length === 4 ? 3 : 0;
    for (const side of sides) importMs(side.spec, side.cwd); // the first run fills the file system cache
    const wall: number[][] = sides.map(() => []);
    const cpuExtra: number[][] = [[], []];
    const ratios: number[] = [];
    for (let i = 0; i < s.coldRuns; i++) {
      const order = sides.map((_, j) => j);
      if (i % 2 === 1) order.reverse();
      const round: { wall: number; cpu: number }[] = [];
      for (const j of order) round[j] = importMs(sides[j]!.spec, sides[j]!.cwd);
      for (let j = 0; j < sides.length; j++) wall[j]!.push(round[j]!.wall);
      cpuExtra[0]!.push(round[1]!.cpu - round[0]!.cpu);
      cpuExtra[1]!.push(round[2]!.cpu - round[distBase]!.cpu);
      ratios.push(round[1]!.wall / round[0]!.wall);
    }
    const [r, p, d] = wall.map((w) => median(w));
    const rd = median(wall[distBase]!);
    let instructions = '';
    if (process.env.BENCH_COLD_INSTRUCTIONS === '1') {
      const [ri, pi, di, rdi] = sides.map((side) => importInstructions(side.spec, side.cwd));
      instructions = `; instructions (callgrind, millions) ${ri!.toFixed(1)} → packed ${signed(pi! - ri!)}, dist ${signed(di! - (rdi ?? ri!))}`;
      progress(`cold ${subpath}: instructions${instructions.slice('; instructions'.length)}`);
    }
    const cpuPacked = median(cpuExtra[0]!);
    const cpuDist = median(cpuExtra[1]!);
    rows.push({
      section: 'cold',
      provider,
      service: 'import',
      operation: `import ${subpath}`,
      ratio: p! / r!,
      noise: [Math.min(...ratios), Math.max(...ratios)],
      polycloud: p!,
      raw: r!,
      unit: 'ms',
      baseline: `import ${sdk} alone`,
      // "at most 5 ms more than the SDK client alone", as a ratio for this row
      goal: Number(((r! + 5) / r!).toFixed(3)),
      ops: s.coldRuns,
      note: `packed layout ${signed(p! - r!)} ms wall, main-thread CPU ${signed(cpuPacked)} ms (medians of ${s.coldRuns} fresh processes each); repository dist/ (tsc output) ${signed(d! - rd)} ms wall, CPU ${signed(cpuDist)} ms${instructions}`,
    });
    progress(
      `cold ${subpath}: ${p!.toFixed(1)} ms vs ${sdk} ${r!.toFixed(1)} ms (${signed(p! - r!)}; CPU ${signed(cpuPacked)}); tsc dist ${signed(d! - rd)} (CPU ${signed(cpuDist)})`,
    );
  }
  return rows;
}
