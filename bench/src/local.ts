/**
 * The embedded default against the in-memory adapter: puts, gets, sends per second and
 * latency percentiles, through the portable types, at concurrency 1 and 8. Local stores live in
 * a temporary folder that is removed afterwards.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Bucket, KvStore, Queue } from '@polycloud/core';
import { localBucket, localKv, localQueue } from '@polycloud/local';
import { memoryBucket, memoryKv, memoryQueue } from '@polycloud/memory';
import {
  type BenchSettings,
  formatMs,
  formatRate,
  KiB,
  progress,
  quantile,
  randomBytes,
  sortedCopy,
  table,
} from './common.js';

interface Stores {
  readonly bucket: Bucket;
  readonly kv: KvStore;
  readonly queue: Queue<{ n: number }>;
}

interface Row {
  readonly adapter: string;
  readonly op: string;
  readonly concurrency: number;
  readonly ops: number;
  readonly seconds: number;
  readonly latenciesMs: readonly number[];
}

/** Runs `op` from `concurrency` workers for `ms`, recording each call's latency. */
async function measure(ms: number, concurrency: number, op: (worker: number, i: number) => Promise<unknown>) {
  const latencies: number[] = [];
  const started = performance.now();
  const until = started + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      for (let i = 0; performance.now() < until; i++) {
        const t = performance.now();
        await op(w, i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { ops: latencies.length, seconds: (performance.now() - started) / 1000, latenciesMs: latencies };
}

export async function runLocal(s: BenchSettings): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'polycloud-bench-local-'));
  const cellMs = s.quick ? 300 : 1_500;
  const body = randomBytes(4 * KiB);
  const rows: Row[] = [];
  try {
    const adapters: [string, () => Promise<Stores>][] = [
      [
        'memory',
        async () => ({ bucket: memoryBucket(), kv: memoryKv(), queue: memoryQueue<{ n: number }>() }),
      ],
      [
        'local',
        async () => ({
          bucket: await localBucket(join(dir, 'bucket')),
          kv: await localKv(join(dir, 'bench.db'), 'bench'),
          queue: await localQueue<{ n: number }>(join(dir, 'bench.db'), 'bench'),
        }),
      ],
    ];
    for (const [adapter, open] of adapters) {
      const { bucket, kv, queue } = await open();
      try {
        for (let w = 0; w < 8; w++) await bucket.put(`get-${w}`, body);
        for (let w = 0; w < 8; w++) await kv.set(`get-${w}`, { n: w, name: 'bench' });
        for (const c of [1, 8]) {
          const cell = async (op: string, fn: (w: number, i: number) => Promise<unknown>) => {
            progress(`local: ${adapter} ${op} c=${c}`);
            rows.push({ adapter, op, concurrency: c, ...(await measure(cellMs, c, fn)) });
          };
          await cell('blob put 4 KiB', (w) => bucket.put(`put-${w}`, body));
          await cell('blob get 4 KiB', (w) => bucket.getBytes(`get-${w}`));
          await cell('kv set (small JSON)', (w, i) => kv.set(`set-${w}`, { n: i, name: 'bench' }));
          await cell('kv get (small JSON)', (w) => kv.get(`get-${w}`));
          await cell('kv increment', (w) => kv.increment(`counter-${w}`));
          await cell('queue send', (_w, i) => queue.send({ n: i }));
          await cell('queue receive+ack (1 msg)', async () => {
            const got = await queue.receive({ maxMessages: 1 });
            if (got.length > 0) await queue.ack(got);
          });
        }
      } finally {
        await bucket.close();
        await kv.close();
        await queue.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

export function formatLocal(rows: readonly Row[]): string {
  return table(
    ['operation', 'conc', 'adapter', 'ops/s', 'p50 ms', 'p99 ms'],
    rows.map((r) => {
      const sorted = sortedCopy(r.latenciesMs);
      return [
        r.op,
        String(r.concurrency),
        r.adapter,
        formatRate(r.ops / r.seconds),
        formatMs(quantile(sorted, 0.5)),
        formatMs(quantile(sorted, 0.99)),
      ];
    }),
    3,
  );
}

export interface ProcessRow {
  readonly what: string;
  readonly processes: number;
  readonly ops: number;
  readonly seconds: number;
  readonly exact: boolean;
}

const childScript = fileURLToPath(new URL('./local-child.ts', import.meta.url));
const tsconfig = fileURLToPath(new URL('../tsconfig.json', import.meta.url));

function child(mode: string, url: string, count: number): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', childScript, mode, url, String(count)],
      { env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig } },
      (err, stdout) => (err ? reject(err) : resolve(Number(String(stdout).trim()))),
    );
  });
}

/**
 * Several processes on one SQLite file: N processes incrementing one counter, and N consumers
 * draining one queue. Wall time includes starting the processes (tsx), so it is a floor.
 */
export async function runLocalProcesses(s: BenchSettings): Promise<ProcessRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'polycloud-bench-local-mp-'));
  const db = pathToFileURL(join(dir, 'mp.db')).pathname;
  const n = 4;
  const increments = s.quick ? 200 : 1_000;
  const messages = s.quick ? 800 : 4_000;
  const rows: ProcessRow[] = [];
  try {
    progress(`local: ${n} processes x ${increments} increments of one counter`);
    const kvUrl = `local://${db}?table=bench`;
    let t = performance.now();
    const done = await Promise.all(Array.from({ length: n }, () => child('increment', kvUrl, increments)));
    let seconds = (performance.now() - t) / 1000;
    const kv = await localKv(join(dir, 'mp.db'), 'bench');
    const total = (await kv.get('counter'))?.value;
    await kv.close();
    rows.push({
      what: `kv increment of one counter (${n} × ${increments})`,
      processes: n,
      ops: done.reduce((a, b) => a + b, 0),
      seconds,
      exact: total === n * increments,
    });

    progress(`local: ${n} consumers draining ${messages} messages`);
    const q = await localQueue<number>(join(dir, 'mp.db'), 'bench');
    for (let i = 0; i < messages; i += 10)
      await q.sendBatch(Array.from({ length: 10 }, (_, j) => ({ body: i + j })));
    await q.close();
    t = performance.now();
    const got = await Promise.all(
      Array.from({ length: n }, () => child('drain', `local://${db}?queue=bench`, 0)),
    );
    // Each consumer ends with one empty 1 s long poll; that second is not work.
    seconds = (performance.now() - t) / 1000 - 1;
    rows.push({
      what: `queue receive(10)+ack of ${messages} messages`,
      processes: n,
      ops: got.reduce((a, b) => a + b, 0),
      seconds,
      exact: got.reduce((a, b) => a + b, 0) === messages,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

export function formatLocalProcesses(rows: readonly ProcessRow[]): string {
  return table(
    ['several processes on one SQLite file', 'processes', 'ops', 'seconds', 'ops/s', 'exact'],
    rows.map((r) => [
      r.what,
      String(r.processes),
      String(r.ops),
      r.seconds.toFixed(2),
      formatRate(r.ops / r.seconds),
      r.exact ? 'yes' : 'NO',
    ]),
  );
}
