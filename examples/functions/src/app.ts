/**
 * The example application, written once: an HTTP upload endpoint stores the body in a bucket
 * and queues a job; a worker counts uploads and bytes in key-value counters; a schedule logs
 * the counters; blob events count created and deleted objects. The entry files bind these
 * functions to each platform (lambda.ts, gcp.ts, azure.ts) and to serve() (serve.ts).
 *
 * Resources come from URLs (BUCKET_URL, QUEUE_URL, KV_URL), by default in memory.
 */
import {
  type Bucket,
  blobEventFunction,
  httpFunction,
  type KvStore,
  openBucket,
  openKv,
  openQueue,
  type Queue,
  queueFunction,
  scheduleFunction,
} from '@polycloud/core';
import '@polycloud/memory';

export interface UploadJob {
  readonly key: string;
  readonly size: number;
}

interface Resources {
  bucket: Bucket;
  queue: Queue<UploadJob>;
  kv: KvStore<number>;
}

let resources: Promise<Resources> | undefined;

/** Opens the resources once per process (a warm function instance reuses them). */
export function resourcesOf(): Promise<Resources> {
  resources ??= (async () => ({
    bucket: await openBucket(process.env.BUCKET_URL ?? 'mem://uploads'),
    queue: await openQueue<UploadJob>(process.env.QUEUE_URL ?? 'mem://jobs'),
    kv: (await openKv(process.env.KV_URL ?? 'mem://counters')) as KvStore<number>,
  }))();
  return resources;
}

/** For tests: use these resources instead of the URLs. */
export function useResources(r: Resources): void {
  resources = Promise.resolve(r);
}

const KEY = /^\/uploads\/([A-Za-z0-9._-]{1,200})$/;

/** PUT /uploads/<name> stores the body and queues a job; GET /counters reads the counters. */
export const api = httpFunction(async (req, ctx) => {
  const url = new URL(req.url);
  const { bucket, queue, kv } = await resourcesOf();
  if (req.method === 'GET' && url.pathname === '/counters') {
    const [uploads, bytes] = await kv.getMany(['uploads', 'bytes']);
    return Response.json({ uploads: uploads?.value ?? 0, bytes: bytes?.value ?? 0 });
  }
  const m = KEY.exec(url.pathname);
  if ((req.method === 'PUT' || req.method === 'POST') && m) {
    const body = new Uint8Array(await req.arrayBuffer());
    const key = `uploads/${m[1]}`;
    await bucket.put(key, body, { signal: ctx.signal });
    await queue.send({ key, size: body.byteLength }, { attributes: { source: 'api' } });
    ctx.logger.info('stored an upload', { key, size: body.byteLength });
    return Response.json({ key, size: body.byteLength }, { status: 201 });
  }
  return new Response('not found', { status: 404 });
});

/** Counts uploads and bytes. A throw (e.g. the object vanished) makes the platform retry. */
export const worker = queueFunction<UploadJob>(async (msg, ctx) => {
  const { bucket, kv } = await resourcesOf();
  const info = await bucket.head(msg.body.key, { signal: ctx.signal });
  await kv.increment('uploads', 1);
  await kv.increment('bytes', info.size);
});

/** Every night at 03:00 UTC: log the counters. */
export const nightly = scheduleFunction('0 3 * * *', async (ev, ctx) => {
  const { kv } = await resourcesOf();
  const uploads = await kv.get('uploads');
  ctx.logger.info('nightly counters', { at: ev.scheduledTime.toISOString(), uploads: uploads?.value ?? 0 });
});

/** Counts objects created and deleted in the bucket. */
export const onBlob = blobEventFunction(async (ev) => {
  const { kv } = await resourcesOf();
  await kv.increment(ev.type === 'created' ? 'objects-created' : 'objects-deleted', 1);
});
