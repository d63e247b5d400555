/**
 * Blob get/put, 4 KiB … 64 MiB at concurrency 1 and 8, on S3 (moto), Cloud Storage
 * (fake-gcs-server) and Azure Blob (Azurite): the raw SDK against a polycloud Bucket wrapping
 * the very same client instance. The raw side sends what polycloud's driver sends for a plain
 * put and reads a whole object the SDK's own way.
 */

import type { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { s3Bucket } from '@polycloud/aws/s3';
import { azureBucket } from '@polycloud/azure/blob';
import type { Bucket } from '@polycloud/core';
import { gcsBucket, storageClient } from '@polycloud/gcp/storage';
import { abba, type Call } from './abba.js';
import { type BenchSettings, formatRatio, formatSize, MiB, progress, randomBytes } from './common.js';
import { rand, startAzuriteOnDisk, withEmulator } from './emulators.js';
import type { Row } from './results.js';
import { clientFor, createBenchBucket, removeBenchBucket } from './s3env.js';

export const BLOB_GOAL = 1.02;
const CONTENT_TYPE = 'application/octet-stream';

interface BlobTarget {
  readonly provider: string;
  readonly emulator: string;
  readonly bucket: Bucket<unknown>;
  rawPut(key: string, body: Uint8Array): Promise<unknown>;
  /** Reads the whole object; resolves to its length. */
  rawGet(key: string): Promise<number>;
}

async function collect(stream: Readable): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).byteLength;
}

async function grid(s: BenchSettings, t: BlobTarget): Promise<Row[]> {
  const rows: Row[] = [];
  const putKey = (size: number, w: number) => `bench/put/${size}/${w}`;
  const getKey = (size: number) => `bench/get/${size}`;
  for (const size of s.blobSizes) await t.bucket.put(getKey(size), randomBytes(size));
  const bodies = new Map(s.blobSizes.map((size) => [size, randomBytes(size)]));
  // Connections and code paths (put and get, both sides) warm before the first measured cell.
  const first = s.blobSizes[0]!;
  for (let i = 0; i < 16; i++) {
    await t.rawPut(putKey(first, 0), bodies.get(first)!);
    await t.bucket.put(putKey(first, 0), bodies.get(first)!);
    await t.rawGet(getKey(first));
    await t.bucket.getBytes(getKey(first));
  }
  for (const size of s.blobSizes) {
    for (const concurrency of s.blobConcurrency) {
      for (const op of ['put', 'get'] as const) {
        const body = bodies.get(size)!;
        const check = (n: number) => {
          if (n !== size)
            throw new Error(`${t.provider} get ${getKey(size)}: read ${n} bytes, expected ${size}`);
        };
        const sides: Record<'raw' | 'polycloud', Call> =
          op === 'put'
            ? {
                raw: (w) => t.rawPut(putKey(size, w), body),
                polycloud: (w) => t.bucket.put(putKey(size, w), body),
              }
            : {
                raw: async () => check(await t.rawGet(getKey(size))),
                polycloud: async () => check((await t.bucket.getBytes(getKey(size))).byteLength),
              };
        const c = await abba(sides, {
          concurrency,
          cellMs: size >= 16 * MiB ? s.blobBigCellMs : s.blobCellMs,
          rounds: s.rounds,
        });
        rows.push({
          section: 'blob',
          provider: t.provider,
          service: 'blob',
          operation: op,
          size,
          concurrency,
          ratio: c.ratio,
          noise: c.noise,
          polycloud: c.polycloud.msPerOp,
          raw: c.raw.msPerOp,
          unit: 'ms/op',
          baseline: 'raw SDK',
          note: t.emulator,
          goal: BLOB_GOAL,
          cpu: {
            raw: c.raw.cpuUsPerOp,
            polycloud: c.polycloud.cpuUsPerOp,
            ratio: c.cpuRatio,
            noise: c.cpuNoise,
          },
          latencyMs: {
            raw: { p50: c.raw.p50, p99: c.raw.p99 },
            polycloud: { p50: c.polycloud.p50, p99: c.polycloud.p99 },
          },
          ops: c.raw.ops,
        });
        progress(
          `${t.provider} ${formatSize(size)} c=${concurrency} ${op}: ratio ${formatRatio(c.ratio)} ` +
            `[${c.noise.map(formatRatio).join('..')}] cpu ${formatRatio(c.cpuRatio)} (${c.raw.ops}+${c.polycloud.ops} ops)`,
        );
      }
    }
  }
  return rows;
}

async function s3(s: BenchSettings): Promise<Row[]> {
  return withEmulator('moto', async (e) => {
    const endpoint = e.env.AWS_ENDPOINT_URL_S3 ?? e.env.AWS_ENDPOINT_URL!;
    const client = clientFor({
      endpoint,
      region: e.env.AWS_REGION ?? 'us-east-1',
      accessKeyId: e.env.AWS_ACCESS_KEY_ID ?? 'test',
      secretAccessKey: e.env.AWS_SECRET_ACCESS_KEY ?? 'test',
      description: e.description,
      source: 'process',
    });
    const name = await createBenchBucket(client);
    const bucket = s3Bucket({ bucket: name, client });
    try {
      return await grid(s, {
        provider: 'aws',
        emulator: e.description,
        bucket: bucket as Bucket<unknown>,
        rawPut: (key, body) =>
          client.send(
            new PutObjectCommand({
              Bucket: name,
              Key: key,
              Body: body,
              ContentLength: body.byteLength,
              ContentType: CONTENT_TYPE,
            }),
          ),
        rawGet: async (key) => {
          const out = await client.send(new GetObjectCommand({ Bucket: name, Key: key }));
          return (await out.Body!.transformToByteArray()).byteLength;
        },
      });
    } finally {
      await bucket.close();
      await removeBenchBucket(client, name, []);
      client.destroy();
    }
  });
}

async function gcs(s: BenchSettings): Promise<Row[]> {
  return withEmulator('fake-gcs-server', async (e) => {
    const projectId = e.env.GOOGLE_CLOUD_PROJECT ?? 'polycloud-test';
    const client = storageClient({ apiEndpoint: e.env.STORAGE_EMULATOR_HOST!, projectId });
    const name = `pc-bench-${rand()}`;
    await client.createBucket(name);
    const bucket = gcsBucket({ bucket: name, client });
    const raw = client.bucket(name);
    // What the driver does: one multipart request up to partSize, a resumable session above.
    const partSize = 8 * MiB;
    try {
      return await grid(s, {
        provider: 'gcp',
        emulator: e.description,
        bucket: bucket as Bucket<unknown>,
        rawPut: (key, body) =>
          raw.file(key).save(Buffer.from(body.buffer, body.byteOffset, body.byteLength), {
            resumable: body.byteLength > partSize,
            ...(body.byteLength > partSize ? { chunkSize: partSize } : {}),
            validation: false,
            metadata: { contentType: CONTENT_TYPE },
          }),
        rawGet: async (key) => {
          const [buf] = await raw.file(key).download({ validation: false });
          return buf.byteLength;
        },
      });
    } finally {
      await bucket.close();
    }
  });
}

async function azure(s: BenchSettings): Promise<Row[]> {
  const e = await startAzuriteOnDisk();
  try {
    const service = BlobServiceClient.fromConnectionString(e.env.AZURE_STORAGE_CONNECTION_STRING!);
    const container: ContainerClient = service.getContainerClient(`pc-bench-${rand()}`);
    await container.create();
    const bucket = azureBucket({ client: container });
    try {
      return await grid(s, {
        provider: 'azure',
        emulator: e.description,
        bucket: bucket as Bucket<unknown>,
        rawPut: (key, body) =>
          container
            .getBlockBlobClient(key)
            .upload(body, body.byteLength, { blobHTTPHeaders: { blobContentType: CONTENT_TYPE } }),
        rawGet: async (key) => {
          const r = await container.getBlobClient(key).download(0);
          return collect(r.readableStreamBody as Readable);
        },
      });
    } finally {
      await bucket.close();
    }
  } finally {
    await e.stop();
  }
}

export const BLOB_PROVIDERS = { aws: s3, gcp: gcs, azure } as const;
