/**
 * Memory and speed of a streamed upload of unknown length: a generated ReadableStream (64 KiB
 * chunks, no length) uploaded through polycloud's Bucket.put or through the SDK's own managed
 * upload, with the same part size and parts in flight:
 *
 *   aws    @aws-sdk/lib-storage Upload (partSize, queueSize)
 *   gcp    file.createWriteStream({ resumable: true, chunkSize }) (the SDK's resumable upload)
 *   azure  BlockBlobClient.uploadStream(readable, bufferSize, maxConcurrency)
 *
 * Each upload runs in a fresh child process (this file, started with --expose-gc), so nothing
 * from an earlier measurement is left in its heap: the baseline is taken after a warm-up request
 * and two full collections, and RSS / JS memory are sampled every 5 ms and on every chunk the
 * source produces. No collection is forced during a natural run.
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { writeHeapSnapshot } from 'node:v8';
import type { Bucket } from '@polycloud/core';
import { type BenchSettings, formatMiB, MiB, table } from './common.js';
import type { Row } from './results.js';
import type { S3Target } from './s3env.js';

export type UploadProvider = 'aws' | 'gcp' | 'azure';
/**
 * What the upload reads (`BENCH_UPLOAD_SOURCE`): `web` a generated ReadableStream of fresh 64 KiB
 * chunks (the default, what a generated or transformed Web stream gives); `bytes` a generated
 * byte stream whose source writes into the reader's buffer (`byobRequest`, 64 KiB views for
 * default readers); `file` `fs.createReadStream` of a temp file (a Node Readable, 64 KiB
 * chunks); `filehandle` `FileHandle.readableWebStream()` of the same file (a Node byte stream).
 */
export type UploadSource = 'web' | 'bytes' | 'file' | 'filehandle';
export const UPLOAD_SOURCES: readonly UploadSource[] = ['web', 'bytes', 'file', 'filehandle'];
export type Uploader = 'polycloud' | 'raw';

/** Where a child uploads to: enough to build the same client in a fresh process. */
export type UploadTarget =
  | { readonly provider: 'aws'; readonly s3: S3Target; readonly bucket: string }
  | {
      readonly provider: 'gcp';
      readonly apiEndpoint: string;
      readonly projectId: string;
      readonly bucket: string;
    }
  | { readonly provider: 'azure'; readonly connectionString: string; readonly bucket: string };

/**
 * natural: RSS and heap+buffers sampled as they are (garbage not yet collected included);
 * gc-probed: a separate run that forces a full collection before each sample taken in the
 * source (every 1 MiB produced), so the peak is what the uploader really keeps reachable.
 */
export type ProbeMode = 'natural' | 'gc-probed';

interface ChildConfig {
  readonly target: UploadTarget;
  readonly uploader: Uploader;
  readonly mode: ProbeMode;
  readonly totalBytes: number;
  readonly partSize: number;
  readonly concurrency: number;
  readonly source: UploadSource;
}

export interface UploadResult {
  readonly provider: UploadProvider;
  readonly uploader: Uploader;
  readonly mode: ProbeMode;
  readonly totalBytes: number;
  readonly partSize: number;
  readonly concurrency: number;
  readonly source: UploadSource;
  readonly seconds: number;
  /** Client CPU (user + system) of the child during the upload, seconds. */
  readonly cpuSeconds: number;
  readonly baselineRss: number;
  readonly peakRssGrowth: number;
  /** heapUsed + arrayBuffers: what the JS side holds, without allocator slack. */
  readonly peakLiveGrowth: number;
  readonly samples: number;
}

/** The SDK's managed upload each provider is compared with. */
export const RAW_UPLOADER: Record<UploadProvider, string> = {
  aws: 'lib-storage Upload',
  gcp: 'GCS resumable createWriteStream',
  azure: 'Azure BlockBlobClient.uploadStream',
};

const PROVIDER_NAME: Record<UploadProvider, string> = {
  aws: 'S3 (moto)',
  gcp: 'GCS (fake-gcs-server)',
  azure: 'Azure Blob (Azurite)',
};

/** The bound for peak RSS growth: partSize × (concurrency + 1) + 16 MiB. */
export function rssBound(partSize: number, concurrency: number): number {
  return partSize * (concurrency + 1) + 16 * MiB;
}

const CHUNK = 64 * 1024;
const CONFIG_VARIABLE = 'POLYCLOUD_BENCH_UPLOAD';
const CONTENT_TYPE = 'application/octet-stream';

/** `BENCH_UPLOAD_SOURCE`, default `web`. */
export function uploadSource(): UploadSource {
  const v = process.env.BENCH_UPLOAD_SOURCE ?? 'web';
  if (!(UPLOAD_SOURCES as readonly string[]).includes(v)) {
    throw new Error(`BENCH_UPLOAD_SOURCE: one of ${UPLOAD_SOURCES.join(', ')} (got "${v}")`);
  }
  return v as UploadSource;
}

/** Runs one upload in a child process and returns what it measured. */
export async function measureUpload(
  s: BenchSettings,
  target: UploadTarget,
  uploader: Uploader,
  mode: ProbeMode,
  totalBytes = s.uploadBytes,
): Promise<UploadResult> {
  const config: ChildConfig = {
    target,
    uploader,
    mode,
    totalBytes,
    partSize: s.uploadPartSize,
    concurrency: s.uploadConcurrency,
    source: uploadSource(),
  };
  const file = fileURLToPath(import.meta.url);
  // process.execArgv carries tsx's loader; TSX_TSCONFIG_PATH (inherited) its path mapping.
  // BENCH_UPLOAD_NODE_FLAGS: extra V8 flags for the children (e.g. --max-semi-space-size=1).
  const flags = (process.env.BENCH_UPLOAD_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...process.execArgv, '--expose-gc', ...flags, file], {
    env: { ...process.env, [CONFIG_VARIABLE]: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    out += d;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  const lines = out.trim().split('\n');
  const last = lines.at(-1) ?? '';
  // V8 traces (BENCH_UPLOAD_NODE_FLAGS="--trace-gc --trace-incremental-marking") go to stdout
  // before the result line: kept in a log next to the emulators'.
  if (lines.length > 1) {
    const dir = path.join(os.tmpdir(), 'polycloud-bench');
    await fs.mkdir(dir, { recursive: true });
    const log = path.join(dir, `upload-${target.provider}-${uploader}-${mode}-${child.pid}.log`);
    await fs.writeFile(log, `${lines.slice(0, -1).join('\n')}\n`);
    process.stderr.write(`  · child output (V8 traces): ${log}\n`);
  }
  if (code !== 0 || !last.startsWith('{')) {
    throw new Error(
      `${target.provider} ${uploader} upload child exited with ${code}: ${out.trim().slice(-2000)}`,
    );
  }
  return JSON.parse(last) as UploadResult;
}

/** What a child needs per provider: the two upload paths, a size check and clean-up. */
interface Side {
  polycloud: Bucket<unknown>;
  raw(key: string, body: ReadableStream<Uint8Array> | Readable): Promise<unknown>;
  size(key: string): Promise<number | undefined>;
  remove(key: string): Promise<void>;
  close(): Promise<void>;
}

async function sideFor(cfg: ChildConfig): Promise<Side> {
  const t = cfg.target;
  const { partSize, concurrency } = cfg;
  if (t.provider === 'aws') {
    const { DeleteObjectCommand, HeadObjectCommand } = await import('@aws-sdk/client-s3');
    const { Upload } = await import('@aws-sdk/lib-storage');
    const { s3Bucket } = await import('@polycloud/aws/s3');
    const { clientFor } = await import('./s3env.js');
    const client = clientFor(t.s3, { socketTimeoutMs: 300_000 });
    return {
      polycloud: s3Bucket({ bucket: t.bucket, client, partSize, concurrency }) as Bucket<unknown>,
      raw: (key, body) =>
        new Upload({
          client,
          params: { Bucket: t.bucket, Key: key, Body: body, ContentType: CONTENT_TYPE },
          partSize,
          queueSize: concurrency,
          leavePartsOnError: false,
        }).done(),
      size: async (key) =>
        (await client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: key }))).ContentLength,
      remove: async (key) => {
        await client.send(new DeleteObjectCommand({ Bucket: t.bucket, Key: key }));
      },
      close: async () => client.destroy(),
    };
  }
  if (t.provider === 'gcp') {
    const { gcsBucket, storageClient } = await import('@polycloud/gcp/storage');
    const storage = storageClient({ apiEndpoint: t.apiEndpoint, projectId: t.projectId });
    const raw = storage.bucket(t.bucket);
    return {
      polycloud: gcsBucket({ bucket: t.bucket, client: storage, partSize, concurrency }) as Bucket<unknown>,
      // The SDK's resumable upload in chunks of partSize, as the driver asks for (a chunk is
      // what a resumed session re-sends); the SDK sends one chunk at a time.
      raw: (key, body) =>
        pipeline(
          nodeReadable(body),
          raw.file(key).createWriteStream({
            resumable: true,
            chunkSize: partSize,
            validation: false,
            metadata: { contentType: CONTENT_TYPE },
          }),
        ),
      size: async (key) => {
        const [m] = await raw.file(key).getMetadata();
        return m.size === undefined ? undefined : Number(m.size);
      },
      remove: async (key) => {
        await raw.file(key).delete();
      },
      close: async () => {},
    };
  }
  const { BlobServiceClient } = await import('@azure/storage-blob');
  const { azureBucket } = await import('@polycloud/azure/blob');
  const container = BlobServiceClient.fromConnectionString(t.connectionString).getContainerClient(t.bucket);
  return {
    polycloud: azureBucket({ client: container, partSize, concurrency }) as Bucket<unknown>,
    raw: (key, body) =>
      container.getBlockBlobClient(key).uploadStream(nodeReadable(body), partSize, concurrency, {
        blobHTTPHeaders: { blobContentType: CONTENT_TYPE },
      }),
    size: async (key) => (await container.getBlobClient(key).getProperties()).contentLength,
    remove: async (key) => {
      await container.getBlobClient(key).delete();
    },
    close: async () => {},
  };
}

const nodeReadable = (body: ReadableStream<Uint8Array> | Readable): Readable =>
  body instanceof Readable
    ? body
    : Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>);

async function child(cfg: ChildConfig): Promise<UploadResult> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const side = await sideFor(cfg);

  let peakRss = 0;
  let peakLive = 0;
  let samples = 0;
  let pulls = 0;
  let measuring = false;
  let snapped = false;
  let base0 = 0;
  const sample = () => {
    const m = process.memoryUsage();
    samples++;
    if (m.rss > peakRss) peakRss = m.rss;
    const live = m.heapUsed + m.arrayBuffers;
    if (live > peakLive) peakLive = live;
  };

  /** Sampling hook run before each 64 KiB the generated sources produce. */
  const beforeChunk = (sent: number) => {
    if (cfg.mode === 'natural') sample();
    else if (measuring && pulls++ % (MiB / CHUNK) === 0) {
      gc();
      sample();
      // BENCH_UPLOAD_SNAPSHOT=<file>: one heap snapshot the first time more than
      // concurrency + 1.5 parts are live after a full GC, to see what retains them.
      const snap = process.env.BENCH_UPLOAD_SNAPSHOT;
      if (
        snap &&
        !snapped &&
        process.memoryUsage().arrayBuffers - base0 > cfg.partSize * (cfg.concurrency + 1.5)
      ) {
        snapped = true;
        process.stderr.write(`heap snapshot at ${sent} bytes: ${writeHeapSnapshot(snap)}\n`);
      }
    }
  };

  // The file sources read one temp file of the largest size; written before the baseline.
  const file = path.join(os.tmpdir(), `polycloud-bench-upload-${process.pid}.bin`);
  if (cfg.source === 'file' || cfg.source === 'filehandle') {
    const block = new Uint8Array(MiB);
    const fd = await fs.open(file, 'w');
    try {
      for (let off = 0; off < cfg.totalBytes; off += MiB) {
        block.fill((off / MiB) & 0xff);
        await fd.write(block, 0, Math.min(MiB, cfg.totalBytes - off));
      }
    } finally {
      await fd.close();
    }
  }

  /** `total` bytes of the configured kind, length not announced (like a pipe or a socket). */
  const source = async (total: number): Promise<ReadableStream<Uint8Array> | Readable> => {
    let sent = 0;
    if (cfg.source === 'file') return createReadStream(file, { start: 0, end: total - 1 });
    if (cfg.source === 'filehandle') {
      const fh = await fs.open(file);
      // autoClose (Node >= 23.8) closes the file at the end; older typings do not know it.
      const opts = { autoClose: true } as Parameters<typeof fh.readableWebStream>[0];
      const web = fh.readableWebStream(opts) as unknown as ReadableStream<Uint8Array>;
      // A byte stream of the file's first `total` bytes: forward reads until `total`.
      if (total >= cfg.totalBytes) return web;
      const reader = web.getReader();
      return new ReadableStream<Uint8Array>({
        async pull(c) {
          const { done, value } = await reader.read();
          if (done || sent >= total) {
            c.close();
            await reader.cancel().catch(() => {});
            return;
          }
          const n = Math.min(value.byteLength, total - sent);
          sent += n;
          c.enqueue(value.subarray(0, n));
        },
      });
    }
    if (cfg.source === 'bytes') {
      return new ReadableStream({
        type: 'bytes',
        autoAllocateChunkSize: CHUNK,
        pull(c) {
          const req = c.byobRequest!;
          if (sent >= total) {
            c.close();
            req.respond(0);
            return;
          }
          beforeChunk(sent);
          const v = req.view!;
          const n = Math.min(CHUNK, v.byteLength, total - sent);
          new Uint8Array(v.buffer, v.byteOffset, n).fill((sent / CHUNK) & 0xff);
          sent += n;
          req.respond(n);
        },
      }) as ReadableStream<Uint8Array>;
    }
    return new ReadableStream<Uint8Array>({
      pull(c) {
        beforeChunk(sent);
        if (sent >= total) {
          c.close();
          return;
        }
        const n = Math.min(CHUNK, total - sent);
        const chunk = new Uint8Array(n).fill((sent / CHUNK) & 0xff);
        sent += n;
        c.enqueue(chunk);
      },
    });
  };

  const upload = async (key: string, total: number) => {
    const body = await source(total);
    if (cfg.uploader === 'polycloud') await side.polycloud.put(key, body);
    else await side.raw(key, body);
  };

  // Warm-up on the same path (connection, SDK code) with a streamed body of more than one part,
  // then settle the heap.
  const warm = 'bench/upload/warm-up';
  await upload(warm, cfg.partSize + 1024);
  await side.remove(warm);
  for (let i = 0; i < 2; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
  const base = process.memoryUsage();
  base0 = base.arrayBuffers;
  peakRss = base.rss;
  peakLive = base.heapUsed + base.arrayBuffers;

  const key = `bench/upload/${cfg.uploader}`;
  // The file sources have no per-chunk hook: gc-probed runs force a full GC every 250 ms instead
  // (every 50 ms slowed a 128 MiB Cloud Storage upload to 0.4 MiB/s, which only meant more GCs).
  const fileSource = cfg.source === 'file' || cfg.source === 'filehandle';
  const timer =
    cfg.mode === 'natural'
      ? setInterval(sample, 5)
      : fileSource
        ? setInterval(() => {
            gc();
            sample();
          }, 250)
        : undefined;
  measuring = true;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    await upload(key, cfg.totalBytes);
  } finally {
    clearInterval(timer);
    measuring = false;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  if (cfg.mode === 'natural') sample();
  const size = await side.size(key);
  if (size !== cfg.totalBytes) {
    throw new Error(`uploaded object has ${size} bytes, expected ${cfg.totalBytes}`);
  }
  await side.remove(key);
  await fs.rm(file, { force: true });
  await side.polycloud.close();
  await side.close();
  return {
    provider: cfg.target.provider,
    uploader: cfg.uploader,
    mode: cfg.mode,
    totalBytes: cfg.totalBytes,
    partSize: cfg.partSize,
    concurrency: cfg.concurrency,
    source: cfg.source,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    baselineRss: base.rss,
    peakRssGrowth: peakRss - base.rss,
    peakLiveGrowth: peakLive - (base.heapUsed + base.arrayBuffers),
    samples,
  };
}

/**
 * All measurements for one provider: natural runs in ABBA order (raw, polycloud, polycloud, raw)
 * for speed and peak RSS, then one gc-probed run per side (at most 128 MiB: what an uploader
 * keeps reachable does not grow with the size, and a forced GC per MiB is slow).
 */
export async function measureProvider(
  s: BenchSettings,
  target: UploadTarget,
  totalBytes = s.uploadBytes,
): Promise<UploadResult[]> {
  const out: UploadResult[] = [];
  const order: Uploader[] = [];
  for (let i = 0; i < s.uploadRounds; i++) order.push(...(['raw', 'polycloud', 'polycloud', 'raw'] as const));
  for (const [i, u] of order.entries()) {
    const r = await measureUpload(s, target, u, 'natural', totalBytes);
    out.push(r);
    progressLine(r, `natural ${i + 1}/${order.length}`);
  }
  for (const u of ['polycloud', 'raw'] as const) {
    const r = await measureUpload(s, target, u, 'gc-probed', Math.min(totalBytes, 128 * MiB));
    out.push(r);
    progressLine(r, 'gc-probed');
  }
  return out;
}

function progressLine(r: UploadResult, what: string): void {
  process.stderr.write(
    `  · upload ${r.provider} ${r.uploader} ${what}: ${formatMiB(r.totalBytes)} in ${r.seconds.toFixed(1)} s ` +
      `(${(r.totalBytes / MiB / r.seconds).toFixed(1)} MiB/s, CPU ${r.cpuSeconds.toFixed(1)} s), ` +
      `RSS +${formatMiB(r.peakRssGrowth)}, live +${formatMiB(r.peakLiveGrowth)}\n`,
  );
}

const minMax = (xs: readonly number[]): [number, number] => [Math.min(...xs), Math.max(...xs)];
const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/**
 * Rows in the results format: time per GiB (ratio to the SDK's managed upload, goal 1.0: at
 * least its throughput; band from adjacent raw/polycloud pairs) with client CPU; peak RSS growth against the
 * issue's bound (raw = the bound, goal 1.0; band = lowest..highest run); live after GC (info).
 */
export function uploadRows(results: readonly UploadResult[]): Row[] {
  const rows: Row[] = [];
  for (const provider of [...new Set(results.map((r) => r.provider))]) {
    const nat = results.filter((r) => r.provider === provider && r.mode === 'natural');
    const pc = nat.filter((r) => r.uploader === 'polycloud');
    const raw = nat.filter((r) => r.uploader === 'raw');
    if (pc.length === 0 || raw.length === 0) continue;
    const { totalBytes, partSize, concurrency } = pc[0]!;
    // The default source keeps the historical operation names; another is named in them.
    const src = pc[0]!.source ?? 'web';
    const tag = src === 'web' ? '' : ` [${src}]`;
    const perGiB = (rs: readonly UploadResult[], f: (r: UploadResult) => number) =>
      sum(rs.map(f)) / (sum(rs.map((r) => r.totalBytes)) / (1024 * MiB));
    // In ABBA order (raw, polycloud, polycloud, raw) the i-th polycloud run sits next to the
    // i-th raw run: each such pair is one block of the band.
    const blockRatios = (f: (r: UploadResult) => number) => {
      const ratios: number[] = [];
      for (let i = 0; i < Math.min(pc.length, raw.length); i++) ratios.push(f(pc[i]!) / f(raw[i]!));
      return ratios;
    };
    const time = { pc: perGiB(pc, (r) => r.seconds), raw: perGiB(raw, (r) => r.seconds) };
    const cpu = { pc: perGiB(pc, (r) => r.cpuSeconds), raw: perGiB(raw, (r) => r.cpuSeconds) };
    const common = {
      section: 'memory',
      provider,
      service: 'blob' as const,
      size: totalBytes,
      concurrency,
    };
    rows.push({
      ...common,
      operation: `put stream (unknown length)${tag}`,
      ratio: time.pc / time.raw,
      noise: minMax(blockRatios((r) => r.seconds)),
      polycloud: time.pc * 1000,
      raw: time.raw * 1000,
      unit: 'ms/GiB',
      baseline: RAW_UPLOADER[provider],
      goal: 1,
      cpu: {
        raw: cpu.raw * 1e6,
        polycloud: cpu.pc * 1e6,
        ratio: cpu.pc / cpu.raw,
        noise: minMax(blockRatios((r) => r.cpuSeconds)),
      },
      ops: nat.length,
      note: `source ${src}; part ${partSize / MiB} MiB × ${concurrency}; natural runs, fresh child process each; time and CPU per GiB; band: adjacent raw/polycloud pairs`,
    });
    const bound = rssBound(partSize, concurrency);
    const pcRss = pc.map((r) => r.peakRssGrowth);
    const rawRss = raw.map((r) => r.peakRssGrowth);
    rows.push({
      ...common,
      operation: `put stream peak RSS growth${tag}`,
      ratio: Math.max(...pcRss) / bound,
      noise: minMax(pcRss.map((x) => x / bound)),
      polycloud: Math.max(...pcRss) / MiB,
      raw: bound / MiB,
      unit: 'MiB',
      baseline: 'bound partSize×(conc+1)+16 MiB',
      goal: 1,
      ops: pc.length,
      note: `${RAW_UPLOADER[provider]}: peak RSS growth ${minMax(rawRss)
        .map((x) => (x / MiB).toFixed(1))
        .join('..')} MiB (${(Math.max(...rawRss) / bound).toFixed(2)} of the bound)`,
    });
    const probed = results.filter((r) => r.provider === provider && r.mode === 'gc-probed');
    const pProbe = probed.find((r) => r.uploader === 'polycloud');
    const rProbe = probed.find((r) => r.uploader === 'raw');
    if (pProbe && rProbe) {
      const ratio = pProbe.peakLiveGrowth / rProbe.peakLiveGrowth;
      rows.push({
        ...common,
        size: pProbe.totalBytes,
        operation: `put stream live after GC, peak${tag}`,
        ratio,
        noise: [ratio, ratio],
        polycloud: pProbe.peakLiveGrowth / MiB,
        raw: rProbe.peakLiveGrowth / MiB,
        unit: 'MiB',
        baseline: RAW_UPLOADER[provider],
        ops: 2,
        note: `heap + array buffers after a forced full GC at every MiB produced; bound without slack ${formatMiB(partSize * (concurrency + 1))}`,
      });
    }
  }
  return rows;
}

/** A plain-text table: one line per provider and uploader. */
export function formatUploads(results: readonly UploadResult[]): string {
  const lines: string[][] = [];
  for (const provider of [...new Set(results.map((r) => r.provider))]) {
    for (const u of ['polycloud', 'raw'] as const) {
      const nat = results.filter((r) => r.provider === provider && r.uploader === u && r.mode === 'natural');
      const probed = results.find(
        (r) => r.provider === provider && r.uploader === u && r.mode === 'gc-probed',
      );
      const any = nat[0] ?? probed;
      if (!any) continue;
      const bound = rssBound(any.partSize, any.concurrency);
      const rss = nat.length > 0 ? Math.max(...nat.map((r) => r.peakRssGrowth)) : undefined;
      const mibs = nat.map((r) => r.totalBytes / MiB / r.seconds);
      lines.push([
        `${PROVIDER_NAME[provider]}: ${u === 'polycloud' ? 'polycloud Bucket.put' : RAW_UPLOADER[provider]}`,
        formatMiB(any.totalBytes),
        `${any.partSize / MiB} MiB × ${any.concurrency}`,
        formatMiB(bound),
        rss === undefined ? '-' : formatMiB(rss),
        rss === undefined ? '-' : (rss / bound).toFixed(2),
        nat.length > 0 ? formatMiB(Math.max(...nat.map((r) => r.peakLiveGrowth))) : '-',
        probed ? formatMiB(probed.peakLiveGrowth) : '-',
        mibs.length > 0 ? mibs.map((x) => x.toFixed(1)).join(', ') : '-',
        nat.length > 0
          ? (sum(nat.map((r) => r.cpuSeconds)) / sum(nat.map((r) => r.totalBytes / (1024 * MiB)))).toFixed(1)
          : '-',
      ]);
    }
  }
  return table(
    [
      'streamed upload (unknown length)',
      'size',
      'part × conc',
      'bound part×(conc+1)+16 MiB',
      'peak RSS growth (max)',
      'RSS / bound',
      'peak heap+buffers growth',
      'live after GC, peak',
      'MiB/s per run',
      'CPU s/GiB',
    ],
    lines,
  );
}

const rawConfig = process.env[CONFIG_VARIABLE];
if (rawConfig !== undefined && process.argv[1] === fileURLToPath(import.meta.url)) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.env.METADATA_SERVER_DETECTION ??= 'none';
  child(JSON.parse(rawConfig) as ChildConfig).then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
