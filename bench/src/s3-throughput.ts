/**
 * put / get throughput on S3 (moto): the raw @aws-sdk/client-s3 client against a polycloud
 * Bucket wrapping that same client instance. Per (size, concurrency, op) cell: a warm-up of
 * both, then rounds that alternate in ABBA order (raw, polycloud, polycloud, raw, ...) with the
 * same number of operations each, so drift of a shared machine or of the emulator hits both.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3Bucket } from '@polycloud/aws/s3';
import {
  type BenchSettings,
  cpuMicros,
  formatMs,
  formatRate,
  formatRatio,
  formatSize,
  median,
  progress,
  quantile,
  randomBytes,
  sortedCopy,
  table,
} from './common.js';

type Op = 'put' | 'get';
type Side = 'raw' | 'polycloud';
/** One operation by worker `w`. */
type Call = (w: number) => Promise<void>;

export interface SideResult {
  readonly ops: number;
  readonly wallMs: number;
  /** CPU time of this (client) process per operation, µs. */
  readonly cpuUsPerOp: number;
  readonly p50: number;
  readonly p95: number;
}

export interface ThroughputRow {
  readonly size: number;
  readonly concurrency: number;
  readonly op: Op;
  readonly raw: SideResult;
  readonly polycloud: SideResult;
  /** polycloud time / raw time over all rounds (> 1: polycloud slower). */
  readonly ratio: number;
  /** The same per ABBA pair: min, median, max. */
  readonly pairRatios: readonly [number, number, number];
  readonly opsPerRound: number;
}

/** `ops` operations spread over `concurrency` workers; wall time and every operation's latency. */
async function round(
  call: Call,
  ops: number,
  concurrency: number,
): Promise<{ wallMs: number; cpuUs: number; lat: number[] }> {
  let next = 0;
  const lat: number[] = [];
  const c0 = cpuMicros();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
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

export async function runThroughput(
  s: BenchSettings,
  client: S3Client,
  bucketName: string,
): Promise<{ rows: ThroughputRow[]; keys: string[] }> {
  // Same instance, so same endpoint, credentials, checksum settings, agent and retry strategy.
  const bucket = s3Bucket({ bucket: bucketName, client });
  const keys: string[] = [];
  const rows: ThroughputRow[] = [];
  const bodies = new Map(s.s3Sizes.map((size) => [size, randomBytes(size)]));

  const putKey = (size: number, w: number) => `bench/put/${size}/${w}`;
  const getKey = (size: number) => `bench/get/${size}`;
  for (const size of s.s3Sizes) {
    keys.push(getKey(size));
    for (let w = 0; w < Math.max(...s.s3Concurrency); w++) keys.push(putKey(size, w));
  }

  const calls = (size: number, op: Op): Record<Side, Call> => {
    const body = bodies.get(size)!;
    if (op === 'put') {
      return {
        // The request polycloud's driver sends for a plain put (it always names the type).
        raw: async (w) => {
          await client.send(
            new PutObjectCommand({
              Bucket: bucketName,
              Key: putKey(size, w),
              Body: body,
              ContentLength: body.byteLength,
              ContentType: 'application/octet-stream',
            }),
          );
        },
        polycloud: async (w) => {
          await bucket.put(putKey(size, w), body);
        },
      };
    }
    const check = (n: number) => {
      if (n !== size) throw new Error(`get ${getKey(size)}: read ${n} bytes, expected ${size}`);
    };
    return {
      // The SDK's own idiom for "read the whole object".
      raw: async () => {
        const out = await client.send(new GetObjectCommand({ Bucket: bucketName, Key: getKey(size) }));
        check((await out.Body!.transformToByteArray()).byteLength);
      },
      polycloud: async () => {
        check((await bucket.getBytes(getKey(size))).byteLength);
      },
    };
  };

  // Objects the gets read, and a first warm-up of connections and code paths.
  for (const size of s.s3Sizes) await bucket.put(getKey(size), bodies.get(size)!);
  for (const size of s.s3Sizes.slice(0, 2)) {
    for (const op of ['put', 'get'] as const) {
      const c = calls(size, op);
      await round(c.raw, 16, 8);
      await round(c.polycloud, 16, 8);
    }
  }

  for (const size of s.s3Sizes) {
    for (const concurrency of s.s3Concurrency) {
      for (const op of ['put', 'get'] as const) {
        const c = calls(size, op);
        // Warm-up doubles as calibration: operations per round so that a cell takes s3CellMs
        // per side, at least one per worker.
        const warm = Math.max(2, concurrency);
        const wr = await round(c.raw, warm, concurrency);
        const wp = await round(c.polycloud, warm, concurrency);
        const perOp = Math.max(wr.wallMs, wp.wallMs) / warm;
        const target = s.s3CellMs / s.s3Rounds;
        let opsPerRound = Math.max(concurrency, Math.min(4000, Math.round(target / perOp)));
        opsPerRound = Math.ceil(opsPerRound / concurrency) * concurrency;

        type Acc = { ops: number; wallMs: number; cpuUs: number; lat: number[] };
        const acc: Record<Side, Acc> = {
          raw: { ops: 0, wallMs: 0, cpuUs: 0, lat: [] },
          polycloud: { ops: 0, wallMs: 0, cpuUs: 0, lat: [] },
        };
        const pairs: number[] = [];
        for (let r = 0; r < s.s3Rounds; r += 2) {
          const wall: Record<Side, number> = { raw: 0, polycloud: 0 };
          const order: Side[] = ['raw', 'polycloud', 'polycloud', 'raw'];
          for (const [i, side] of order.entries()) {
            if (r + Math.floor(i / 2) >= s.s3Rounds) break;
            const got = await round(c[side], opsPerRound, concurrency);
            acc[side].ops += opsPerRound;
            acc[side].wallMs += got.wallMs;
            acc[side].cpuUs += got.cpuUs;
            acc[side].lat.push(...got.lat);
            wall[side] += got.wallMs;
          }
          pairs.push(wall.polycloud / wall.raw);
        }
        const side = (x: Acc): SideResult => {
          const sorted = sortedCopy(x.lat);
          return {
            ops: x.ops,
            wallMs: x.wallMs,
            cpuUsPerOp: x.cpuUs / x.ops,
            p50: quantile(sorted, 0.5),
            p95: quantile(sorted, 0.95),
          };
        };
        const row: ThroughputRow = {
          size,
          concurrency,
          op,
          raw: side(acc.raw),
          polycloud: side(acc.polycloud),
          ratio: acc.polycloud.wallMs / acc.polycloud.ops / (acc.raw.wallMs / acc.raw.ops),
          pairRatios: [Math.min(...pairs), median(pairs), Math.max(...pairs)],
          opsPerRound,
        };
        rows.push(row);
        progress(
          `${formatSize(size)} c=${concurrency} ${op}: ratio ${formatRatio(row.ratio)} (${acc.raw.ops}+${acc.polycloud.ops} ops)`,
        );
      }
    }
  }
  await bucket.close(); // leaves the shared client open
  return { rows, keys };
}

export function formatThroughput(rows: readonly ThroughputRow[]): string {
  const rate = (x: SideResult) => formatRate((x.ops * 1000) / x.wallMs);
  const mibs = (r: ThroughputRow, x: SideResult) => ((r.size * x.ops * 1000) / x.wallMs / 2 ** 20).toFixed(1);
  return table(
    [
      'size',
      'conc',
      'op',
      'raw ops/s',
      'polycloud ops/s',
      'ratio',
      'pair ratios min/med/max',
      'raw MiB/s',
      'raw p50 ms',
      'raw p95 ms',
      'pc p50 ms',
      'pc p95 ms',
      'raw CPU µs/op',
      'pc CPU µs/op',
      'ops/side',
    ],
    rows.map((r) => [
      formatSize(r.size),
      String(r.concurrency),
      r.op,
      rate(r.raw),
      rate(r.polycloud),
      formatRatio(r.ratio),
      r.pairRatios.map(formatRatio).join(' / '),
      mibs(r, r.raw),
      formatMs(r.raw.p50),
      formatMs(r.raw.p95),
      formatMs(r.polycloud.p50),
      formatMs(r.polycloud.p95),
      r.raw.cpuUsPerOp.toFixed(0),
      r.polycloud.cpuUsPerOp.toFixed(0),
      String(r.raw.ops),
    ]),
    3,
  );
}
