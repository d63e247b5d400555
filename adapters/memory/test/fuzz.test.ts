import { randomUUID } from 'node:crypto';
import { fuzzSuite } from '@polycloud/conformance';
import { openBucket, openKv, openQueue } from '@polycloud/core';

// The same properties as every cloud adapter's; packages/core/test/fuzz.test.ts adds URL
// opening, consume() and the JSON codec on memory.
fuzzSuite({
  adapter: 'memory',
  bucket: () => openBucket(`mem://fuzz-${randomUUID()}`),
  queue: () => openQueue(`mem://fuzz-${randomUUID()}`),
  kv: () => openKv(`mem://fuzz-${randomUUID()}`),
});
