import { randomUUID } from 'node:crypto';
import { openBucket } from '@polycloud/core';
import { bucketSuite } from '../../../conformance/src/suites/bucket.js';
import type { MemoryBucketStore } from '../src/index.js';

bucketSuite({
  adapter: 'memory',
  emulator: null,
  reportName: 'tmp-memory-blob',
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
