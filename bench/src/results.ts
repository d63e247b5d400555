/**
 * The rows every section produces, their goals, and the files `npm run bench` writes:
 * bench/results/<date>-<machine>.json (an array of rows) and the same as markdown tables.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * One comparison. `ratio` = polycloud / raw in `unit` (always "lower is better": time or CPU
 * per operation or message), measured side by side in ABBA rounds; `noise` is the lowest and
 * highest ratio of the individual ABBA blocks. A ratio counts only when its whole band is
 * above the goal.
 */
export interface Row {
  readonly section: string;
  readonly provider: string;
  readonly service: 'blob' | 'kv' | 'queue' | 'import' | 'micro';
  readonly operation: string;
  readonly size?: number;
  readonly concurrency?: number;
  readonly ratio: number;
  readonly noise: readonly [number, number];
  readonly polycloud: number;
  readonly raw: number;
  readonly unit: string;
  /** What raw is (e.g. "naive loop", "hand-batched loop", "SDK client alone"). */
  readonly baseline?: string;
  /** Highest ratio that meets the issue's goal; rows without one are informational. */
  readonly goal?: number;
  /** Client CPU per operation, µs, and its ratio with band, where measured. */
  readonly cpu?: {
    readonly raw: number;
    readonly polycloud: number;
    readonly ratio: number;
    readonly noise: readonly [number, number];
  };
  readonly latencyMs?: {
    readonly raw?: { p50: number; p99: number };
    readonly polycloud?: { p50: number; p99: number };
  };
  readonly ops?: number;
  readonly note?: string;
}

export const resultsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'results');

export function machineName(): string {
  return os.hostname().replace(/[^A-Za-z0-9_.-]/g, '_') || 'machine';
}

/** Writes the JSON and the markdown; returns their paths. */
export function writeResults(
  rows: readonly Row[],
  markdown: string,
  quick: boolean,
  /** Set for a partial run (BENCH_ONLY / BENCH_PROVIDERS), so it does not overwrite a full one. */
  partial?: string,
): { json: string; md: string } {
  mkdirSync(resultsDir, { recursive: true });
  const stem = `${new Date().toISOString().slice(0, 10)}-${machineName()}${partial ? `-${partial}` : ''}${quick ? '-quick' : ''}`;
  const json = path.join(resultsDir, `${stem}.json`);
  const md = path.join(resultsDir, `${stem}.md`);
  writeFileSync(json, `${JSON.stringify(rows, null, 2)}\n`);
  writeFileSync(md, markdown);
  return { json, md };
}

/** Whether a row misses its goal: `counts` only when the whole noise band is above it. */
export function verdict(r: Row): { above: boolean; counts: boolean; cpuAbove: boolean; cpuCounts: boolean } {
  if (r.goal === undefined) return { above: false, counts: false, cpuAbove: false, cpuCounts: false };
  const above = r.ratio > r.goal;
  const counts = above && r.noise[0] > r.goal;
  const cpuAbove = r.cpu !== undefined && r.cpu.ratio > r.goal;
  const cpuCounts = cpuAbove && r.cpu !== undefined && r.cpu.noise[0] > r.goal;
  return { above, counts, cpuAbove, cpuCounts };
}
