// Every kv validation message names the store and, for single-key calls, the key.
import { MemoryBucketDriver, MemoryBucketStore, MemoryKvDriver, MemoryKvNamespace } from '@polycloud/memory';
import { describe, expect, it } from 'vitest';
import { Bucket, KvStore, type KvValue } from '../src/index.js';

describe('kv validation messages name the resource', () => {
  const kv = new KvStore(new MemoryKvDriver(new MemoryKvNamespace('msg-table', 'default')));
  const bad = (v: unknown) => v as never;
  const cases: [string, () => Promise<unknown>, RegExp, string | undefined][] = [
    [
      'set with ifAbsent and ifVersion',
      () => kv.set('k1', 1, { ifAbsent: true, ifVersion: 'v1' }),
      /^set on kv "msg-table" key "k1": ifAbsent and ifVersion cannot be combined/,
      'k1',
    ],
    [
      'set with a non-boolean ifAbsent',
      () => kv.set('k2', 1, { ifAbsent: bad('yes') }),
      /^set on kv "msg-table" key "k2": ifAbsent must be a boolean/,
      'k2',
    ],
    [
      'increment by a fraction',
      () => kv.increment('k3', 1.5),
      /^increment on kv "msg-table" key "k3": by must be a safe integer, got 1.5/,
      'k3',
    ],
    [
      'setMany without an array',
      () => kv.setMany(bad({})),
      /^setMany on kv "msg-table": items must be an array/,
      undefined,
    ],
    [
      'setMany with an item that is not an object',
      () => kv.setMany([bad(7) as { key: string; value: KvValue }]),
      /^setMany on kv "msg-table": each item must be \{ key, value \}/,
      undefined,
    ],
    [
      'getMany without an array',
      () => kv.getMany(bad('k')),
      /^getMany on kv "msg-table": keys must be an array of strings/,
      undefined,
    ],
  ];
  for (const [what, call, message, key] of cases) {
    it(what, async () => {
      const err = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', service: 'kv', resource: { name: 'msg-table' } });
      expect((err as Error).message).toMatch(message);
      if (key !== undefined) expect(err).toMatchObject({ resource: { key } });
    });
  }
});

describe('an optional option given as undefined is absent', () => {
  it('in kv set, setMany, delete, increment and blob put', async () => {
    const kv = new KvStore(new MemoryKvDriver(new MemoryKvNamespace('undef-opts', 'default')));
    const when = (c: boolean) => (c ? 60 : undefined);
    await kv.set('k', 1, {
      ifVersion: undefined,
      ifAbsent: undefined,
      ttlSeconds: when(false),
      signal: undefined,
    });
    expect((await kv.get('k'))?.expiresAt).toBeUndefined();
    const [r] = await kv.setMany([{ key: 'm', value: 2, ttlSeconds: undefined }]);
    expect(r?.ok).toBe(true);
    expect((await kv.increment('k', undefined, { signal: undefined })).value).toBe(2);
    expect(await kv.delete('m', { ifVersion: undefined })).toBe(true);
    const b = new Bucket(new MemoryBucketDriver(new MemoryBucketStore('undef-opts')));
    const info = await b.put('o', 'x', {
      contentType: undefined,
      cacheControl: undefined,
      metadata: undefined,
      ifMatch: undefined,
      ifNoneMatch: undefined,
      md5: undefined,
      partSize: undefined,
      encryption: undefined,
    });
    expect(info.size).toBe(1);
  });
});
