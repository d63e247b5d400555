import {
  CreateTableCommand,
  DeleteTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  createDynamoClient,
  DynamoKvStore,
  decodeValue,
  dynamoKv,
  encodeValue,
  kvTableDefinition,
} from '@polycloud/aws/dynamodb';
import { isPolycloudError, openKv } from '@polycloud/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKvTable } from './dynamodb-harness.js';
import { awsTarget, rand } from './emulator.js';

describe('DynamoDB value encoding', () => {
  it('stores JSON as S, bytes as B and plain decimal numbers as N', () => {
    expect(encodeValue({ a: 1 })).toEqual({ S: '{"a":1}' });
    expect(encodeValue('x')).toEqual({ S: '"x"' });
    expect(encodeValue(null)).toEqual({ S: 'null' });
    expect(encodeValue(new Uint8Array([1, 2]))).toEqual({ B: new Uint8Array([1, 2]) });
    expect(encodeValue(42)).toEqual({ N: '42' });
    expect(encodeValue(-1.5)).toEqual({ N: '-1.5' });
    // Exponent forms (outside N's exact decimal habits) stay JSON text.
    expect(encodeValue(1e21)).toEqual({ S: '1e+21' });
    expect(encodeValue(5e-324)).toEqual({ S: '5e-324' });
    for (const v of [{ a: [1, 'ü'] }, 'x', null, 42, -1.5, 1e21, 5e-324, true])
      expect(decodeValue(encodeValue(v))).toEqual(v);
  });
});

for (const emulator of ['moto', 'dynalite'] as const) {
  const { target, notRun } = awsTarget(emulator, 'DYNAMODB');

  describe.skipIf(notRun !== undefined)(`DynamoDB adapter (${emulator})`, () => {
    const t = target!;
    const table = `pc-kv-${rand()}`;
    let client: DynamoDBClient;

    beforeAll(async () => {
      client = createDynamoClient({
        endpoint: t.endpoint,
        region: t.region,
        clientConfig: { credentials: t.credentials },
      });
      await createKvTable(client, table);
    }, 120_000);
    afterAll(async () => {
      await client.send(new DeleteTableCommand({ TableName: table })).catch(() => {});
      client.destroy();
    });

    const store = (namespace = `ns-${rand()}`) => dynamoKv({ table, namespace, client });

    it('lays items out as pk = namespace, sk = key, with typed value, version and TTL attributes', async () => {
      const kv = store('layout');
      const { version } = await kv.set('json', { a: 1 }, { ttlSeconds: 100 });
      await kv.set('bytes', new Uint8Array([0, 255]));
      await kv.set('n', 7);
      const get = (sk: string) =>
        client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'layout' }, sk: { S: sk } } }));
      const json = (await get('json')).Item!;
      expect(json.v).toEqual({ S: '{"a":1}' });
      expect(json.ver).toEqual({ S: version });
      const ttl = Number(json.ttl?.N);
      const exp = Number(json.exp?.N);
      expect(ttl).toBe(Math.ceil(exp / 1000));
      expect(Math.abs(exp - (Date.now() + 100_000))).toBeLessThan(5_000);
      expect((await get('bytes')).Item?.v?.B).toEqual(new Uint8Array([0, 255]));
      expect((await get('n')).Item?.v).toEqual({ N: '7' });
      expect(kv).toBeInstanceOf(DynamoKvStore);
      expect(kv.native()).toBe(client);
    });

    it('increments values stored by set(), and items written by other tools', async () => {
      const kv = store();
      await kv.set('c', 10);
      expect((await kv.increment('c', 5)).value).toBe(15);
      await kv.set('f', 1.5);
      expect((await kv.increment('f', 1)).value).toBe(2.5);
      // An item written with the native SDK (no version attribute) still increments.
      await client.send(
        new PutItemCommand({
          TableName: table,
          Item: { pk: { S: kv.namespace }, sk: { S: 'raw' }, v: { N: '100' } },
        }),
      );
      const r = await kv.increment('raw', -1);
      expect(r.value).toBe(99);
      expect((await kv.get('raw'))?.version).toBe(r.version);
      await kv.set('s', 'text');
      await expect(kv.increment('s', 1)).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
    });

    it('an expired counter restarts from the step, and concurrent restarts stay exact', async () => {
      const kv = store();
      await kv.set('c', 41, { ttlSeconds: 1 });
      await new Promise((r) => setTimeout(r, 1500));
      const results = await Promise.all(Array.from({ length: 5 }, () => kv.increment('c', 1)));
      expect(results.map((r) => r.value).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
      expect((await kv.get('c'))?.expiresAt).toBeUndefined();
    });

    it('getMany and setMany over several batches, duplicate keys included', async () => {
      const kv = store();
      const items = Array.from({ length: 130 }, (_, i) => ({
        key: `k${String(i).padStart(3, '0')}`,
        value: i,
      }));
      // The same key twice in one call: the later write wins, as if written in order.
      const res = await kv.setMany([...items, { key: 'k000', value: 'last' }]);
      expect(res.every((r) => r.ok)).toBe(true);
      const keys = [...items.map((i) => i.key), 'k001', 'missing'];
      const got = await kv.getMany(keys);
      expect(got.length).toBe(keys.length);
      expect(got[0]?.value).toBe('last');
      expect(got[1]?.value).toBe(1);
      expect(got[129]?.value).toBe(129);
      expect(got[130]?.value).toBe(1);
      expect(got[131]).toBeUndefined();
      const del = await kv.deleteMany(['k000', 'k000', 'missing']);
      expect(del.map((d) => (d.ok ? d.existed : 'error'))).toEqual([true, false, false]);
    });

    it('list pages with opaque cursors and rejects a forged one', async () => {
      const kv = store();
      for (const k of ['a/1', 'a/2', 'a/3', 'b/1']) await kv.set(k, k);
      const first = await kv.list({ prefix: 'a/', limit: 2 });
      expect(first.entries.map((e) => e.key)).toEqual(['a/1', 'a/2']);
      expect(first.cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      const second = await kv.list({ prefix: 'a/', limit: 2, cursor: first.cursor! });
      expect(second.entries.map((e) => e.key)).toEqual(['a/3']);
      await expect(kv.list({ prefix: 'a/', cursor: 'not-a-cursor' })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
      await expect(kv.list({ prefix: 'b/', cursor: first.cursor! })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    });

    it('custom attribute names for an existing table', async () => {
      const custom = `pc-kv-custom-${rand()}`;
      await client.send(
        new CreateTableCommand(kvTableDefinition(custom, { partitionKey: 'PK', sortKey: 'SK' })),
      );
      await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: custom });
      try {
        const kv = dynamoKv({
          table: custom,
          namespace: 'tenant#1',
          client,
          attributes: { partitionKey: 'PK', sortKey: 'SK', value: 'data', version: 'rev' },
        });
        await kv.set('x', { ok: true });
        const raw = await client.send(
          new GetItemCommand({ TableName: custom, Key: { PK: { S: 'tenant#1' }, SK: { S: 'x' } } }),
        );
        expect(raw.Item?.data).toEqual({ S: '{"ok":true}' });
        expect(raw.Item?.rev?.S).toBe((await kv.get('x'))?.version);
      } finally {
        await client.send(new DeleteTableCommand({ TableName: custom }));
      }
    });

    it('opens by URL; a missing table is NOT_FOUND; bad URLs are INVALID_ARGUMENT', async () => {
      const url = `dynamodb://${table}?namespace=url-ns&endpoint=${encodeURIComponent(t.endpoint)}&region=${t.region}`;
      const kv = await openKv(url, { driverOptions: { clientConfig: { credentials: t.credentials } } });
      expect(kv.namespace).toBe('url-ns');
      await kv.set('k', 1);
      expect((await kv.get('k'))?.value).toBe(1);
      await kv.close();
      const missing = dynamoKv({ table: `pc-missing-${rand()}`, client });
      const err = await missing.get('k').catch((e: unknown) => e);
      expect(isPolycloudError(err, 'NOT_FOUND')).toBe(true);
      expect(missing.namespace).toBe('default');
      await expect(openKv(`dynamodb://${table}?ns=x`)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(openKv(`dynamodb://${table}?namespace=`)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    });
  });
}
