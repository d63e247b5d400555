import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bucketSuite, kvSuite, queueSuite } from '@polycloud/conformance';
import { openBucket, openKv, openQueue } from '@polycloud/core';
import { afterAll } from 'vitest';
import type { LocalBucketHandle, LocalKvHandle, LocalQueueHandle } from '../src/index.js';

// Everything opens through URLs, so URL opening is exercised as well. Queues and kv tables of
// all tests share one SQLite file, as an application's would; every bucket gets its own folder.
const root = mkdtempSync(join(tmpdir(), 'polycloud-local-conformance-'));
const db = pathToFileURL(join(root, 'conformance.db')).pathname;
afterAll(() => rmSync(root, { recursive: true, force: true }));

bucketSuite({
  adapter: 'local',
  emulator: null,
  async open() {
    const dir = pathToFileURL(join(root, `bucket-${randomUUID()}`));
    const bucket = await openBucket(dir.href);
    return {
      bucket,
      cleanup: async () => {
        await (bucket.native() as LocalBucketHandle).clear();
        await bucket.close();
      },
    };
  },
});

queueSuite({
  adapter: 'local',
  emulator: null,
  async open(opts = {}) {
    const driverOptions =
      opts.visibilityTimeoutSeconds === undefined
        ? {}
        : { visibilityTimeoutSeconds: opts.visibilityTimeoutSeconds };
    const name = `conformance-${randomUUID()}`;
    const queue = await openQueue<unknown>(`local://${db}?queue=${name}`, { driverOptions });
    const deadLetter = opts.deadLetter
      ? await openQueue<unknown>(`local://${db}?queue=${name}-dlq`)
      : undefined;
    return {
      queue,
      ...(deadLetter ? { deadLetter } : {}),
      cleanup: async () => {
        for (const q of [queue, deadLetter]) {
          if (!q) continue;
          await (q.native() as LocalQueueHandle).clear();
          await q.close();
        }
      },
    };
  },
});

kvSuite({
  adapter: 'local',
  emulator: null,
  async open(namespace) {
    const kv = await openKv(`local://${db}?table=conformance&namespace=${encodeURIComponent(namespace)}`);
    return {
      kv,
      cleanup: async () => {
        await (kv.native() as LocalKvHandle).clear();
        await kv.close();
      },
    };
  },
});
