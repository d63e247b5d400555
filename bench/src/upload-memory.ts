/**
 * Memory of a streamed upload of unknown length: a generated ReadableStream (64 KiB chunks, no
 * length) uploaded through polycloud's Bucket.put (its bounded multipart uploader) or through the
 * raw @aws-sdk/lib-storage Upload, with the same part size and parts in flight.
 *
 * Each upload runs in a fresh child process (this file, started with --expose-gc), so nothing
 * from an earlier measurement is left in its heap: the baseline is taken after a warm-up request
 * and two full collections, and RSS / JS memory are sampled every 5 ms and on every chunk the
 * source produces. No collection is forced during the upload.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { s3Bucket } from '@polycloud/aws/s3';
import { type BenchSettings, formatMiB, MiB, table } from './common.js';
import { clientFor, type S3Target } from './s3env.js';

export type Uploader = 'polycloud' | 'lib-storage';

/**
 * natural: RSS and heap+buffers sampled as they are (garbage not yet collected included);
 * gc-probed: a separate run that forces a full collection before each sample taken in the
 * source (every 1 MiB produced), so the peak is what the uploader really keeps reachable.
 */
export type ProbeMode = 'natural' | 'gc-probed';

interface ChildConfig {
  readonly target: S3Target;
  readonly bucket: string;
  readonly uploader: Uploader;
  readonly mode: ProbeMode;
  readonly totalBytes: number;
  readonly partSize: number;
  readonly concurrency: number;
}

export interface UploadResult {
  readonly uploader: Uploader;
  readonly mode: ProbeMode;
  readonly totalBytes: number;
  readonly partSize: number;
  readonly concurrency: number;
  readonly seconds: number;
  readonly baselineRss: number;
  readonly peakRssGrowth: number;
  /** heapUsed + arrayBuffers: what the JS side holds, without allocator slack. */
  readonly peakLiveGrowth: number;
  readonly samples: number;
}

const CHUNK = 64 * 1024;
const CONFIG_VARIABLE = 'POLYCLOUD_BENCH_UPLOAD';

/** Runs one upload in a child process and returns what it measured. */
export async function measureUpload(
  s: BenchSettings,
  target: S3Target,
  bucket: string,
  uploader: Uploader,
  mode: ProbeMode,
): Promise<UploadResult> {
  const config: ChildConfig = {
    target,
    bucket,
    uploader,
    mode,
    totalBytes: s.uploadBytes,
    partSize: s.uploadPartSize,
    concurrency: s.uploadConcurrency,
  };
  const file = fileURLToPath(import.meta.url);
  // process.execArgv carries tsx's loader; TSX_TSCONFIG_PATH (inherited) its path mapping.
  const child = spawn(process.execPath, [...process.execArgv, '--expose-gc', file], {
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
  const last = out.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !last.startsWith('{')) {
    throw new Error(`${uploader} upload child exited with ${code}: ${out.trim().slice(-2000)}`);
  }
  return JSON.parse(last) as UploadResult;
}

async function child(cfg: ChildConfig): Promise<UploadResult> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const client = clientFor(cfg.target);
  const bucket = s3Bucket({
    bucket: cfg.bucket,
    client,
    partSize: cfg.partSize,
    concurrency: cfg.concurrency,
  });
  const { Upload } = await import('@aws-sdk/lib-storage');

  let peakRss = 0;
  let peakLive = 0;
  let samples = 0;
  let pulls = 0;
  let measuring = false;
  const sample = () => {
    const m = process.memoryUsage();
    samples++;
    if (m.rss > peakRss) peakRss = m.rss;
    const live = m.heapUsed + m.arrayBuffers;
    if (live > peakLive) peakLive = live;
  };

  /** `total` bytes in fresh 64 KiB chunks, length not announced (like a pipe or a socket). */
  const source = (total: number) => {
    let sent = 0;
    return new ReadableStream<Uint8Array>({
      pull(c) {
        if (cfg.mode === 'natural') sample();
        else if (measuring && pulls++ % (MiB / CHUNK) === 0) {
          gc();
          sample();
        }
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
    if (cfg.uploader === 'polycloud') {
      await bucket.put(key, source(total));
    } else {
      await new Upload({
        client,
        params: {
          Bucket: cfg.bucket,
          Key: key,
          Body: source(total),
          ContentType: 'application/octet-stream',
        },
        partSize: cfg.partSize,
        queueSize: cfg.concurrency,
        leavePartsOnError: false,
      }).done();
    }
  };

  // Warm-up on the same path (connection, SDK code), then settle the heap.
  await upload('bench/upload/warm-up', 1024);
  await client.send(new DeleteObjectCommand({ Bucket: cfg.bucket, Key: 'bench/upload/warm-up' }));
  for (let i = 0; i < 2; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
  const base = process.memoryUsage();
  peakRss = base.rss;
  peakLive = base.heapUsed + base.arrayBuffers;

  const key = `bench/upload/${cfg.uploader}`;
  const timer = cfg.mode === 'natural' ? setInterval(sample, 5) : undefined;
  measuring = true;
  const t0 = performance.now();
  try {
    await upload(key, cfg.totalBytes);
  } finally {
    clearInterval(timer);
    measuring = false;
  }
  const seconds = (performance.now() - t0) / 1000;
  if (cfg.mode === 'natural') sample();
  const head = await client.send(new HeadObjectCommand({ Bucket: cfg.bucket, Key: key }));
  if (head.ContentLength !== cfg.totalBytes) {
    throw new Error(`uploaded object has ${head.ContentLength} bytes, expected ${cfg.totalBytes}`);
  }
  await client.send(new DeleteObjectCommand({ Bucket: cfg.bucket, Key: key }));
  client.destroy();
  return {
    uploader: cfg.uploader,
    mode: cfg.mode,
    totalBytes: cfg.totalBytes,
    partSize: cfg.partSize,
    concurrency: cfg.concurrency,
    seconds,
    baselineRss: base.rss,
    peakRssGrowth: peakRss - base.rss,
    peakLiveGrowth: peakLive - (base.heapUsed + base.arrayBuffers),
    samples,
  };
}

/** One row per uploader: the natural run's RSS and speed, the gc-probed run's live peak. */
export function formatUploads(results: readonly UploadResult[]): string {
  const uploaders = [...new Set(results.map((r) => r.uploader))];
  return table(
    [
      'streamed upload (unknown length)',
      'size',
      'part × conc',
      'bound part×(conc+1)',
      'peak RSS growth',
      'RSS / bound',
      'peak heap+buffers growth',
      'live after GC, peak',
      'live / bound',
      'MiB/s',
    ],
    uploaders.map((u) => {
      const natural = results.find((r) => r.uploader === u && r.mode === 'natural');
      const probed = results.find((r) => r.uploader === u && r.mode === 'gc-probed');
      const any = (natural ?? probed)!;
      const bound = any.partSize * (any.concurrency + 1);
      const mib = (x: number | undefined) => (x === undefined ? '-' : formatMiB(x));
      const per = (x: number | undefined) => (x === undefined ? '-' : (x / bound).toFixed(2));
      return [
        u === 'polycloud' ? 'polycloud Bucket.put' : 'raw @aws-sdk/lib-storage Upload',
        formatMiB(any.totalBytes),
        `${any.partSize / MiB} MiB × ${any.concurrency}`,
        formatMiB(bound),
        mib(natural?.peakRssGrowth),
        per(natural?.peakRssGrowth),
        mib(natural?.peakLiveGrowth),
        mib(probed?.peakLiveGrowth),
        per(probed?.peakLiveGrowth),
        natural ? (natural.totalBytes / MiB / natural.seconds).toFixed(1) : '-',
      ];
    }),
  );
}

const raw = process.env[CONFIG_VARIABLE];
if (raw !== undefined && process.argv[1] === fileURLToPath(import.meta.url)) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  child(JSON.parse(raw) as ChildConfig).then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
