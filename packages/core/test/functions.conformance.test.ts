import { randomUUID } from 'node:crypto';
import { functionsSuite } from '@polycloud/conformance';
import {
  type BlobEventFunction,
  blobEventFunction,
  openBucket,
  openQueue,
  type PortableFunction,
  type QueueFunction,
  type ScheduleFunction,
  type Served,
  serve,
} from '@polycloud/core';
import '@polycloud/memory';

/** Sends a Request to a served URL (the suite builds requests against a placeholder origin). */
async function fetchAt(base: string, req: Request): Promise<Response> {
  const u = new URL(req.url);
  const body =
    req.method === 'GET' || req.method === 'HEAD' ? undefined : new Uint8Array(await req.arrayBuffer());
  return fetch(`${base}${u.pathname}${u.search}`, {
    method: req.method,
    headers: req.headers,
    redirect: 'manual',
    ...(body ? { body } : {}),
  });
}

functionsSuite({
  adapter: 'local',
  emulator: null,
  reportName: 'local-functions',
  runtime: 'serve()',
  binding: 'serve()',
  provider: 'local',
  hasDeadline: false,
  async http(fn) {
    const s = await serve({ http: fn, port: 0, handleSignals: false });
    return { fetch: (req) => fetchAt(s.url!, req), close: () => s.stop() };
  },
  async queue() {
    const claimCheck = await openBucket(`mem://claims-${randomUUID()}`);
    const url = `mem://fn-${randomUUID()}`;
    const queue = await openQueue(url, { claimCheck: { bucket: claimCheck } });
    let served: Served | undefined;
    return {
      queue,
      claimCheck,
      async deliver(fn: QueueFunction<unknown>) {
        // serve() consumes continuously: the first round starts it, later rounds let it work.
        served ??= await serve({
          queues: [{ fn, queue, consume: { waitSeconds: 1, retryDelaySeconds: () => 0 } }],
          handleSignals: false,
        });
        await new Promise((r) => setTimeout(r, 100));
        return {};
      },
      async cleanup() {
        await served?.stop();
        await queue.close();
        await claimCheck.close();
      },
    };
  },
  async schedule(fn: ScheduleFunction) {
    const s = await serve({ schedules: [fn], handleSignals: false });
    try {
      await s.runSchedule(fn);
    } finally {
      await s.stop();
    }
  },
  async blob(fn: BlobEventFunction) {
    const bucket = await openBucket(`mem://blob-${randomUUID()}`);
    let seen = 0;
    const wrapped = blobEventFunction(async (e, ctx) => {
      await fn.handler(e, ctx);
      seen++;
    });
    const s = await serve({ blobEvents: [{ fn: wrapped, bucket, pollSeconds: 0.05 }], handleSignals: false });
    const until = async (n: number) => {
      for (let i = 0; i < 200 && seen < n; i++) await new Promise((r) => setTimeout(r, 25));
    };
    return {
      bucket,
      async put(key, body) {
        const before = seen;
        await bucket.put(key, body);
        await until(before + 1);
      },
      async remove(key) {
        const before = seen;
        await bucket.delete(key);
        await until(before + 1);
      },
      async cleanup() {
        await s.stop();
        await bucket.close();
      },
    };
  },
  async malformed(fn: PortableFunction) {
    // serve()'s "unknown event" is a function wired to a slot of another kind.
    const wrong =
      fn.kind === 'http' ? { schedules: [fn as unknown as ScheduleFunction] } : { http: fn as never };
    try {
      const s = await serve({ ...wrong, handleSignals: false });
      await s.stop();
      return undefined;
    } catch (err) {
      return err;
    }
  },
});
