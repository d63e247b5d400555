// Time series of RSS / array buffers / GC events during one streamed upload against the sink.
import { PerformanceObserver } from 'node:perf_hooks';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { s3Bucket } from '@polycloud/aws/s3';
import type { Bucket } from '@polycloud/core';
const MiB = 1 << 20, CHUNK = 64 * 1024;
const total = Number(process.env.MIB ?? 256) * MiB;
const src = process.env.SRC ?? 'web';
const who = process.env.WHO ?? 'polycloud';
const partSize = 8 * MiB, concurrency = 4;
const client = new S3Client({ endpoint: `http://127.0.0.1:${process.env.PORT}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
const azure = process.env.AZ === '1';
const { BlobServiceClient } = await import('@azure/storage-blob');
const { azureBucket } = await import('@polycloud/azure/blob');
const container = BlobServiceClient.fromConnectionString(`DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:${process.env.PORT}/devstoreaccount1;`).getContainerClient('c');
const bucket = (azure ? azureBucket({ client: container, partSize, concurrency }) : s3Bucket({ bucket: 'b', client, partSize, concurrency })) as Bucket<unknown>;
function source(n: number): unknown {
  let sent = 0;
  if (src === 'web') return new ReadableStream<Uint8Array>({ pull(c) { if (sent >= n) return c.close(); const k = Math.min(CHUNK, n - sent); c.enqueue(new Uint8Array(k).fill(sent & 0xff)); sent += k; } });
  if (src === 'bytes') return new ReadableStream({ type: 'bytes', pull(c) { if (sent >= n) return c.close(); const k = Math.min(CHUNK, n - sent); c.enqueue(new Uint8Array(k).fill(sent & 0xff)); sent += k; } });
  if (src === 'byob') return new ReadableStream({ type: 'bytes', autoAllocateChunkSize: CHUNK, pull(c) { if (sent >= n) { c.close(); c.byobRequest?.respond(0); return; } const r = c.byobRequest!; const v = r.view!; const k = Math.min(v.byteLength, n - sent); new Uint8Array(v.buffer, v.byteOffset, k).fill(sent & 0xff); sent += k; r.respond(k); } });
  if (src === 'node') return Readable.from((async function* () { while (sent < n) { const k = Math.min(CHUNK, n - sent); sent += k; yield Buffer.alloc(k, sent & 0xff); } })());
  if (src === 'file') return fs.createReadStream(process.env.FILE!, { end: n - 1 });
  if (src === 'filehandle') { return (async () => (await fs.promises.open(process.env.FILE!)).readableWebStream({ type: 'bytes' } as never))(); }
  throw new Error(src);
}
const gcs: string[] = [];
let kinds: Record<number, number> = {};
const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) { const k = (e as unknown as { detail: { kind: number } }).detail.kind; kinds[k] = (kinds[k] ?? 0) + 1; } });
obs.observe({ entryTypes: ['gc'] });
async function up(key: string, n: number) {
  const body = await source(n);
  if (who === 'polycloud') await bucket.put(key, body as never);
  else if (azure) await container.getBlockBlobClient(key).uploadStream(body instanceof ReadableStream ? Readable.fromWeb(body as never) : body as never, partSize, concurrency);
  else await new Upload({ client, params: { Bucket: 'b', Key: key, Body: body as never }, partSize, queueSize: concurrency }).done();
}
await up('warm', partSize + 1024);
const gc = (globalThis as { gc?: () => void }).gc!;
gc(); await new Promise((r) => setTimeout(r, 50)); gc();
kinds = {};
const b = process.memoryUsage();
let pr = 0, pab = 0, pext = 0, pheap = 0;
const series: string[] = [];
let t0 = performance.now();
const tick = setInterval(() => { const m = process.memoryUsage(); pr = Math.max(pr, m.rss - b.rss); pab = Math.max(pab, m.arrayBuffers - b.arrayBuffers); pext = Math.max(pext, m.external - b.external); pheap = Math.max(pheap, m.heapUsed - b.heapUsed);
  if (process.env.SERIES) series.push(`${(performance.now() - t0).toFixed(0)} rss+${((m.rss - b.rss) / MiB).toFixed(1)} ab+${((m.arrayBuffers - b.arrayBuffers) / MiB).toFixed(1)} heap+${((m.heapUsed - b.heapUsed) / MiB).toFixed(1)}`); }, 5);
t0 = performance.now();
await up('k', total);
const s = (performance.now() - t0) / 1000;
clearInterval(tick);
if (process.env.SERIES) console.log(series.filter((_, i) => i % Number(process.env.SERIES) === 0).join('\n'));
console.log(JSON.stringify({ az: azure, who, src, MiBps: +(total / MiB / s).toFixed(1), rss: +(pr / MiB).toFixed(1), ab: +(pab / MiB).toFixed(1), ext: +(pext / MiB).toFixed(1), heap: +(pheap / MiB).toFixed(1), gcKinds: kinds }));
