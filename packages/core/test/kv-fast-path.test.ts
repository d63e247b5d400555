// The kv store's per-call shortcuts must give the same answers as the full checks they skip.
import { MemoryBucketDriver, MemoryBucketStore, MemoryKvDriver, MemoryKvNamespace } from '@polycloud/memory';
import { describe, expect, it } from 'vitest';
import { Bucket, type KvDriver, KvStore, type KvValue } from '../src/index.js';
import { checkKvValue, kvValueBound, kvValueSize } from '../src/kv/value.js';

const samples: unknown[] = [
  null,
  true,
  0,
  -1.7976931348623157e308,
  5e-324,
  -0.0000012345678901234567,
  Array.from({ length: 50 }, () => -0.0000012345678901234567),
  '',
  'plain',
  '\u0000\u001f"\\\n',
  'é😀\ud800x',
  [],
  [1, 'two', [3, { four: 4 }], null],
  { a: 1, 'ké y': ['x', { b: false }], c: { d: { e: 'deep' } } },
  Object.assign(Object.create(null), { n: 1 }),
  new Uint8Array([1, 2, 3]),
  // Not values: the bound must say so exactly where checkKvValue throws.
  undefined,
  Number.NaN,
  Infinity,
  () => 1,
  new Date(0),
  { a: undefined },
  Object.assign([1], { 2: 3 }), // a hole at index 1
  [new Map()],
  { nested: new Uint8Array(1) },
  10n,
  Symbol('s'),
];

describe('kvValueBound', () => {
  it('is undefined exactly for what checkKvValue rejects, and never below kvValueSize', () => {
    const circular: Record<string, unknown> = { x: 1 };
    circular.self = circular;
    const shared = { s: 1 };
    for (const v of [...samples, circular, { a: shared, b: shared, c: [shared, shared] }]) {
      let ok = true;
      try {
        checkKvValue(v, 'set');
      } catch {
        ok = false;
      }
      const bound = kvValueBound(v);
      expect(bound === undefined, String(typeof v)).toBe(!ok);
      if (ok) expect(bound).toBeGreaterThanOrEqual(kvValueSize(v as KvValue));
    }
    expect(kvValueBound(new Uint8Array(7))).toBe(7);
  });

  it('leaves the exact size and the messages to the full check when the bound is over the limit', async () => {
    const kv = new KvStore(new MemoryKvDriver(new MemoryKvNamespace('fast-path-size', 'default')));
    // 70,000 ASCII characters: 70,002 bytes of JSON (within 400 KiB), bound 420,002 (over it).
    const big = 'x'.repeat(70_000);
    await expect(kv.set('k', big)).resolves.toHaveProperty('version');
    expect((await kv.get('k'))?.value).toBe(big);
    await expect(kv.set('k', 'y'.repeat(500_000))).rejects.toThrow(
      /the value is 500002 bytes, over this provider's limit of 409600/,
    );
    // 15,800 numbers of 25 characters: 410,801 bytes of JSON, just over the limit.
    const longNumbers = Array.from({ length: 15_800 }, () => -0.0000012345678901234567);
    await expect(kv.set('k', longNumbers)).rejects.toThrow(/the value is 410801 bytes/);
    await expect(kv.set('k', { when: new Date(0) } as never)).rejects.toThrow(
      /set on kv "fast-path-size" key "k": value\.when is a Date, not plain data/,
    );
  });
});

/** A driver that records the signal each call got; `sync` says whether it declares settlesSynchronously. */
function recording(sync: boolean): { driver: KvDriver; signals: (AbortSignal | undefined)[] } {
  const inner = new MemoryKvDriver(new MemoryKvNamespace(`fast-path-${sync}`, 'default'));
  const signals: (AbortSignal | undefined)[] = [];
  const seen = <T>(o: { signal: AbortSignal | undefined }, then: () => T): T => {
    signals.push(o.signal);
    return then();
  };
  const driver: KvDriver = {
    provider: 'memory',
    name: inner.name,
    namespace: inner.namespace,
    capabilities: inner.capabilities,
    ...(sync ? { settlesSynchronously: true } : {}),
    get: (k, o) => seen(o, () => inner.get(k, o)),
    getMany: (k, o) => seen(o, () => inner.getMany(k, o)),
    set: (k, v, o) => seen(o, () => inner.set(k, v, o)),
    delete: (k, o) => seen(o, () => inner.delete(k, o)),
    setMany: (i, o) => seen(o, () => inner.setMany(i, o)),
    deleteMany: (k, o) => seen(o, () => inner.deleteMany(k, o)),
    list: (o) => seen(o, () => inner.list(o)),
    increment: (k, b, o) => seen(o, () => inner.increment(k, b, o)),
    close: () => inner.close(),
    native: () => inner.native(),
  };
  return { driver, signals };
}

describe('settlesSynchronously', () => {
  it('a synchronous driver gets no attempt signal when nothing could abort the call', async () => {
    const { driver, signals } = recording(true);
    const kv = new KvStore(driver);
    await kv.set('a', 1);
    await kv.get('a');
    await kv.increment('a');
    expect(signals).toEqual([undefined, undefined, undefined]);
  });

  it('a caller signal or timeoutMs still reaches a synchronous driver, and aborts it', async () => {
    const { driver, signals } = recording(true);
    const kv = new KvStore(driver);
    const ac = new AbortController();
    await kv.get('a', { signal: ac.signal });
    expect(signals[0]).toBeInstanceOf(AbortSignal);
    ac.abort();
    await expect(kv.get('a', { signal: ac.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
    const r = recording(true);
    await new KvStore(r.driver, { timeoutMs: 5_000 }).get('a');
    expect(r.signals[0]).toBeInstanceOf(AbortSignal);
  });

  it('a driver that does not declare it keeps its bounded attempt signal', async () => {
    const { driver, signals } = recording(false);
    const kv = new KvStore(driver);
    await kv.get('a');
    expect(signals[0]).toBeInstanceOf(AbortSignal);
    expect(signals[0]?.aborted).toBe(false);
  });

  it('the memory driver declares it', () => {
    expect(new MemoryKvDriver(new MemoryKvNamespace('fast-path-decl', 'default')).settlesSynchronously).toBe(
      true,
    );
  });
});

describe('BucketDriver.settlesSynchronously', () => {
  const bucketWith = (sync: boolean, opts: { timeoutMs?: number } = {}) => {
    const driver = new MemoryBucketDriver(new MemoryBucketStore(`fast-path-blob-${sync}-${Math.random()}`));
    const signals: (AbortSignal | undefined)[] = [];
    const put = driver.put.bind(driver);
    Object.defineProperty(driver, 'settlesSynchronously', { value: sync });
    driver.put = (key, body, o) => {
      signals.push(o.signal);
      return put(key, body, o);
    };
    const read = driver.read.bind(driver);
    driver.read = (key, o) => {
      signals.push(o.signal);
      return read(key, o);
    };
    return { bucket: new Bucket(driver, opts), signals };
  };

  it('a bytes put and a read on a synchronous driver run without an attempt signal', async () => {
    const { bucket, signals } = bucketWith(true);
    await bucket.put('k', 'v');
    expect(await bucket.getText('k')).toBe('v');
    expect(signals).toEqual([undefined, undefined]);
  });

  it('a timeoutMs, a caller signal or a driver that does not declare it keeps the attempt signal', async () => {
    const timed = bucketWith(true, { timeoutMs: 5_000 });
    await timed.bucket.put('k', 'v');
    const signalled = bucketWith(true);
    await signalled.bucket.put('k', 'v', { signal: new AbortController().signal });
    const plain = bucketWith(false);
    await plain.bucket.put('k', 'v');
    await plain.bucket.getBytes('k');
    await timed.bucket.getBytes('k');
    expect(plain.signals).toHaveLength(2);
    for (const s of [...timed.signals, signalled.signals[0], ...plain.signals]) {
      expect(s).toBeInstanceOf(AbortSignal);
    }
  });
});
