/**
 * Probe behind the blob CPU figures in bench/README.md (not part of `npm run bench`): client
 * CPU per small get/put, several variants on one client interleaved in short blocks (order
 * reversed every block) with a full GC before each, medians over the blocks. Variants: the raw
 * SDK, the raw SDK with an AbortSignal, the same inside core's node:http safety net, the driver
 * alone (aws-stub), and polycloud. PROBE_PROVIDER=aws|aws-stub|gcp|azure (aws-stub: an
 * S3Client whose HTTP handler answers in process), PROBE_OP=get|put, PROBE_SIZE (bytes),
 * PROBE_BLOCKS, PROBE_N (ops per block and variant), PROBE_VARIANTS=a,b (a subset),
 * PROBE_PROFILE=<file> (a CPU profile of the measured blocks only). PROBE_VARIANTS also sets the
 * order; each block ends with a PROBE_SETTLE_MS (20) pause inside its CPU window, so work a
 * variant leaves behind is charged to it, not to the next one. `driver` is the driver's read
 * alone (no runner, no ResumingBody); `pcCopy` is polycloud under a second Bucket (a control:
 * it should match `polycloud`).
 *
 *   TSX_TSCONFIG_PATH=bench/tsconfig.json node --expose-gc --import tsx/esm bench/src/probe-blob-cpu.ts
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { BlobServiceClient } from '@azure/storage-blob';
import { s3Bucket } from '@polycloud/aws/s3';
import { azureBucket } from '@polycloud/azure/blob';
import { Bucket, type BucketDriver } from '@polycloud/core';
import { gcsBucket, storageClient } from '@polycloud/gcp/storage';
import { abortHttpOn } from '../../packages/core/src/internal/http-abort.js';
import { cpuMicros, randomBytes } from './common.js';
import { rand, startAzuriteOnDisk, withEmulator } from './emulators.js';
import { clientFor, createBenchBucket } from './s3env.js';

type V = Record<string, (key: string, body: Uint8Array) => Promise<unknown>>;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const provider = process.env.PROBE_PROVIDER ?? 'aws';
const size = Number(process.env.PROBE_SIZE ?? 4096);
const op = process.env.PROBE_OP ?? 'get';
const blocks = Number(process.env.PROBE_BLOCKS ?? 20);
const n = Number(process.env.PROBE_N ?? 100);
const only = process.env.PROBE_VARIANTS?.split(',');
const settleMs = Number(process.env.PROBE_SETTLE_MS ?? 20);

async function collect(stream: Readable): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).byteLength;
}

async function run(variants: V, bucket: Bucket<unknown>): Promise<void> {
  const body = randomBytes(size);
  const key = `probe/${size}`;
  await bucket.put(key, body);
  // In the order PROBE_VARIANTS lists them: a variant pays for leftovers of the one before it.
  const names = only ? only.filter((k) => k in variants) : Object.keys(variants);
  for (const nm of names) for (let i = 0; i < 30; i++) await variants[nm]!(key, body);
  const cpu: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
  const wall: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
  const prof = process.env.PROBE_PROFILE;
  const session = prof ? new Session() : undefined;
  if (session) {
    session.connect();
    await post(session, 'Profiler.enable');
    await post(session, 'Profiler.setSamplingInterval', { interval: 100 });
    await post(session, 'Profiler.start');
  }
  for (let b = 0; b < blocks; b++) {
    const order = b % 2 === 0 ? names : [...names].reverse();
    for (const nm of order) {
      gc();
      const c0 = cpuMicros();
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await variants[nm]!(key, body);
      wall[nm]!.push(((performance.now() - t0) * 1000) / n);
      // Work a variant leaves behind (stream and socket clean-up after its last await) is its
      // own: without this settle it was charged to the variant after it, which made the one
      // after `raw` look ~10% dearer than the same variant elsewhere in the block.
      await new Promise((r) => setTimeout(r, settleMs));
      cpu[nm]!.push((cpuMicros() - c0) / n);
    }
  }
  if (session) {
    const { profile } = (await post(session, 'Profiler.stop')) as { profile: unknown };
    writeFileSync(prof!, JSON.stringify(profile));
    session.disconnect();
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
  // Per-block ratios to the first variant (neighbours in time share the machine's load), then
  // their median and quartiles: steadier on a loaded machine than a ratio of medians.
  const first = names[0]!;
  for (const nm of names) {
    const r = cpu[nm]!.map((c, b) => c / cpu[first]![b]!).sort((x, y) => x - y);
    const q = (f: number) => r[Math.min(r.length - 1, Math.floor(f * r.length))]!;
    console.log(
      `${provider} ${op} ${size}: ${nm.padEnd(14)} cpu med ${med(cpu[nm]!).toFixed(0)} µs, ratio ${q(0.5).toFixed(3)} ` +
        `[q1 ${q(0.25).toFixed(3)} .. q3 ${q(0.75).toFixed(3)}]  wall med ${med(wall[nm]!).toFixed(0)} µs`,
    );
  }
}

function post(s: Session, method: string, params?: object): Promise<unknown> {
  return new Promise((resolve, reject) =>
    s.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res))),
  );
}

/**
 * The same driver under a second Bucket: with its `signalEndsRequests` overridden (attempts
 * inside core's node:http safety net, as before the driver declared it) or other options.
 */
const variants = new Map<string, Bucket<unknown>>();
function variant(b: Bucket<unknown>, over: Partial<BucketDriver>, opts: object = {}): Bucket<unknown> {
  const id = JSON.stringify([over, opts]);
  let v = variants.get(id);
  if (v === undefined) {
    const driver = (b as unknown as { driver: BucketDriver }).driver;
    const d = Object.create(
      driver,
      Object.fromEntries(Object.entries(over).map(([k, x]) => [k, { value: x }])),
    );
    v = new Bucket(d as BucketDriver, opts);
    variants.set(id, v);
  }
  return v;
}

const sig = () => new AbortController().signal;
const probeAls = new AsyncLocalStorage<string>();

/** The driver's own read (no runner, no ResumingBody), its body collected. */
async function driverRead(b: Bucket<unknown>, key: string): Promise<number> {
  const d = (b as unknown as { driver: BucketDriver }).driver;
  const o = { signal: undefined, range: undefined, ifMatch: undefined };
  const r = d.read ? await d.read(key, o) : await d.get(key, o);
  const body = r.body as unknown;
  if (body instanceof Uint8Array) return body.byteLength;
  if (body instanceof Readable) return collect(body);
  let n = 0;
  for await (const c of body as AsyncIterable<Uint8Array>) n += c.byteLength;
  return n;
}

function stubHandler(small: Uint8Array) {
  const lastModified = new Date().toUTCString();
  return {
    async handle(request: { method: string; path: string }) {
      const headers: Record<string, string> = { etag: '"0123456789abcdef0123456789abcdef"' };
      if (request.method !== 'GET')
        return { response: { statusCode: 200, headers, body: Readable.from([]) } };
      return {
        response: {
          statusCode: 200,
          headers: {
            ...headers,
            'content-length': String(small.byteLength),
            'content-type': 'application/octet-stream',
            'last-modified': lastModified,
          },
          body: Readable.from([Buffer.from(small)], { objectMode: false }),
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

async function main() {
  if (provider === 'aws-stub') {
    const client = new S3Client({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: stubHandler(randomBytes(size)) as unknown as S3ClientConfig['requestHandler'],
    });
    const name = 'bench';
    const bucket = s3Bucket({ bucket: name, client }) as Bucket<unknown>;
    const driver = (
      bucket as unknown as { driver: { read(k: string, o: object): Promise<{ body: Readable }> } }
    ).driver;
    const get = (k: string, s?: AbortSignal) =>
      client
        .send(new GetObjectCommand({ Bucket: name, Key: k }), s ? { abortSignal: s } : {})
        .then((o) => o.Body!.transformToByteArray());
    await run(
      {
        raw: (k) => get(k),
        rawSignal: (k) => get(k, sig()),
        rawSigScope: (k) => {
          const s = sig();
          return abortHttpOn(s, () => get(k, s));
        },
        rawScope: (k) => abortHttpOn(sig(), () => get(k)),
        driver: (k) =>
          driver
            .read(k, { signal: undefined, range: undefined, ifMatch: undefined })
            .then((r) => collect(r.body)),
        polycloud: (k) => bucket.getBytes(k),
        pcSafetyNet: (k) => variant(bucket, { signalEndsRequests: false }).getBytes(k),
        pcNoIdle: (k) => variant(bucket, {}, { idleTimeoutMs: 0 }).getBytes(k),
      },
      bucket,
    );
    return;
  }
  if (provider === 'aws') {
    await withEmulator('moto', async (e) => {
      const client = clientFor({
        endpoint: e.env.AWS_ENDPOINT_URL_S3 ?? e.env.AWS_ENDPOINT_URL!,
        region: e.env.AWS_REGION ?? 'us-east-1',
        accessKeyId: 'test',
        secretAccessKey: 'test',
        description: e.description,
        source: 'process',
      });
      const name = await createBenchBucket(client);
      const bucket = s3Bucket({ bucket: name, client }) as Bucket<unknown>;
      const get = (k: string, s?: AbortSignal) =>
        client
          .send(new GetObjectCommand({ Bucket: name, Key: k }), s ? { abortSignal: s } : {})
          .then((o) => o.Body!.transformToByteArray());
      const put = (k: string, b: Uint8Array, s?: AbortSignal) =>
        client.send(
          new PutObjectCommand({
            Bucket: name,
            Key: k,
            Body: b,
            ContentLength: b.byteLength,
            ContentType: 'application/octet-stream',
          }),
          s ? { abortSignal: s } : {},
        );
      const v: V =
        op === 'get'
          ? {
              raw: (k) => get(k),
              rawSignal: (k) => get(k, sig()),
              rawSigScope: (k) => {
                const s = sig();
                return abortHttpOn(s, () => get(k, s));
              },
              polycloud: (k) => bucket.getBytes(k),
              pcSafetyNet: (k) => variant(bucket, { signalEndsRequests: false }).getBytes(k),
              pcNoIdle: (k) => variant(bucket, {}, { idleTimeoutMs: 0 }).getBytes(k),
            }
          : {
              raw: (k, b) => put(k, b),
              rawSignal: (k, b) => put(k, b, sig()),
              rawSigScope: (k, b) => {
                const s = sig();
                return abortHttpOn(s, () => put(k, b, s));
              },
              polycloud: (k, b) => bucket.put(k, b),
            };
      await run(v, bucket);
      await bucket.close();
    });
  } else if (provider === 'gcp') {
    await withEmulator('fake-gcs-server', async (e) => {
      const client = storageClient({ apiEndpoint: e.env.STORAGE_EMULATOR_HOST!, projectId: 'p' });
      const name = `pc-probe-${rand()}`;
      await client.createBucket(name);
      const bucket = gcsBucket({ bucket: name, client }) as Bucket<unknown>;
      const raw = client.bucket(name);
      const get = (k: string) => raw.file(k).download({ validation: false });
      const put = (k: string, b: Uint8Array) =>
        raw.file(k).save(Buffer.from(b.buffer, b.byteOffset, b.byteLength), {
          resumable: false,
          validation: false,
          metadata: { contentType: 'application/octet-stream' },
        });
      const v: V =
        op === 'get'
          ? {
              raw: (k) => get(k),
              rawSigScope: (k) => abortHttpOn(sig(), () => get(k)),
              driver: (k) => driverRead(bucket, k),
              polycloud: (k) => bucket.getBytes(k),
              pcNoIdle: (k) => variant(bucket, {}, { idleTimeoutMs: 0 }).getBytes(k),
              pcCopy: (k) => variant(bucket, {}).getBytes(k),
              // Not a safe setting for this driver (metadata calls take no signal): the cost of the net.
              pcNoNet: (k) => variant(bucket, { signalEndsRequests: true }).getBytes(k),
              // That, inside a bare AsyncLocalStorage frame: what the net's frame alone costs.
              pcNoNetAls: (k) =>
                probeAls.run(k, () => variant(bucket, { signalEndsRequests: true }).getBytes(k)),
            }
          : {
              raw: (k, b) => put(k, b),
              rawSigScope: (k, b) => abortHttpOn(sig(), () => put(k, b)),
              polycloud: (k, b) => bucket.put(k, b),
            };
      await run(v, bucket);
      await bucket.close();
    });
  } else {
    const e = await startAzuriteOnDisk();
    try {
      const service = BlobServiceClient.fromConnectionString(e.env.AZURE_STORAGE_CONNECTION_STRING!);
      const container = service.getContainerClient(`pc-probe-${rand()}`);
      await container.create();
      const bucket = azureBucket({ client: container }) as Bucket<unknown>;
      const get = (k: string, s?: AbortSignal) =>
        container
          .getBlobClient(k)
          .download(0, undefined, s ? { abortSignal: s } : {})
          .then((r) => collect(r.readableStreamBody as Readable));
      const put = (k: string, b: Uint8Array, s?: AbortSignal) =>
        container.getBlockBlobClient(k).upload(b, b.byteLength, {
          blobHTTPHeaders: { blobContentType: 'application/octet-stream' },
          ...(s ? { abortSignal: s } : {}),
        });
      const v: V =
        op === 'get'
          ? {
              raw: (k) => get(k),
              rawSignal: (k) => get(k, sig()),
              rawSigScope: (k) => {
                const s = sig();
                return abortHttpOn(s, () => get(k, s));
              },
              driver: (k) => driverRead(bucket, k),
              polycloud: (k) => bucket.getBytes(k),
              pcSafetyNet: (k) => variant(bucket, { signalEndsRequests: false }).getBytes(k),
              pcNoIdle: (k) => variant(bucket, {}, { idleTimeoutMs: 0 }).getBytes(k),
            }
          : {
              raw: (k, b) => put(k, b),
              rawSignal: (k, b) => put(k, b, sig()),
              rawSigScope: (k, b) => {
                const s = sig();
                return abortHttpOn(s, () => put(k, b, s));
              },
              polycloud: (k, b) => bucket.put(k, b),
            };
      await run(v, bucket);
      await bucket.close();
    } finally {
      await e.stop();
    }
  }
}

await main();
