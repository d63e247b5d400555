import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { processSuite } from '@polycloud/conformance';
import { afterAll } from 'vitest';

// Files and SQLite in a temporary folder; each child gets its own bucket folder, queue and table.
// Queues open without a per-attempt timer (attemptTimeoutMs: 0), whose timer would otherwise keep
// the process alive by itself and hide whether the adapter's own long poll does.
const root = mkdtempSync(join(tmpdir(), 'polycloud-local-process-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

processSuite({
  adapter: 'local',
  emulator: null,
  async open() {
    const id = randomUUID().replace(/-/g, '');
    const db = pathToFileURL(join(root, `p${id}.db`)).pathname;
    return {
      bucket: { url: pathToFileURL(join(root, `bucket-${id}`)).href },
      queue: { url: `local://${db}?queue=q${id}`, options: { attemptTimeoutMs: 0 } },
      kv: { url: `local://${db}?table=t${id}` },
    };
  },
});
