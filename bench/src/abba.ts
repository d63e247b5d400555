/**
 * Side-by-side comparison of two implementations of one operation: a warm-up that calibrates
 * the number of operations per round, then rounds in ABBA order (raw, polycloud, polycloud,
 * raw, ...) with the same number of operations each, so linear drift of a shared machine or of
 * the emulator hits both sides alike. Each ABBA block gives one ratio; their spread is the noise.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { cpuMicros, median, quantile, sortedCopy } from './common.js';

/**
 * A full GC on demand (`global.gc` when the process runs with --expose-gc, else the same
 * function taken from a fresh context after setting the flag at run time).
 */
function loadGc(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * Called before every measured round: each round starts with an empty young generation and no
 * garbage of the other side's round, so a side pays only for the collections its own
 * allocations cause (without it, whichever side runs next inherits the previous round's GC debt).
 */
export const fullGc: () => void = loadGc();

/** One operation by worker `w`. */
export type Call = (w: number) => Promise<unknown>;
export type Side = 'raw' | 'polycloud';

export interface SideStats {
  readonly ops: number;
  readonly wallMs: number;
  readonly msPerOp: number;
  /** CPU time of this (client) process per operation, µs. */
  readonly cpuUsPerOp: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

export interface Comparison {
  readonly raw: SideStats;
  readonly polycloud: SideStats;
  /** polycloud wall time per op / raw, over all rounds. */
  readonly ratio: number;
  /** Lowest and highest per-block ratio. */
  readonly noise: readonly [number, number];
  readonly cpuRatio: number;
  readonly cpuNoise: readonly [number, number];
  readonly opsPerRound: number;
}

export interface AbbaOptions {
  readonly concurrency: number;
  /** Measured time per side, ms (split over the rounds). */
  readonly cellMs: number;
  /** Rounds per side; even (whole ABBA blocks). */
  readonly rounds: number;
  readonly maxOpsPerRound?: number;
}

/** `ops` operations spread over `concurrency` workers: wall time, CPU and every latency. */
export async function round(
  call: Call,
  ops: number,
  concurrency: number,
): Promise<{ wallMs: number; cpuUs: number; lat: number[] }> {
  let next = 0;
  const lat: number[] = [];
  const c0 = cpuMicros();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, ops) }, async (_, w) => {
      while (next < ops) {
        next++;
        const s = performance.now();
        await call(w);
        lat.push(performance.now() - s);
      }
    }),
  );
  return { wallMs: performance.now() - t0, cpuUs: cpuMicros() - c0, lat };
}

export async function abba(sides: Record<Side, Call>, o: AbbaOptions): Promise<Comparison> {
  const { concurrency } = o;
  // Warm-up in two steps: a few operations per side to calibrate (as many as workers), then,
  // where one operation is short next to the cell, an ABBA block of an eighth of the cell's
  // time per round, so that code only one side runs (polycloud's layer, or the raw idiom) is
  // optimised before anything counts (a handful of calls leaves it in the interpreter). The
  // rounds are then sized from the warm figures.
  const warm = Math.max(2, concurrency);
  const wr = await round(sides.raw, warm, concurrency);
  const wp = await round(sides.polycloud, warm, concurrency);
  let perOp = Math.max(wr.wallMs, wp.wallMs, 0.001) / warm;
  if (concurrency * perOp * 8 <= o.cellMs) {
    const ops = Math.ceil(o.cellMs / 8 / perOp / concurrency) * concurrency;
    let wall = 0;
    for (const side of ['raw', 'polycloud', 'polycloud', 'raw'] as const) {
      fullGc();
      wall += (await round(sides[side], ops, concurrency)).wallMs;
    }
    perOp = Math.max(wall / (4 * ops), 0.001);
  }
  // Too slow for the budget: fewer (but whole ABBA) rounds rather than a blown time limit.
  let rounds = o.rounds;
  while (rounds > 2 && concurrency * perOp * rounds > o.cellMs * 1.5) rounds -= 2;
  let opsPerRound = Math.max(
    concurrency,
    Math.min(o.maxOpsPerRound ?? 4000, Math.round(o.cellMs / rounds / perOp)),
  );
  opsPerRound = Math.ceil(opsPerRound / concurrency) * concurrency;

  type Acc = { ops: number; wallMs: number; cpuUs: number; lat: number[] };
  const acc: Record<Side, Acc> = {
    raw: { ops: 0, wallMs: 0, cpuUs: 0, lat: [] },
    polycloud: { ops: 0, wallMs: 0, cpuUs: 0, lat: [] },
  };
  const pairs: number[] = [];
  const cpuPairs: number[] = [];
  const order: Side[] = ['raw', 'polycloud', 'polycloud', 'raw'];
  for (let r = 0; r < rounds; r += 2) {
    const wall: Record<Side, number> = { raw: 0, polycloud: 0 };
    const cpu: Record<Side, number> = { raw: 0, polycloud: 0 };
    for (const side of order) {
      fullGc();
      const got = await round(sides[side], opsPerRound, concurrency);
      acc[side].ops += opsPerRound;
      acc[side].wallMs += got.wallMs;
      acc[side].cpuUs += got.cpuUs;
      for (const l of got.lat) acc[side].lat.push(l);
      wall[side] += got.wallMs;
      cpu[side] += got.cpuUs;
    }
    pairs.push(wall.polycloud / wall.raw);
    cpuPairs.push(cpu.polycloud / cpu.raw);
  }
  const stats = (x: Acc): SideStats => {
    const sorted = sortedCopy(x.lat);
    return {
      ops: x.ops,
      wallMs: x.wallMs,
      msPerOp: x.wallMs / x.ops,
      cpuUsPerOp: x.cpuUs / x.ops,
      p50: quantile(sorted, 0.5),
      p95: quantile(sorted, 0.95),
      p99: quantile(sorted, 0.99),
    };
  };
  const raw = stats(acc.raw);
  const polycloud = stats(acc.polycloud);
  return {
    raw,
    polycloud,
    ratio: polycloud.msPerOp / raw.msPerOp,
    noise: [Math.min(...pairs), Math.max(...pairs)],
    cpuRatio: polycloud.cpuUsPerOp / raw.cpuUsPerOp,
    cpuNoise: [Math.min(...cpuPairs), Math.max(...cpuPairs)],
    opsPerRound,
  };
}

export { median };
