/**
 * Pure-CPU microbenchmarks of the portable layer, sequential calls, no network:
 *
 * - memory: the memory adapter's driver called directly versus the same driver behind the
 *   portable Bucket / KvStore (argument validation, capability checks, signal/timeout plumbing,
 *   retry wrapper, error normalisation, stream guard on reads). The driver's own work (copying
 *   the bytes, the MD5 of a put, a Map lookup) is the same on both sides, so the difference per
 *   call is what the portable layer costs.
 * - s3 stub: one S3Client whose HTTP handler answers in process (no socket), raw `client.send`
 *   versus a polycloud S3 Bucket on that client: the SDK's own middleware, signing and parsing
 *   run on both sides, so the difference is the portable layer plus the S3 driver.
 */

import { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { s3Bucket } from '@polycloud/aws/s3';
import { Bucket, type DriverPutOptions, KvStore, streamToBytes } from '@polycloud/core';
import { MemoryBucketDriver, MemoryBucketStore, MemoryKvDriver, MemoryKvNamespace } from '@polycloud/memory';
import {
  type BenchSettings,
  cpuMicros,
  formatRate,
  formatRatio,
  KiB,
  median,
  randomBytes,
  table,
} from './common.js';
import type { Row } from './results.js';

type Op = (i: number) => Promise<unknown>;

interface MicroCase {
  readonly name: string;
  readonly direct: Op;
  readonly portable: Op;
}

export interface MicroRow {
  readonly name: string;
  /** Calls per second of wall time, over all rounds. */
  readonly directRate: number;
  readonly portableRate: number;
  /** CPU µs per call: medians over the alternating rounds. */
  readonly directUs: number;
  readonly portableUs: number;
  /** Median over the rounds of (portable − direct) CPU µs per call, and its range. */
  readonly overheadUs: number;
  readonly overheadRangeUs: readonly [number, number];
  /** Median over the rounds of portable / direct CPU time per call. */
  readonly ratio: number;
  /** Lowest and highest per-round CPU ratio. */
  readonly ratioRange: readonly [number, number];
}

const KEYS = 1000;
const keyOf = (i: number) => `bench/key-${String(i % KEYS).padStart(4, '0')}`;

function memoryCases(): MicroCase[] {
  const blobDriver = new MemoryBucketDriver(new MemoryBucketStore('bench-micro'));
  const bucket = new Bucket(blobDriver);
  const kvDriver = new MemoryKvDriver(new MemoryKvNamespace('bench-micro', 'default'));
  const kv = new KvStore<{ name: string; n: number }>(kvDriver);

  const body = randomBytes(1 * KiB);
  // What Bucket.put hands the driver for a plain put: the baseline builds it once.
  const putOpts: DriverPutOptions = {
    contentType: undefined,
    contentEncoding: undefined,
    contentDisposition: undefined,
    cacheControl: undefined,
    metadata: {},
    ifNoneMatch: undefined,
    ifMatch: undefined,
    md5: undefined,
    crc32c: undefined,
    partSize: 8 * 1024 * 1024,
    concurrency: 4,
    beforeCommit: () => {},
    signal: undefined,
  };
  const getOpts = { range: undefined, ifMatch: undefined, signal: undefined };
  const setOpts = { ifVersion: undefined, ifAbsent: false, expiresAt: undefined, signal: undefined };
  const value = { name: 'Ada Lovelace', n: 1815 };

  return [
    {
      name: 'blob put 1 KiB',
      direct: (i) => blobDriver.put(keyOf(i), { kind: 'bytes', data: body }, putOpts),
      portable: (i) => bucket.put(keyOf(i), body),
    },
    {
      name: 'blob get 1 KiB (read to bytes)',
      direct: async (i) => streamToBytes((await blobDriver.get(keyOf(i), getOpts)).body),
      portable: (i) => bucket.getBytes(keyOf(i)),
    },
    {
      name: 'kv set (small JSON)',
      direct: (i) => kvDriver.set(keyOf(i), value, setOpts),
      portable: (i) => kv.set(keyOf(i), value),
    },
    {
      name: 'kv get (small JSON)',
      direct: (i) => kvDriver.get(keyOf(i), { signal: undefined }),
      portable: (i) => kv.get(keyOf(i)),
    },
  ];
}

/** Sequential calls for about `ms` of wall time; calls made, wall ms and CPU µs they took. */
async function loop(op: Op, ms: number, start: number): Promise<{ ops: number; ms: number; cpuUs: number }> {
  const c0 = cpuMicros();
  const t0 = performance.now();
  let i = start;
  let now = t0;
  do {
    for (let k = 0; k < 16; k++) await op(i++);
    now = performance.now();
  } while (now - t0 < ms);
  return { ops: i - start, ms: now - t0, cpuUs: cpuMicros() - c0 };
}

/**
 * An S3 HTTP handler that never opens a socket: PUT answers 200 with an etag, GET answers the
 * object (keys under `big/` get `big`, in 64 KiB chunks as a socket would deliver them).
 * Everything above it (serialisation, SigV4 signing, retry middleware, parsing) is real.
 */
function stubHandler(small: Uint8Array, big: Uint8Array) {
  const lastModified = new Date().toUTCString();
  const chunks = (data: Uint8Array) => {
    const out: Buffer[] = [];
    for (let off = 0; off < data.byteLength; off += 64 * KiB) {
      out.push(Buffer.from(data.subarray(off, Math.min(data.byteLength, off + 64 * KiB))));
    }
    return out;
  };
  const bodies = { small: chunks(small), big: chunks(big) };
  return {
    async handle(request: { method: string; path: string }) {
      const headers: Record<string, string> = { etag: '"0123456789abcdef0123456789abcdef"' };
      if (request.method !== 'GET')
        return { response: { statusCode: 200, headers, body: Readable.from([]) } };
      const isBig = request.path.includes('/big/');
      return {
        response: {
          statusCode: 200,
          headers: {
            ...headers,
            'content-length': String((isBig ? big : small).byteLength),
            'content-type': 'application/octet-stream',
            'last-modified': lastModified,
          },
          body: Readable.from(isBig ? bodies.big : bodies.small, { objectMode: false }),
        },
      };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs() {
      return {};
    },
    destroy() {},
  };
}

function s3StubCases(): MicroCase[] {
  const body = randomBytes(4 * KiB);
  const big = randomBytes(1024 * KiB);
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: stubHandler(body, big) as unknown as S3ClientConfig['requestHandler'],
  });
  const name = 'bench';
  const bucket = s3Bucket({ bucket: name, client });
  return [
    {
      name: 's3 put 4 KiB',
      direct: (i) =>
        client.send(
          new PutObjectCommand({
            Bucket: name,
            Key: keyOf(i),
            Body: body,
            ContentLength: body.byteLength,
            ContentType: 'application/octet-stream',
          }),
        ),
      portable: (i) => bucket.put(keyOf(i), body),
    },
    {
      name: 's3 get 4 KiB (read to bytes)',
      direct: async (i) => {
        const out = await client.send(new GetObjectCommand({ Bucket: name, Key: keyOf(i) }));
        return out.Body!.transformToByteArray();
      },
      portable: (i) => bucket.getBytes(keyOf(i)),
    },
    {
      // Attribution: the raw side reads the body the way polycloud does (as a Web stream), so
      // what is left is polycloud's own layer on a read.
      name: 's3 get 4 KiB, raw also via transformToWebStream()',
      direct: async (i) => {
        const out = await client.send(new GetObjectCommand({ Bucket: name, Key: keyOf(i) }));
        return streamToBytes(out.Body!.transformToWebStream() as ReadableStream<Uint8Array>);
      },
      portable: (i) => bucket.getBytes(keyOf(i)),
    },
    {
      name: 's3 get 1 MiB (64 KiB chunks)',
      direct: async (i) => {
        const out = await client.send(new GetObjectCommand({ Bucket: name, Key: `big/${keyOf(i)}` }));
        return out.Body!.transformToByteArray();
      },
      portable: (i) => bucket.getBytes(`big/${keyOf(i)}`),
    },
    {
      name: 's3 get 1 MiB, raw also via transformToWebStream()',
      direct: async (i) => {
        const out = await client.send(new GetObjectCommand({ Bucket: name, Key: `big/${keyOf(i)}` }));
        return streamToBytes(out.Body!.transformToWebStream() as ReadableStream<Uint8Array>);
      },
      portable: (i) => bucket.getBytes(`big/${keyOf(i)}`),
    },
  ];
}

export type MicroSuite = 'memory' | 's3-stub';

export async function runMicro(s: BenchSettings, suite: MicroSuite): Promise<MicroRow[]> {
  const all = suite === 'memory' ? memoryCases() : s3StubCases();
  if (suite === 'memory') {
    // Fill both stores so gets hit (the portable and direct sides share one store per service).
    for (let i = 0; i < KEYS; i++) {
      await all[0]!.direct(i);
      await all[2]!.direct(i);
    }
  }
  return compare(all, s);
}

async function compare(all: readonly MicroCase[], s: BenchSettings): Promise<MicroRow[]> {
  const rows: MicroRow[] = [];
  for (const c of all) {
    // Warm-up: let the JIT settle on both paths before anything is counted.
    await loop(c.direct, s.microMs / 4, 0);
    await loop(c.portable, s.microMs / 4, 0);
    const perRound = s.microMs / s.microRounds;
    const us: Record<'direct' | 'portable', number[]> = { direct: [], portable: [] };
    const wall = { direct: { ops: 0, ms: 0 }, portable: { ops: 0, ms: 0 } };
    for (let r = 0; r < s.microRounds; r++) {
      const order = r % 2 === 0 ? (['direct', 'portable'] as const) : (['portable', 'direct'] as const);
      for (const side of order) {
        const got = await loop(c[side], perRound, r * 100_000);
        us[side].push(got.cpuUs / got.ops);
        wall[side].ops += got.ops;
        wall[side].ms += got.ms;
      }
    }
    const deltas = us.portable.map((p, r) => p - us.direct[r]!);
    rows.push({
      name: c.name,
      directRate: (wall.direct.ops * 1000) / wall.direct.ms,
      portableRate: (wall.portable.ops * 1000) / wall.portable.ms,
      directUs: median(us.direct),
      portableUs: median(us.portable),
      overheadUs: median(deltas),
      overheadRangeUs: [Math.min(...deltas), Math.max(...deltas)],
      ratio: median(us.portable.map((p, r) => p / us.direct[r]!)),
      ratioRange: [
        Math.min(...us.portable.map((p, r) => p / us.direct[r]!)),
        Math.max(...us.portable.map((p, r) => p / us.direct[r]!)),
      ],
    });
  }
  return rows;
}

export function formatMicro(rows: readonly MicroRow[], suite: MicroSuite): string {
  const us = (x: number) => x.toFixed(2);
  const base = suite === 'memory' ? 'driver' : 'raw SDK';
  return table(
    [
      suite === 'memory' ? 'operation (memory adapter)' : 'operation (S3Client, stub HTTP handler)',
      `${base} ops/s`,
      'polycloud ops/s',
      `${base} CPU µs`,
      'polycloud CPU µs',
      'overhead CPU µs/call',
      'range over rounds',
      'CPU ratio',
    ],
    rows.map((r) => [
      r.name,
      formatRate(r.directRate),
      formatRate(r.portableRate),
      us(r.directUs),
      us(r.portableUs),
      us(r.overheadUs),
      `${us(r.overheadRangeUs[0])} … ${us(r.overheadRangeUs[1])}`,
      formatRatio(r.ratio),
    ]),
  );
}

/**
 * The same figures as result rows (unit: CPU µs per call). Memory rows have no ratio goal (the
 * goal there is halving the overhead); stub rows compare against the raw SDK (goal 1.02), except
 * the ones whose raw side deliberately reads through a Web stream.
 */
export function microRows(rows: readonly MicroRow[], suite: MicroSuite): Row[] {
  return rows.map((r) => ({
    section: 'micro',
    provider: suite === 'memory' ? 'memory' : 'aws (stub handler)',
    service: 'micro',
    operation: r.name,
    ratio: r.ratio,
    noise: r.ratioRange,
    polycloud: r.portableUs,
    raw: r.directUs,
    unit: 'CPU µs/call',
    baseline: suite === 'memory' ? 'driver called directly' : 'raw S3Client.send',
    ...(suite === 's3-stub' && !r.name.includes('transformToWebStream') ? { goal: 1.02 } : {}),
    note: `overhead ${r.overheadUs.toFixed(2)} µs/call (range ${r.overheadRangeUs[0].toFixed(2)}..${r.overheadRangeUs[1].toFixed(2)})`,
  }));
}
