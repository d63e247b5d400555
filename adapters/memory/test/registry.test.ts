import { isPolycloudError, openBucket, openKv, openQueue } from '@polycloud/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  memoryBucket,
  memoryKv,
  memoryQueue,
  openBucketDriver,
  openKvDriver,
  openQueueDriver,
  resetMemory,
} from '../src/index.js';

afterEach(() => resetMemory());

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    if (isPolycloudError(err)) return err.code;
    throw err;
  }
}

describe('registry', () => {
  it('shares a bucket between two opens of the same URL', async () => {
    const a = await openBucket('mem://shared');
    const b = await openBucket('mem://shared');
    await a.put('k', 'v');
    expect(await b.getText('k')).toBe('v');
    const other = await openBucket('mem://other');
    expect(await other.exists('k')).toBe(false);
  });

  it('shares with the friendly constructors and the URL', async () => {
    memoryBucket('x');
    await memoryBucket('x').put('k', 'v');
    expect(await (await openBucket('mem://x')).getText('k')).toBe('v');
    const q = memoryQueue('jobs');
    await (await openQueue('mem://jobs')).send({ n: 1 });
    const [m] = await q.receive();
    expect(m?.body).toEqual({ n: 1 });
    await memoryKv('t', 'ns').set('k', 1);
    expect((await (await openKv('mem://t?namespace=ns')).get('k'))?.value).toBe(1);
  });

  it('gives each unnamed store its own state', async () => {
    const a = memoryBucket();
    const b = memoryBucket();
    await a.put('k', 'v');
    expect(await b.exists('k')).toBe(false);
    expect(a.name).not.toBe(b.name);
  });

  it('keeps the namespaces of one kv table apart', async () => {
    const a = await openKv('mem://t?namespace=a');
    const b = await openKv('mem://t?namespace=b');
    const d = await openKv('mem://t');
    await a.set('k', 'a');
    await b.set('k', 'b');
    expect((await a.get('k'))?.value).toBe('a');
    expect((await b.get('k'))?.value).toBe('b');
    expect(await d.get('k')).toBeUndefined();
    expect((await a.list()).entries.map((e) => e.key)).toEqual(['k']);
    expect(d.namespace).toBe('default');
    expect(a.namespace).toBe('a');
    expect(a.name).toBe('t');
  });

  it('keeps the same names of different services apart', async () => {
    await (await openBucket('mem://same')).put('k', 'v');
    await (await openKv('mem://same')).set('k', 1);
    expect(await (await openBucket('mem://same')).getText('k')).toBe('v');
  });

  it('forgets everything on resetMemory()', async () => {
    await (await openBucket('mem://r')).put('k', 'v');
    await (await openQueue('mem://r')).send(1);
    await (await openKv('mem://r')).set('k', 1);
    resetMemory();
    expect(await (await openBucket('mem://r')).exists('k')).toBe(false);
    expect(await (await openQueue('mem://r')).receive()).toEqual([]);
    expect(await (await openKv('mem://r')).get('k')).toBeUndefined();
  });

  it('ends a waiting receive on resetMemory()', async () => {
    const q = memoryQueue('w');
    const started = Date.now();
    const p = q.receive({ waitSeconds: 20 });
    setTimeout(() => resetMemory(), 20);
    expect(await p).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('URLs', () => {
  it('takes the name from host and path', async () => {
    expect((await openBucketDriver(new URL('mem://uploads'))).name).toBe('uploads');
    expect((await openBucketDriver(new URL('mem://app/uploads/'))).name).toBe('app/uploads');
    expect((await openBucketDriver(new URL('mem://My%20Bucket'))).name).toBe('My Bucket');
    expect((await openQueueDriver(new URL('mem://jobs'))).name).toBe('jobs');
    const kv = await openKvDriver(new URL('mem://table?namespace=web'));
    expect([kv.name, kv.namespace]).toEqual(['table', 'web']);
  });

  it('rejects unknown query parameters on every service', async () => {
    expect(await code(openBucket('mem://b?region=x'))).toBe('INVALID_ARGUMENT');
    expect(await code(openQueue('mem://q?visibility=3'))).toBe('INVALID_ARGUMENT');
    expect(await code(openKv('mem://t?namespace=a&table=b'))).toBe('INVALID_ARGUMENT');
    expect(await code(openBucket('mem://b?namespace=x'))).toBe('INVALID_ARGUMENT');
    expect(await code(openKv('mem://t?namespace=a&namespace=b'))).toBe('INVALID_ARGUMENT');
  });

  it('rejects URLs without a name, with credentials or a port, and empty namespaces', async () => {
    expect(await code(openBucket('mem://'))).toBe('INVALID_ARGUMENT');
    expect(await code(openBucket('mem:///path'))).toBe('INVALID_ARGUMENT');
    expect(await code(openBucket('mem://user:pw@b'))).toBe('INVALID_ARGUMENT');
    expect(await code(openBucket('mem://b:123'))).toBe('INVALID_ARGUMENT');
    expect(await code(openKv('mem://t?namespace='))).toBe('INVALID_ARGUMENT');
    expect(await code(openBucketDriver(new URL('s3://b')))).toBe('INVALID_ARGUMENT');
  });

  it('checks driver options', async () => {
    expect(await code(openBucket('mem://b', { driverOptions: { client: 1 } }))).toBe('INVALID_ARGUMENT');
    const q = await openQueue('mem://vq', { driverOptions: { visibilityTimeoutSeconds: 5 } });
    expect(q.name).toBe('vq');
    expect(await code(openQueue('mem://vq', { driverOptions: { visibilityTimeoutSeconds: -1 } }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await code(openQueue('mem://vq', { driverOptions: { visibilityTimeoutSeconds: '5' } }))).toBe(
      'INVALID_ARGUMENT',
    );
  });

  it('exposes the store through native()', async () => {
    const b = await openBucket('mem://n');
    await b.put('k', 'v');
    const store = b.native() as { objects: Map<string, unknown> };
    expect([...store.objects.keys()]).toEqual(['k']);
  });
});
