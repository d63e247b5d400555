import { randomUUID } from 'node:crypto';
import { bucketSuite, kvSuite, queueSuite } from '@polycloud/conformance';
import { openBucket, openKv, openQueue } from '@polycloud/core';
import type { MemoryBucketStore, MemoryKvNamespace, MemoryQueueStore } from '../src/index.js';

// Everything opens through URLs, so URL opening is exercised as well. Cleanup empties the
// store through native(), so large test objects do not pile up in the process.

bucketSuite({
  adapter: 'memory',
  emulator: null,
  async open() {
    const bucket = await openBucket(`mem://conformance-${randomUUID()}`);
    return {
      bucket,
      cleanup: async () => {
        (bucket.native() as MemoryBucketStore).clear();
        await bucket.close();
      },
    };
  },
});

queueSuite({
  adapter: 'memory',
  emulator: null,
  async open(opts = {}) {
    const driverOptions =
      opts.visibilityTimeoutSeconds === undefined
        ? {}
        : { visibilityTimeoutSeconds: opts.visibilityTimeoutSeconds };
    const name = `conformance-${randomUUID()}`;
    const queue = await openQueue<unknown>(`mem://${name}`, { driverOptions });
    const deadLetter = opts.deadLetter ? await openQueue<unknown>(`mem://${name}-dlq`) : undefined;
    return {
      queue,
      ...(deadLetter ? { deadLetter } : {}),
      cleanup: async () => {
        for (const q of [queue, deadLetter]) {
          if (!q) continue;
          (q.native() as MemoryQueueStore).clear();
          await q.close();
        }
      },
    };
  },
});

kvSuite({
  adapter: 'memory',
  emulator: null,
  async open(namespace) {
    const kv = await openKv(`mem://conformance?namespace=${encodeURIComponent(namespace)}`);
    return {
      kv,
      cleanup: async () => {
        (kv.native() as MemoryKvNamespace).clear();
        await kv.close();
      },
    };
  },
});
