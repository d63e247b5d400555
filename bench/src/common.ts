/**
 * Shared pieces of the benchmarks: run settings, timing statistics and plain-text tables.
 * Nothing here asserts on a figure: the bench prints and exits 0.
 */

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** Settings for one run: `BENCH_QUICK=1` is a short smoke run (~1 min), the default the full grid. */
export interface BenchSettings {
  readonly quick: boolean;
  /** Sections to run (`BENCH_ONLY=micro,blob,kv,queue,cold,memory,local`; default all). */
  readonly sections: ReadonlySet<Section>;
  /** Providers to run (`BENCH_PROVIDERS=aws,gcp,azure,memory`; default all). */
  readonly providers: ReadonlySet<string>;
  /** Rounds per side per cell (even: whole ABBA blocks). */
  readonly rounds: number;
  /** Blob grid: measured time per side and cell, ms (16 MiB and up: blobBigCellMs). */
  readonly blobCellMs: number;
  readonly blobBigCellMs: number;
  readonly blobSizes: readonly number[];
  readonly blobConcurrency: readonly number[];
  /** Key-value: measured time per side and operation, ms (`BENCH_KV_MS` overrides). */
  readonly kvCellMs: number;
  /** Queues: messages per consume run, per naive-loop run, and per send cell. */
  /** Messages per consume drain (`BENCH_QUEUE_MESSAGES`; the issue asks 20,000, default 1,000). */
  readonly queueMessages: number;
  /** Messages for the naive loop's one drain (`BENCH_QUEUE_NAIVE_MESSAGES`; default 150). */
  readonly queueNaiveMessages: number;
  readonly queueSendMs: number;
  /** Cold start: fresh processes per import, per side. */
  readonly coldRuns: number;
  /** Streamed upload of unknown length, for the memory section (`BENCH_UPLOAD_MIB` overrides). */
  readonly uploadBytes: number;
  /**
   * The same on Cloud Storage (`BENCH_UPLOAD_GCS_MIB`; default 256 MiB): fake-gcs-server slows
   * down with the object's size (here 64 MiB at 41–53 MiB/s, 256 MiB at 13–19, 1 GiB at 2.1).
   */
  readonly uploadBytesGcs: number;
  /** ABBA groups of natural upload runs per provider (raw, polycloud, polycloud, raw each; `BENCH_UPLOAD_ROUNDS`). */
  readonly uploadRounds: number;
  readonly uploadPartSize: number;
  readonly uploadConcurrency: number;
  /** Microbenchmark: measured time per side and operation, in ms. */
  readonly microMs: number;
  readonly microRounds: number;
}

export type Section = 'micro' | 'blob' | 'kv' | 'queue' | 'cold' | 'memory' | 'local';
const SECTIONS: readonly Section[] = ['micro', 'blob', 'kv', 'queue', 'cold', 'memory', 'local'];
const PROVIDERS = ['aws', 'gcp', 'azure', 'memory'];

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);
}

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  const quick = env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true';
  const only = list(env.BENCH_ONLY).map((x) => (x === 's3' ? 'blob' : x));
  for (const s of only) {
    if (!(SECTIONS as readonly string[]).includes(s)) {
      throw new Error(`BENCH_ONLY: unknown section "${s}" (use ${SECTIONS.join(', ')})`);
    }
  }
  const providers = list(env.BENCH_PROVIDERS);
  for (const p of providers) {
    if (!PROVIDERS.includes(p))
      throw new Error(`BENCH_PROVIDERS: unknown provider "${p}" (use ${PROVIDERS.join(', ')})`);
  }
  const sections = new Set<Section>(
    // The ~1 minute run skips what needs long start-ups or many fresh processes.
    only.length > 0 ? (only as Section[]) : quick ? (['micro', 'blob', 'kv'] as Section[]) : SECTIONS,
  );
  return {
    quick,
    sections,
    providers: new Set(providers.length > 0 ? providers : PROVIDERS),
    rounds: 4,
    blobCellMs: quick ? 120 : 500,
    blobBigCellMs: quick ? 300 : 1_500,
    blobSizes: quick ? [4 * KiB, 1 * MiB] : [4 * KiB, 64 * KiB, 1 * MiB, 16 * MiB, 64 * MiB],
    blobConcurrency: [1, 8],
    kvCellMs: positiveInt(env.BENCH_KV_MS, 'BENCH_KV_MS') ?? (quick ? 100 : 800),
    queueMessages: positiveInt(env.BENCH_QUEUE_MESSAGES, 'BENCH_QUEUE_MESSAGES') ?? (quick ? 300 : 1_000),
    queueNaiveMessages:
      positiveInt(env.BENCH_QUEUE_NAIVE_MESSAGES, 'BENCH_QUEUE_NAIVE_MESSAGES') ?? (quick ? 60 : 150),
    queueSendMs: quick ? 200 : 1_000,
    coldRuns: quick ? 3 : 9,
    uploadBytes: uploadMiB(env.BENCH_UPLOAD_MIB, quick ? 64 : 1024) * MiB,
    uploadBytesGcs: uploadMiB(env.BENCH_UPLOAD_GCS_MIB, quick ? 64 : 256) * MiB,
    uploadRounds: positiveInt(env.BENCH_UPLOAD_ROUNDS, 'BENCH_UPLOAD_ROUNDS') ?? 1,
    uploadPartSize: 8 * MiB,
    uploadConcurrency: 4,
    microMs: quick ? 100 : 1_000,
    microRounds: quick ? 6 : 20,
  };
}

function positiveInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}: a positive whole number (got "${value}")`);
  return n;
}

function uploadMiB(value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 16)
    throw new Error(`BENCH_UPLOAD_MIB: a whole number of MiB, at least 16 (got "${value}")`);
  return n;
}

/** CPU time (user + system) of this process in µs: less sensitive than wall time to other load. */
export function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Value at quantile q (0..1) of already sorted numbers (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export function sortedCopy(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

export function median(xs: readonly number[]): number {
  const s = sortedCopy(xs);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function formatSize(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB} KiB`;
  return `${bytes} B`;
}

export function formatMiB(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

/** ops/s with about three significant digits. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '-';
  if (perSecond >= 100_000) return `${Math.round(perSecond / 1000)}k`;
  if (perSecond >= 1000) return `${(perSecond / 1000).toFixed(1)}k`;
  if (perSecond >= 100) return perSecond.toFixed(0);
  if (perSecond >= 10) return perSecond.toFixed(1);
  return perSecond.toFixed(2);
}

/** Milliseconds with a precision that suits the magnitude. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  return ms.toFixed(2);
}

export function formatRatio(r: number): string {
  return Number.isFinite(r) ? r.toFixed(3) : '-';
}

/** A plain-text table; columns after the first `leftColumns` are right-aligned. */
export function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  leftColumns = 1,
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Bytes a benchmark writes: random, so nothing on the path can compress them. */
export function randomBytes(size: number): Uint8Array {
  const out = new Uint8Array(size);
  const chunk = 65_536; // getRandomValues' per-call limit
  for (let off = 0; off < size; off += chunk) {
    crypto.getRandomValues(out.subarray(off, Math.min(size, off + chunk)));
  }
  return out;
}

export const log = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

/** Progress goes to stderr so stdout carries only the tables. */
export const progress = (line: string): void => {
  process.stderr.write(`  · ${line}\n`);
};
