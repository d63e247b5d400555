import { Bigtable } from '@google-cloud/bigtable';
import { isPolycloudError, openKv } from '@polycloud/core';
import { bigtableKv } from '@polycloud/gcp/bigtable';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeValue, encodeValue, namespacePrefix, prefixEnd, readInt64 } from '../src/bigtable/layout.js';
import { gcpTarget, PROJECT, rand } from './emulator.js';

describe('row layout (layout.ts)', () => {
  it('namespace prefixes never contain one another', () => {
    const names = ['', 'a', 'a\u0000', 'a\u0000b', 'a\u0001', 'ab', 'a/b', 'ü', '\u0000', '\u0000\u0001'];
    for (const x of names) {
      for (const y of names) {
        if (x === y) continue;
        const px = namespacePrefix(x);
        const py = namespacePrefix(y);
        expect(py.subarray(0, px.length).equals(px)).toBe(false);
      }
    }
  });

  it('prefixEnd is the first key past a prefix', () => {
    expect(prefixEnd(Buffer.from([1, 2, 3]))).toEqual(Buffer.from([1, 2, 4]));
    expect(prefixEnd(Buffer.from([1, 0xff, 0xff]))).toEqual(Buffer.from([2]));
    expect(prefixEnd(Buffer.from([0xff]))).toBeUndefined();
  });

  it('only counters are 8 bytes; everything round-trips', () => {
    const values = [
      0,
      -1,
      2 ** 53 - 1,
      'abcde',
      'x',
      1.5,
      null,
      [1, 2],
      { a: 'b' },
      new Uint8Array(7),
      new Uint8Array(8),
      new Uint8Array(),
    ];
    for (const v of values) {
      const e = encodeValue(v);
      expect(e.length === 8).toBe(typeof v === 'number' && Number.isInteger(v));
      expect(decodeValue(e)).toEqual(v);
    }
    // 'abcde' is 'j"abcde"' (8 bytes) tagged: padded to 9 so ReadModifyWriteRow refuses it.
    expect(encodeValue('abcde').length).toBe(9);
    expect(readInt64(encodeValue(-5))).toBe(-5n);
  });
});

const { endpoint, notRun } = gcpTarget('bigtable-emulator');
const INSTANCE = 'polycloud';

describe.skipIf(!endpoint)(`Bigtable adapter on the emulator${notRun ? ` (${notRun})` : ''}`, () => {
  let admin: Bigtable;
  const table = `kvt-${rand()}`;
  const open = (namespace: string) =>
    bigtableKv({ projectId: PROJECT, instanceId: INSTANCE, tableId: table, namespace, client: admin });

  beforeAll(async () => {
    admin = new Bigtable({
      projectId: PROJECT,
      apiEndpoint: endpoint!.env.BIGTABLE_EMULATOR_HOST!,
      metricsEnabled: false,
    });
    await admin.instance(INSTANCE).createTable(table, { families: [{ name: 'kv', rule: { versions: 1 } }] });
  });
  afterAll(async () => {
    await admin
      .instance(INSTANCE)
      .table(table)
      .delete()
      .catch(() => {});
    await admin.close();
  });

  it('a list cursor this store did not return (malformed, or of another prefix) is INVALID_ARGUMENT', async () => {
    const kv = open(`cur-${rand()}`);
    await kv.setMany(['a/1', 'a/2', 'a/3', 'b/1'].map((key) => ({ key, value: 1 })));
    const page = await kv.list({ prefix: 'a/', limit: 2 });
    expect(page.cursor).toBeDefined();
    expect((await kv.list({ prefix: 'a/', cursor: page.cursor! })).entries.map((e) => e.key)).toEqual([
      'a/3',
    ]);
    for (const [prefix, cursor] of [
      ['a/', 'garbage!!'],
      ['a/', `${page.cursor}=`],
      ['b/', page.cursor!],
    ] as const) {
      const err = await kv.list({ prefix, cursor }).catch((e: unknown) => e);
      expect(isPolycloudError(err, 'INVALID_ARGUMENT'), `${prefix} ${cursor}: ${String(err)}`).toBe(true);
    }
  });

  it('namespaces that are byte-prefixes of each other stay isolated', async () => {
    const base = `ns-${rand()}`;
    const names = [base, `${base}\u0000`, `${base}\u0000x`, `${base}\u0001`, `${base}x`, `${base}/`];
    const stores = names.map(open);
    await Promise.all(
      stores.map((kv, i) =>
        kv.setMany([
          { key: 'k', value: i },
          { key: `only-${i}`, value: i },
          { key: '\u0000', value: i },
        ]),
      ),
    );
    for (const [i, kv] of stores.entries()) {
      const keys: string[] = [];
      for await (const e of kv.entries()) {
        keys.push(e.key);
        expect(e.value).toBe(i);
      }
      expect(keys).toEqual(['\u0000', 'k', `only-${i}`]);
      expect((await kv.get('k'))?.value).toBe(i);
      expect(await kv.get(`only-${(i + 1) % names.length}`)).toBeUndefined();
      expect((await kv.list({ prefix: 'only' })).entries.map((e) => e.key)).toEqual([`only-${i}`]);
    }
    expect(await stores[0]!.delete('k')).toBe(true);
    expect((await stores[1]!.get('k'))?.value).toBe(1);
  });

  it('increment is atomic against non-counters: 8-byte encodings are padded, floats refused', async () => {
    const kv = open(`inc-${rand()}`);
    await kv.set('s', 'abcde');
    await kv.set('f', 1.5);
    await kv.set('n', 41);
    for (const k of ['s', 'f']) {
      const err = await kv.increment(k).catch((e: unknown) => e);
      expect(isPolycloudError(err, 'PRECONDITION_FAILED')).toBe(true);
    }
    expect((await kv.get('s'))?.value).toBe('abcde');
    expect((await kv.increment('n')).value).toBe(42);
  });

  it('a counter created by increment gets a random version, and every increment a new one', async () => {
    const kv = open(`ver-${rand()}`);
    const a = await kv.increment('c');
    const b = await kv.increment('c');
    expect(a.version).toMatch(/^[0-9a-f]{16}$/);
    expect(BigInt(`0x${a.version}`)).toBeGreaterThan(2n ** 31n);
    expect(b.version).not.toBe(a.version);
    expect((await kv.get('c'))?.version).toBe(b.version);
    const err = await kv.set('c', 5, { ifVersion: a.version }).catch((e: unknown) => e);
    expect(isPolycloudError(err, 'PRECONDITION_FAILED')).toBe(true);
  });

  it('a version that cannot be ours fails the condition without touching the entry', async () => {
    const kv = open(`cond-${rand()}`);
    await kv.set('k', 1);
    for (const v of ['nope', 'ABCDEF0123456789', '']) {
      const err = await kv.set('k', 2, { ifVersion: v }).catch((e: unknown) => e);
      expect(isPolycloudError(err, 'PRECONDITION_FAILED') || isPolycloudError(err, 'INVALID_ARGUMENT')).toBe(
        true,
      );
    }
    expect((await kv.get('k'))?.value).toBe(1);
  });

  it('a missing table fails with NOT_FOUND and the native error as cause', async () => {
    const kv = bigtableKv({
      projectId: PROJECT,
      instanceId: INSTANCE,
      tableId: `missing-${rand()}`,
      client: admin,
    });
    const err = await kv.set('k', 1).catch((e: unknown) => e);
    expect(isPolycloudError(err, 'NOT_FOUND')).toBe(true);
    expect(err).toMatchObject({ provider: 'gcp', service: 'kv', operation: 'set', resource: { key: 'k' } });
    expect((err as Error).cause).toBeInstanceOf(Error);
  });

  it('opens by URL with namespace and family; maxKeyBytes leaves room for the namespace', async () => {
    const kv = await openKv(
      `bigtable://projects/${PROJECT}/instances/${INSTANCE}/tables/${table}?namespace=url-ns&family=kv`,
      {
        driverOptions: { client: admin },
      },
    );
    expect(kv.namespace).toBe('url-ns');
    expect(kv.capabilities.maxKeyBytes).toBe(4096 - namespacePrefix('url-ns').length);
    expect(kv.native()).toBe(admin);
    await kv.set('k', 'v');
    expect((await open('url-ns').get('k'))?.value).toBe('v');
    for (const url of [
      'bigtable://projects/p/instances/i',
      'bigtable://projects/p/instances/i/tables/t?ttl=1',
    ]) {
      const e = await openKv(url).catch((x: unknown) => x);
      expect(isPolycloudError(e, 'INVALID_ARGUMENT')).toBe(true);
    }
  });
});
