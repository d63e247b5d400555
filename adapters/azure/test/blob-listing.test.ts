import { BlobServiceClient } from '@azure/storage-blob';
import { azureBucket } from '@polycloud/azure/blob';
import type { Bucket, ListPage } from '@polycloud/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { azuriteTarget, rand } from './emulator.js';

const { connectionString, notRun } = azuriteTarget();
const container = `pc-list-${rand()}`;

async function listAll(b: Bucket, opts: { prefix?: string; delimiter?: string; limit?: number }) {
  const items: string[] = [];
  const prefixes: string[] = [];
  let cursor: string | undefined;
  do {
    const page: ListPage = await b.list({ ...opts, ...(cursor ? { cursor } : {}) });
    items.push(...page.items.map((i) => i.key));
    prefixes.push(...page.prefixes);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return { items, prefixes };
}

/** Listings the service cannot do alone: delimiters and prefixes the name encoding changes. */
describe.skipIf(notRun !== undefined)('blob listing over encoded names', () => {
  const admin = () => BlobServiceClient.fromConnectionString(connectionString!).getContainerClient(container);
  let b: Bucket;

  beforeAll(async () => {
    await admin().create();
    b = azureBucket({ container, connectionString: connectionString! });
    const keys = ['a.b.c', 'a.b.d', 'a.x', 'b', 'v1.', 'v1./x', 'v1.0', 'v10', 'p\\q\\r', 'p\\s'];
    await Promise.all(keys.map((k) => b.put(k, k)));
  });
  afterAll(async () => {
    await admin().deleteIfExists();
  });

  it('a "." delimiter is applied by the adapter, each prefix once across pages', async () => {
    for (const limit of [1, 2, 1000]) {
      const root = await listAll(b, { delimiter: '.', limit });
      expect(root.prefixes.sort()).toEqual(['a.', 'v1.']);
      expect(root.items.sort()).toEqual(['b', 'p\\q\\r', 'p\\s', 'v10']);
      const a = await listAll(b, { prefix: 'a.', delimiter: '.', limit });
      expect(a.prefixes).toEqual(['a.b.']);
      expect(a.items).toEqual(['a.x']);
    }
  });

  it('a "\\" delimiter works too', async () => {
    const got = await listAll(b, { prefix: 'p', delimiter: '\\', limit: 1 });
    expect(got.prefixes).toEqual(['p\\']);
    expect((await listAll(b, { prefix: 'p\\', delimiter: '\\' })).prefixes).toEqual(['p\\q\\']);
  });

  it('a prefix ending in "." finds keys whose dot was rewritten and those whose was not', async () => {
    const got = await listAll(b, { prefix: 'v1.', limit: 1 });
    expect(got.items.sort()).toEqual(['v1.', 'v1./x', 'v1.0']);
    const slash = await listAll(b, { prefix: 'v1.', delimiter: '/' });
    expect(slash.prefixes).toEqual(['v1./']);
    expect(slash.items.sort()).toEqual(['v1.', 'v1.0']);
  });
});
