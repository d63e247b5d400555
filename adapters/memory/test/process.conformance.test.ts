import { randomUUID } from 'node:crypto';
import { processSuite } from '@polycloud/conformance';

// mem:// lives in the child's own process, so each child gets names of its own. The queue is
// opened without a per-attempt timer (attemptTimeoutMs: 0), whose timer would otherwise keep
// the process alive by itself and hide whether the adapter's own wait does.
processSuite({
  adapter: 'memory',
  emulator: null,
  async open() {
    const name = `process-${randomUUID()}`;
    return {
      bucket: { url: `mem://${name}` },
      queue: { url: `mem://${name}`, options: { attemptTimeoutMs: 0 } },
      kv: { url: `mem://${name}` },
    };
  },
});
