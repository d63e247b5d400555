/**
 * Cold start: how long `import('<adapter subpath>')` takes in a fresh Node process, against
 * importing the SDK client package it wraps, alone. The adapters are imported from their built
 * `dist/` through the package exports, as an application would (the section builds them with
 * `tsc -b` first; incremental, so a no-op when they are current). Runs alternate (SDK, adapter,
 * adapter, SDK, ...); the figures are medians, the noise band the spread of per-pair ratios.
 * Goal: the adapter costs at most 5 ms more than its SDK client.
 */
import { execFileSync } from 'node:child_process';
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
function importMs(spec: string): { wall: number; cpu: number } {
  const code = `const c=process.threadCpuUsage();const t=performance.now();await import(${JSON.stringify(spec)});const w=performance.now()-t;const u=process.threadCpuUsage(c);process.stdout.write(w+' '+(u.user+u.system)/1000)`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd: root,
    env: { ...process.env, NODE_OPTIONS: '' },
    encoding: 'utf8',
  });
  const [wall, cpu] = out.split(' ').map(Number);
  return { wall: wall!, cpu: cpu! };
}

export async function coldRows(s: BenchSettings): Promise<Row[]> {
  progress('cold: building the adapters (tsc -b, incremental)');
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
  const rows: Row[] = [];
  for (const [provider, subpath, sdk] of COLD_PAIRS) {
    if (!s.providers.has(provider)) continue;
    importMs(sdk); // the first run pays for the file system cache
    importMs(subpath);
    const raw: number[] = [];
    const pc: number[] = [];
    const cpuExtra: number[] = [];
    for (let i = 0; i < s.coldRuns; i++) {
      const order = i % 2 === 0 ? [true, false] : [false, true];
      const pair: Record<'sdk' | 'pc', number> = { sdk: 0, pc: 0 };
      for (const isSdk of order) {
        const m = importMs(isSdk ? sdk : subpath);
        (isSdk ? raw : pc).push(m.wall);
        pair[isSdk ? 'sdk' : 'pc'] = m.cpu;
      }
      cpuExtra.push(pair.pc - pair.sdk);
    }
    const cpuPlus = median(cpuExtra);
    const r = median(raw);
    const p = median(pc);
    const pairs = pc.map((x, i) => x / raw[i]!);
    rows.push({
      section: 'cold',
      provider,
      service: 'import',
      operation: `import ${subpath}`,
      ratio: p / r,
      noise: [Math.min(...pairs), Math.max(...pairs)],
      polycloud: p,
      raw: r,
      unit: 'ms',
      baseline: `import ${sdk} alone`,
      // "at most 5 ms more than the SDK client alone", as a ratio for this row
      goal: Number(((r + 5) / r).toFixed(3)),
      ops: s.coldRuns,
      note: `+${(p - r).toFixed(1)} ms (medians of ${s.coldRuns} fresh processes each); main-thread CPU +${cpuPlus.toFixed(1)} ms (median of pairs)`,
    });
    progress(
      `cold ${subpath}: ${p.toFixed(1)} ms vs ${sdk} ${r.toFixed(1)} ms (+${(p - r).toFixed(1)}); main-thread CPU +${cpuPlus.toFixed(1)} ms`,
    );
  }
  return rows;
}
