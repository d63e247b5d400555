import { isPolycloudError, type KvStore, type KvValue } from '@polycloud/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type MemoryKvNamespace, memoryKv, resetMemory } from '../src/index.js';

let kv: KvStore<KvValue>;
beforeEach(() => {
  kv = memoryKv();
});
afterEach(() => {
  vi.useRealTimers();
  resetMemory();
});

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    if (isPolycloudError(err)) return err.code;
    throw err;
  }
}

const fake = () => vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });

describe('memory kv', () => {
  it('versions every write and checks ifVersion / ifAbsent atomically', async () => {
    const a = await kv.set('k', 1, { ifAbsent: true });
    expect(await code(kv.set('k', 2, { ifAbsent: true }))).toBe('ALREADY_EXISTS');
    const b = await kv.set('k', 1);
    expect(b.version).not.toBe(a.version);
    expect(await code(kv.set('k', 3, { ifVersion: a.version }))).toBe('PRECONDITION_FAILED');
    expect((await kv.get('k'))?.value).toBe(1);
    const c = await kv.set('k', 3, { ifVersion: b.version });
    expect(await code(kv.delete('k', { ifVersion: b.version }))).toBe('PRECONDITION_FAILED');
    expect(await kv.delete('k', { ifVersion: c.version })).toBe(true);
    expect(await kv.delete('k')).toBe(false);
    expect(await code(kv.set('k', 1, { ifVersion: c.version }))).toBe('PRECONDITION_FAILED');
    expect(await code(kv.delete('k', { ifVersion: c.version }))).toBe('PRECONDITION_FAILED');
    // A recreated key never gets an old version back.
    const d = await kv.set('k', 1);
    expect([a.version, b.version, c.version]).not.toContain(d.version);
  });

  it('treats expired entries as absent everywhere', async () => {
    fake();
    const { version } = await kv.set('t', 'v', { ttlSeconds: 10 });
    expect((await kv.get('t'))?.expiresAt?.getTime()).toBe(Date.now() + 10_000);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await kv.get('t')).toBeUndefined();
    expect(await code(kv.set('t', 'v', { ifVersion: version }))).toBe('PRECONDITION_FAILED');
    await kv.set('t', 'v', { ttlSeconds: 1 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(await kv.delete('t')).toBe(false);
    await kv.set('t', 'v', { ttlSeconds: 1 });
    await vi.advanceTimersByTimeAsync(1000);
    await kv.set('t', 'fresh', { ifAbsent: true });
    await kv.set('n', 41, { ttlSeconds: 1 });
    await vi.advanceTimersByTimeAsync(1000);
    expect((await kv.increment('n')).value).toBe(1);
    await kv.set('e', 1, { ttlSeconds: 1 });
    await vi.advanceTimersByTimeAsync(1000);
    expect((await kv.list()).entries.map((e) => e.key)).toEqual(['n', 't']);
    expect(await kv.deleteMany(['e', 'n'])).toEqual([
      { key: 'e', ok: true, existed: false },
      { key: 'n', ok: true, existed: true },
    ]);
  });

  it('increments atomically, keeping a TTL, and refuses non-numbers', async () => {
    expect((await kv.increment('c')).value).toBe(1);
    expect((await kv.increment('c', 5)).value).toBe(6);
    expect((await kv.increment('c', -10)).value).toBe(-4);
    const all = await Promise.all(Array.from({ length: 50 }, () => kv.increment('p')));
    expect(new Set(all.map((r) => r.value)).size).toBe(50);
    expect((await kv.get('p'))?.value).toBe(50);
    await kv.set('s', 'text');
    expect(await code(kv.increment('s'))).toBe('PRECONDITION_FAILED');
    await kv.set('b', new Uint8Array([1]));
    expect(await code(kv.increment('b'))).toBe('PRECONDITION_FAILED');
    await kv.set('ttl', 1, { ttlSeconds: 100 });
    await kv.increment('ttl');
    expect((await kv.get('ttl'))?.expiresAt).toBeInstanceOf(Date);
  });

  it('stores copies: callers cannot change stored data', async () => {
    const doc = { a: [1, 2], b: { c: 'd' } };
    await kv.set('j', doc);
    doc.a.push(3);
    const got = (await kv.get('j'))!.value as { a: number[] };
    expect(got).toEqual({ a: [1, 2], b: { c: 'd' } });
    got.a.push(4);
    expect((await kv.get('j'))!.value).toEqual({ a: [1, 2], b: { c: 'd' } });

    const bytes = new Uint8Array([0, 1, 255]);
    await kv.set('b', bytes);
    bytes[0] = 9;
    const back = (await kv.get('b'))!.value as Uint8Array;
    expect(back).toBeInstanceOf(Uint8Array);
    expect([...back]).toEqual([0, 1, 255]);
    back[1] = 9;
    expect([...((await kv.get('b'))!.value as Uint8Array)]).toEqual([0, 1, 255]);
    await kv.set('buf', Buffer.from([1, 2]));
    expect(Object.getPrototypeOf((await kv.get('buf'))!.value)).toBe(Uint8Array.prototype);
    expect((kv.native() as MemoryKvNamespace).records.size).toBe(3);
  });

  it('lists in UTF-8 byte order with stable cursors', async () => {
    for (const k of ['b', 'a', '\u{1F600}', '\uFFFD', 'ab', 'c']) await kv.set(k, k);
    const p1 = await kv.list({ limit: 2 });
    expect(p1.entries.map((e) => e.key)).toEqual(['a', 'ab']);
    await kv.set('aa', 'x');
    await kv.delete('b');
    await kv.set('bb', 'x');
    const rest = [];
    let cursor = p1.cursor;
    while (cursor) {
      const p = await kv.list({ limit: 2, cursor });
      rest.push(...p.entries.map((e) => e.key));
      cursor = p.cursor;
    }
    expect(rest).toEqual(['bb', 'c', '\uFFFD', '\u{1F600}']);
    expect((await kv.list({ prefix: 'a' })).entries.map((e) => e.key)).toEqual(['a', 'aa', 'ab']);
    expect((await kv.list({ prefix: 'a', limit: 3 })).cursor).toBeUndefined();
    expect(await code(kv.list({ cursor: 'nope' }))).toBe('INVALID_ARGUMENT');
  });

  it('handles batches per item', async () => {
    const set = await kv.setMany([
      { key: 'x', value: 1 },
      { key: 'y', value: 'two', ttlSeconds: 60 },
    ]);
    expect(set.map((r) => r.ok)).toEqual([true, true]);
    const got = await kv.getMany(['x', 'missing', 'y']);
    expect(got.map((e) => e?.value)).toEqual([1, undefined, 'two']);
    expect((await kv.deleteMany(['x', 'missing'])).map((r) => r.ok && r.existed)).toEqual([true, false]);
  });
});
