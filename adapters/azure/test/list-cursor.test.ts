import { TableClient } from '@azure/data-tables';
import { azureKv } from '@polycloud/azure/table';
import { isPolycloudError } from '@polycloud/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { azuriteTarget, rand } from './emulator.js';

const { connectionString, notRun } = azuriteTarget();
const table = `pccursor${rand().replace(/-/g, '')}`;

// A cursor that this store did not return is the caller's mistake, answered like every other
// adapter: INVALID_ARGUMENT saying to pass page.cursor unchanged (not the Table SDK's bare JSON
// parse error, reported UNKNOWN).
describe.skipIf(notRun !== undefined)('Table Storage kv list cursors', () => {
  const admin = () =>
    TableClient.fromConnectionString(connectionString!, table, { allowInsecureConnection: true });
  beforeAll(async () => {
    await admin().createTable();
  });
  afterAll(async () => {
    await admin().deleteTable();
  });

  it('pages with the cursors it returned, and refuses any other cursor with INVALID_ARGUMENT', async () => {
    const kv = azureKv({ table, namespace: `ns-${rand()}`, connectionString: connectionString! });
    await kv.setMany(['a/1', 'a/2', 'a/3'].map((key) => ({ key, value: 1 })));
    const page = await kv.list({ prefix: 'a/', limit: 2 });
    expect(page.cursor).toBeDefined();
    expect((await kv.list({ prefix: 'a/', cursor: page.cursor! })).entries.map((e) => e.key)).toEqual([
      'a/3',
    ]);
    for (const cursor of ['garbage!!', Buffer.from('[1,2]').toString('base64'), 'bnVsbA==']) {
      const err = await kv.list({ prefix: 'a/', cursor }).catch((e: unknown) => e);
      expect(isPolycloudError(err, 'INVALID_ARGUMENT'), `${cursor}: ${String(err)}`).toBe(true);
      expect((err as Error).message).toContain('pass page.cursor unchanged');
    }
  });
});
