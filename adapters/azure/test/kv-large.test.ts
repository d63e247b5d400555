import { TableClient } from '@azure/data-tables';
import { azureKv } from '@polycloud/azure/table';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { azuriteTarget, rand } from './emulator.js';

const { connectionString, notRun } = azuriteTarget();
const table = `pclarge${rand().replace(/-/g, '')}`;

/** Values over one property's 64 KiB, within what Azurite takes (see the azurite/table-entity-size gap). */
describe.skipIf(notRun !== undefined)('kv values split across binary properties', () => {
  const admin = () =>
    TableClient.fromConnectionString(connectionString!, table, { allowInsecureConnection: true });
  beforeAll(async () => {
    await admin().createTable();
  });
  afterAll(async () => {
    await admin().deleteTable();
  });

  it('a 600 KiB binary and a 600 KiB JSON value round-trip through get, getMany and list', async () => {
    const kv = azureKv({ table, namespace: `ns-${rand()}`, connectionString: connectionString! });
    const bin = Uint8Array.from({ length: 600 * 1024 }, (_, i) => (i * 7) % 256);
    const json = { text: 'ü'.repeat(300 * 1024 - 20) };
    await kv.set('bin', bin);
    await kv.set('json', json);
    expect((await kv.get('bin'))?.value).toEqual(bin);
    expect((await kv.get('json'))?.value).toEqual(json);
    const [a, b] = await kv.getMany(['bin', 'json']);
    expect(a?.value).toEqual(bin);
    expect(b?.value).toEqual(json);
    const listed = (await kv.list()).entries;
    expect(listed.map((e) => e.key)).toEqual(['bin', 'json']);
    expect(listed[0]?.value).toEqual(bin);
    // Overwriting with a small value leaves no stale chunks behind.
    await kv.set('bin', new Uint8Array([1, 2, 3]));
    expect((await kv.get('bin'))?.value).toEqual(new Uint8Array([1, 2, 3]));
    const raw = await admin().getEntity<Record<string, unknown>>(
      (await kv.native().listEntities().next()).value!.partitionKey,
      (await kv.native().listEntities().next()).value!.rowKey,
    );
    expect(Object.keys(raw).filter((k) => /^v\d+$/.test(k))).toEqual([]);
  });

  it('setMany splits transactions by request size and keeps per-item versions', async () => {
    const kv = azureKv({ table, namespace: `ns-${rand()}`, connectionString: connectionString! });
    // 8 × 500 KiB is over the 4 MiB transaction body: several transactions.
    const items = Array.from({ length: 8 }, (_, i) => ({
      key: `k${i}`,
      value: new Uint8Array(500 * 1024).fill(i),
    }));
    const tx = vi.spyOn(kv.native(), 'submitTransaction');
    const results = await kv.setMany(items);
    expect(results.every((r) => r.ok)).toBe(true);
    // Grouped into transactions under the 4 MiB body limit, none of them failing (no per-item fallback).
    expect(tx.mock.calls.length).toBeGreaterThanOrEqual(2);
    for (const r of tx.mock.results) expect(r.type).toBe('return');
    await Promise.all(tx.mock.results.map((r) => r.value));
    for (const [i, r] of results.entries()) {
      const e = await kv.get(`k${i}`);
      expect(e?.value).toEqual(items[i]!.value);
      expect(r.ok && e?.version === r.version).toBe(true);
    }
  }, 180_000); // ~11 s alone; several MiB through single-threaded Azurite while other suites share it.

  it('setMany with a repeated key applies the writes in order', async () => {
    const kv = azureKv({ table, namespace: `ns-${rand()}`, connectionString: connectionString! });
    const results = await kv.setMany([
      { key: 'a', value: 1 },
      { key: 'b', value: 1 },
      { key: 'a', value: 2 },
    ]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect((await kv.get('a'))?.value).toBe(2);
    const del = await kv.deleteMany(['a', 'a', 'missing', 'b']);
    expect(del.map((r) => r.ok && r.existed)).toEqual([true, false, false, true]);
  });
});
