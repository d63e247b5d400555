import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fuzzSuite } from '@polycloud/conformance';
import { openBucket, openKv, openQueue } from '@polycloud/core';
import { afterAll } from 'vitest';

// file:// and local:// fuzzed in a scratch folder: calls that pass validation meet an aborted
// signal, so nothing is written.
const root = mkdtempSync(join(tmpdir(), 'polycloud-local-fuzz-'));
const db = pathToFileURL(join(root, 'fuzz.db')).pathname;
afterAll(() => rmSync(root, { recursive: true, force: true }));

fuzzSuite({
  adapter: 'local',
  bucket: () => openBucket(pathToFileURL(join(root, 'bucket')).href),
  queue: () => openQueue(`local://${db}?queue=fuzz`),
  kv: () => openKv(`local://${db}?table=fuzz`),
});
