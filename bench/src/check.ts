/**
 * `npm run bench:check`: reads the newest full results file in bench/results (or the file given
 * as the first argument) and prints every ratio above its goal. Exit 1 when any of them counts,
 * i.e. its whole noise band is above the goal too; a ratio above the goal but inside its own
 * noise band is printed as such and does not fail. Not part of `npm test`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { formatRatio, formatSize } from './common.js';
import { type Row, resultsDir, verdict } from './results.js';

function newest(): string {
  const files = readdirSync(resultsDir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  // A full run's file is <date>-<machine>.json; partial and quick runs carry a suffix.
  const full = files.filter(
    (f) => !f.includes('-quick') && !/-(micro|blob|kv|queue|cold|memory|aws|gcp|azure)\b/.test(f),
  );
  const pick = (full.length > 0 ? full : files).at(-1);
  if (!pick) throw new Error(`no results in ${resultsDir}: run \`npm run bench\` first`);
  return path.join(resultsDir, pick);
}

const file = process.argv[2] ?? newest();
const rows = JSON.parse(readFileSync(file, 'utf8')) as Row[];
let misses = 0;
let withinNoise = 0;
const band = (n: readonly [number, number]) => `[${formatRatio(n[0])}..${formatRatio(n[1])}]`;
console.log(
  `bench:check ${file} (${rows.length} rows, ${rows.filter((r) => r.goal !== undefined).length} with a goal)`,
);
for (const r of rows) {
  const v = verdict(r);
  const what = [
    r.provider,
    r.service,
    r.operation,
    r.size === undefined ? '' : formatSize(r.size),
    r.concurrency === undefined ? '' : `c=${r.concurrency}`,
    r.baseline ? `vs ${r.baseline}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  const report = (metric: string, ratio: number, noise: readonly [number, number], counts: boolean) => {
    if (counts) misses++;
    else withinNoise++;
    console.log(
      `${counts ? 'MISS ' : 'noise'} ${what}: ${metric} ${formatRatio(ratio)} ${band(noise)} > goal ${r.goal}`,
    );
  };
  if (v.above) report(r.unit === 'MiB' ? 'memory ratio' : 'time ratio', r.ratio, r.noise, v.counts);
  if (v.cpuAbove && r.cpu) report('CPU ratio', r.cpu.ratio, r.cpu.noise, v.cpuCounts);
}
console.log(`${misses} above goal outside their noise band, ${withinNoise} above goal but within noise`);
process.exitCode = misses > 0 ? 1 : 0;
