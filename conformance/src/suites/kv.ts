import { isDeepStrictEqual } from 'node:util';
import { isPolycloudError, type KvEntry, type KvStore, type KvValue } from '@polycloud/core';
import type { KvHarness } from '../harness.js';
import { type RegisterTest, runSuite, type TestCtx } from './framework.js';
import {
  check,
  checkBytes,
  describeError,
  expectCode,
  expectPolycloudError,
  expectUnsupported,
  MiB,
  randomData,
  randomName,
  settle,
  showKey,
  sleep,
  sortUtf8,
  utf8Bytes,
} from './helpers.js';

type Kv = KvStore<KvValue>;

/** Keys that must round-trip; functions of maxKeyBytes where the length matters. */
export const KV_KEY_CASES: readonly (readonly [string, (maxKeyBytes: number) => string])[] = [
  ['unicode', () => 'ünïcødé/日本語/Ελληνικά/😀'],
  ['slashes', () => '/a/b//c/'],
  ['hash', () => 'a#b#'],
  ['question mark and equals', () => 'a?b=c&d'],
  ['backslashes', () => 'a\\b\\\\c'],
  ['percent signs', () => '100%25%zz'],
  ['spaces', () => ' a b  c '],
  ['single dot', () => '.'],
  ['double dot', () => '..'],
  [
    'ASCII control characters',
    () => `ctl${Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1)).join('')}\x7f`,
  ],
  ['NUL character', () => 'a\x00b'],
  ['characters whose UTF-16 and UTF-8 orders differ', () => '\uFF61\u{1F600}\uE000'],
  ['one byte', () => 'k'],
  ['maxKeyBytes bytes of ASCII', (max) => 'k'.repeat(max)],
  [
    'maxKeyBytes bytes of multi-byte characters',
    (max) => '😀'.repeat(Math.floor(max / 4)) + 'é'.repeat(Math.floor((max % 4) / 2)) + 'x'.repeat(max % 2),
  ],
];

/** Keys that must be rejected with INVALID_ARGUMENT. */
export const KV_INVALID_KEY_CASES: readonly (readonly [string, (maxKeyBytes: number) => string])[] = [
  ['empty', () => ''],
  ['maxKeyBytes + 1 bytes', (max) => 'k'.repeat(max + 1)],
  ['maxKeyBytes + 1 bytes of multi-byte characters', (max) => 'k'.repeat(max - 1) + 'é'],
  ['lone high surrogate', () => 'a\uD800'],
  ['lone low surrogate', () => '\uDC00b'],
];

/** JSON values of every shape that must round-trip exactly. */
export const KV_JSON_CASES: readonly (readonly [string, KvValue])[] = [
  ['null', null],
  ['true', true],
  ['false', false],
  ['zero', 0],
  ['integers and floats', [1, -1, 1.5, 0.1, -2.5e-8, 1e21, 123456789.125]],
  ['number extremes', [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 1.7976931348623157e308, 5e-324]],
  ['empty string', ''],
  ['string with unicode, escapes and NUL', '😀 日本語 \u2028\u2029 "q" \\ \n\t \u0000 end'],
  ['empty array', []],
  ['empty object', {}],
  ['array of small numbers stays an array', [0, 1, 2, 255]],
  ['nested objects and arrays', { a: [1, { b: [null, true, 'x'] }], c: { d: { e: { f: [[], {}] } } } }],
  ['object with unusual keys', { '': 'empty key', 'a.b': 1, 'with space': 2, '😀': 3, $: 4, 'a/b#c?d': 5 }],
  ['deeply nested value', deep(40)],
];

function deep(n: number): KvValue {
  let v: KvValue = 'bottom';
  for (let i = 0; i < n; i++) v = i % 2 === 0 ? { level: i, v } : [i, v];
  return v;
}

/**
 * The key-value conformance suite. Every test opens the store under a fresh random namespace.
 *
 * @example
 * kvSuite({ adapter: 'memory', emulator: null, open: async (ns) => ({ kv: memoryKv('t', ns) }) });
 */
export function kvSuite(h: KvHarness): void {
  runSuite(h, 'kv', (test) => registerKvTests(h, test));
}

function registerKvTests(h: KvHarness, test: RegisterTest): void {
  const open = async (t: TestCtx, namespace = randomName('ns')): Promise<Kv> => {
    const { kv, cleanup } = await h.open(namespace);
    t.defer(async () => {
      try {
        await cleanup?.();
      } finally {
        await kv.close();
      }
    });
    return kv;
  };
  const ttlUnsupported = (t: TestCtx, kv: Kv) =>
    expectUnsupported(t, 'ttl', (signal) => kv.set('ttl-key', 1, { ttlSeconds: 2, signal }));

  // ---------------------------------------------------------------- basics

  test('basics: set, get and delete', async (t) => {
    const kv = await open(t);
    const { version } = await kv.set('user:1', { name: 'Ada', tags: ['x'] });
    const e = await kv.get('user:1');
    check(e !== undefined, 'get after set returned nothing');
    check(e.key === 'user:1', `entry key ${showKey(e.key)}`);
    check(isDeepStrictEqual(e.value, { name: 'Ada', tags: ['x'] }), `value ${JSON.stringify(e.value)}`);
    check(e.version === version, `get version ${e.version}, set returned ${version}`);
    check(e.expiresAt === undefined, 'an entry written without TTL has expiresAt');
    check((await kv.delete('user:1')) === true, 'delete of an existing key returned false');
    check((await kv.get('user:1')) === undefined, 'get after delete returned an entry');
  });

  test('basics: get of a missing key returns undefined', async (t) => {
    const kv = await open(t);
    check((await kv.get('missing')) === undefined, 'get of a missing key returned an entry');
  });

  test('basics: delete reports whether the key existed', async (t) => {
    const kv = await open(t);
    check((await kv.delete('missing')) === false, 'delete of a missing key returned true');
    await kv.set('k', 1);
    check((await kv.delete('k')) === true, 'delete of an existing key returned false');
    check((await kv.delete('k')) === false, 'a second delete returned true');
  });

  test('basics: an overwrite replaces the value', async (t) => {
    const kv = await open(t);
    await kv.set('k', { a: 1, b: 2 });
    await kv.set('k', { c: 3 });
    const e = await kv.get('k');
    check(isDeepStrictEqual(e?.value, { c: 3 }), `value after overwrite ${JSON.stringify(e?.value)}`);
  });

  test('versions: every write changes the version, even with the same value', async (t) => {
    const kv = await open(t);
    const versions = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const { version } = await kv.set('k', 'same');
      check(typeof version === 'string' && version.length > 0, 'set returned no version');
      versions.add(version);
      check((await kv.get('k'))?.version === version, 'get reports another version than set returned');
    }
    check(versions.size === 4, `4 writes produced ${versions.size} distinct versions`);
  });

  test('versions: a re-created key does not reuse an old version', async (t) => {
    const kv = await open(t);
    const { version: v1 } = await kv.set('k', 1);
    await kv.delete('k');
    const { version: v2 } = await kv.set('k', 1);
    check(v1 !== v2, `the re-created key got the old version ${v1}`);
    if (kv.capabilities.ifVersion) {
      await expectCode(
        'PRECONDITION_FAILED',
        () => kv.set('k', 2, { ifVersion: v1 }),
        'ifVersion with the version of a deleted incarnation',
      );
    }
  });

  test('namespaces: two namespaces do not see each other’s keys', async (t) => {
    const a = await open(t);
    const b = await open(t);
    await a.set('shared', 'from a');
    await b.set('shared', 'from b');
    await a.set('only-a', 1);
    check((await a.get('shared'))?.value === 'from a', 'namespace a sees b’s value');
    check((await b.get('shared'))?.value === 'from b', 'namespace b sees a’s value');
    check((await b.get('only-a')) === undefined, 'namespace b sees a key of namespace a');
    const keys = await listKeys(b, {});
    check(JSON.stringify(keys) === '["shared"]', `namespace b lists ${JSON.stringify(keys)}`);
  });

  // ---------------------------------------------------------------- ifAbsent / ifVersion

  test('ifAbsent: creates when absent; ALREADY_EXISTS and nothing written when present', async (t) => {
    const kv = await open(t);
    if (!kv.capabilities.ifAbsent) {
      await expectUnsupported(t, 'ifAbsent', (signal) => kv.set('k', 1, { ifAbsent: true, signal }));
      check((await kv.get('k')) === undefined, 'a rejected set wrote the key');
      return;
    }
    const { version } = await kv.set('k', 'first', { ifAbsent: true });
    await expectCode(
      'ALREADY_EXISTS',
      () => kv.set('k', 'second', { ifAbsent: true }),
      'ifAbsent set of an existing key',
    );
    const e = await kv.get('k');
    check(e?.value === 'first' && e.version === version, 'a failed ifAbsent set changed the entry');
  });

  test('ifAbsent: exactly one of 10 concurrent writers wins', async (t) => {
    const kv = await open(t);
    if (!kv.capabilities.ifAbsent) {
      await expectUnsupported(t, 'ifAbsent', (signal) => kv.set('k', 1, { ifAbsent: true, signal }));
      return;
    }
    const r = await settle(
      Array.from({ length: 10 }, (_, i) => kv.set('race', { writer: i }, { ifAbsent: true })),
    );
    check(r.fulfilled.length === 1, `${r.fulfilled.length} ifAbsent writers succeeded, expected 1`);
    for (const x of r.rejected) {
      check(
        isPolycloudError(x.reason, 'ALREADY_EXISTS'),
        `a losing writer failed with ${describeError(x.reason)}`,
      );
    }
    const winner = r.fulfilled[0]!;
    const e = await kv.get('race');
    check(
      isDeepStrictEqual(e?.value, { writer: winner.index }),
      `stored ${JSON.stringify(e?.value)}, winner was ${winner.index}`,
    );
    check(e?.version === winner.value.version, 'the stored version is not the winner’s');
  });

  test('ifVersion: the current version writes', async (t) => {
    const kv = await open(t);
    if (!kv.capabilities.ifVersion) {
      await expectUnsupported(t, 'ifVersion', (signal) => kv.set('k', 1, { ifVersion: 'v', signal }));
      return;
    }
    const { version } = await kv.set('k', 1);
    const next = await kv.set('k', 2, { ifVersion: version });
    check(next.version !== version, 'a conditional write kept the version');
    check((await kv.get('k'))?.value === 2, 'a write with the current version did not land');
  });

  test('ifVersion: a stale version fails with PRECONDITION_FAILED and nothing is written', async (t) => {
    const kv = await open(t);
    if (!kv.capabilities.ifVersion) {
      await expectUnsupported(t, 'ifVersion', (signal) => kv.set('k', 1, { ifVersion: 'v', signal }));
      return;
    }
    const { version: stale } = await kv.set('k', 1);
    const { version: cur } = await kv.set('k', 2);
    await expectCode(
      'PRECONDITION_FAILED',
      () => kv.set('k', 3, { ifVersion: stale }),
      'set with a stale version',
    );
    const e = await kv.get('k');
    check(e?.value === 2 && e.version === cur, 'a set with a stale version changed the entry');
  });

  test('ifVersion: a missing key fails with PRECONDITION_FAILED', async (t) => {
    const kv = await open(t);
    if (!kv.capabilities.ifVersion) {
      await expectUnsupported(t, 'ifVersion', (signal) => kv.set('k', 1, { ifVersion: 'v', signal }));
      return;
    }
    const { version } = await kv.set('other', 1);
    await expectCode(
      'PRECONDITION_FAILED',
      () => kv.set('k', 1, { ifVersion: version }),
      'ifVersion set of a missing key',
    );
    check((await kv.get('k')) === undefined, 'ifVersion set created a missing key');
  });

  test('ifVersion: exactly one of 10 concurrent writers with the same version wins', async (t) => {
    const kv = await open(t);
    if (!kv.capabilities.ifVersion) {
      await expectUnsupported(t, 'ifVersion', (signal) => kv.set('k', 1, { ifVersion: 'v', signal }));
      return;
    }
    const { version } = await kv.set('k', { writer: -1 });
    const r = await settle(
      Array.from({ length: 10 }, (_, i) => kv.set('k', { writer: i }, { ifVersion: version })),
    );
    check(
      r.fulfilled.length === 1,
      `${r.fulfilled.length} writers with the same version succeeded, expected 1`,
    );
    for (const x of r.rejected) {
      check(
        isPolycloudError(x.reason, 'PRECONDITION_FAILED'),
        `a losing writer failed with ${describeError(x.reason)}`,
      );
    }
    const e = await kv.get('k');
    check(
      isDeepStrictEqual(e?.value, { writer: r.fulfilled[0]!.index }),
      'the stored value is not the winner’s',
    );
  });

  test('delete ifVersion: a stale version fails and keeps the entry; the current version deletes', async (t) => {
    const kv = await open(t);
    if (!kv.capabilities.ifVersion) {
      await expectUnsupported(t, 'ifVersion', (signal) => kv.delete('k', { ifVersion: 'v', signal }));
      return;
    }
    const { version: stale } = await kv.set('k', 1);
    const { version: cur } = await kv.set('k', 2);
    await expectCode(
      'PRECONDITION_FAILED',
      () => kv.delete('k', { ifVersion: stale }),
      'delete with a stale version',
    );
    check((await kv.get('k'))?.value === 2, 'a delete with a stale version removed the entry');
    check(
      (await kv.delete('k', { ifVersion: cur })) === true,
      'delete with the current version returned false',
    );
    check((await kv.get('k')) === undefined, 'delete with the current version did not remove the entry');
  });

  test('delete ifVersion: a missing key fails with PRECONDITION_FAILED', async (t) => {
    const kv = await open(t);
    if (!kv.capabilities.ifVersion) {
      await expectUnsupported(t, 'ifVersion', (signal) => kv.delete('k', { ifVersion: 'v', signal }));
      return;
    }
    const { version } = await kv.set('other', 1);
    await expectCode(
      'PRECONDITION_FAILED',
      () => kv.delete('k', { ifVersion: version }),
      'ifVersion delete of a missing key',
    );
  });

  // ---------------------------------------------------------------- TTL

  test(
    'ttl: get never returns an expired entry',
    async (t) => {
      const kv = await open(t);
      if (!kv.capabilities.ttl) return ttlUnsupported(t, kv);
      const start = Date.now();
      await kv.set('short', 'x', { ttlSeconds: 3 });
      await kv.set('long', 'y', { ttlSeconds: 600 });
      const soon = await kv.get('short');
      check(soon?.value === 'x', 'an entry with a 3 s TTL was not readable at once');
      await sleepUntil(start, 5000, t.signal);
      check((await kv.get('short')) === undefined, 'get returned an entry after its TTL');
      check((await kv.get('long'))?.value === 'y', 'an entry with a 10-minute TTL is gone');
    },
    { timeout: 30_000 },
  );

  test(
    'ttl: getMany hides expired entries',
    async (t) => {
      const kv = await open(t);
      if (!kv.capabilities.ttl) return ttlUnsupported(t, kv);
      const start = Date.now();
      await kv.set('a', 1, { ttlSeconds: 1 });
      await kv.set('b', 2);
      await sleepUntil(start, 3000, t.signal);
      const got = await kv.getMany(['a', 'b']);
      check(got[0] === undefined, 'getMany returned an expired entry');
      check(got[1]?.value === 2, 'getMany lost a live entry');
    },
    { timeout: 30_000 },
  );

  test(
    'ttl: list hides expired entries',
    async (t) => {
      const kv = await open(t);
      if (!kv.capabilities.ttl) return ttlUnsupported(t, kv);
      await kv.setMany([
        { key: 'p/1', value: 1 },
        { key: 'p/2', value: 2 },
        { key: 'p/3', value: 3 },
      ]);
      const start = Date.now();
      await kv.set('p/2', 2, { ttlSeconds: 1 });
      await sleepUntil(start, 3000, t.signal);
      const keys = await listKeys(kv, { prefix: 'p/', limit: 1 });
      check(JSON.stringify(keys) === '["p/1","p/3"]', `list after expiry: ${JSON.stringify(keys)}`);
    },
    { timeout: 30_000 },
  );

  test(
    'ttl: ifAbsent succeeds over an expired entry',
    async (t) => {
      const kv = await open(t);
      if (!kv.capabilities.ttl) return ttlUnsupported(t, kv);
      if (!kv.capabilities.ifAbsent) {
        await expectUnsupported(t, 'ifAbsent', (signal) => kv.set('k', 1, { ifAbsent: true, signal }));
        return;
      }
      const start = Date.now();
      await kv.set('lock', 'old holder', { ttlSeconds: 3 });
      await expectCode(
        'ALREADY_EXISTS',
        () => kv.set('lock', 'early', { ifAbsent: true }),
        'ifAbsent before expiry',
      );
      await sleepUntil(start, 5000, t.signal);
      await kv.set('lock', 'new holder', { ifAbsent: true });
      const e = await kv.get('lock');
      check(
        e?.value === 'new holder' && e.expiresAt === undefined,
        `after re-acquiring: ${JSON.stringify(e)}`,
      );
    },
    { timeout: 30_000 },
  );

  test(
    'ttl: ifVersion on an expired entry fails with PRECONDITION_FAILED',
    async (t) => {
      const kv = await open(t);
      if (!kv.capabilities.ttl) return ttlUnsupported(t, kv);
      if (!kv.capabilities.ifVersion) {
        await expectUnsupported(t, 'ifVersion', (signal) => kv.set('k', 1, { ifVersion: 'v', signal }));
        return;
      }
      const start = Date.now();
      const { version } = await kv.set('k', 1, { ttlSeconds: 1 });
      await sleepUntil(start, 3000, t.signal);
      await expectCode(
        'PRECONDITION_FAILED',
        () => kv.set('k', 2, { ifVersion: version }),
        'ifVersion set of an expired entry',
      );
      check((await kv.get('k')) === undefined, 'a failed ifVersion set revived an expired entry');
    },
    { timeout: 30_000 },
  );

  test(
    'ttl: delete of an expired entry reports it did not exist',
    async (t) => {
      const kv = await open(t);
      if (!kv.capabilities.ttl) return ttlUnsupported(t, kv);
      const start = Date.now();
      await kv.set('k', 1, { ttlSeconds: 1 });
      await sleepUntil(start, 3000, t.signal);
      check((await kv.delete('k')) === false, 'delete of an expired entry returned true');
    },
    { timeout: 30_000 },
  );

  test('ttl: expiresAt is reported', async (t) => {
    const kv = await open(t);
    if (!kv.capabilities.ttl) return ttlUnsupported(t, kv);
    const before = Date.now();
    await kv.set('k', 1, { ttlSeconds: 300 });
    const e = await kv.get('k');
    check(e?.expiresAt instanceof Date, 'an entry with a TTL has no expiresAt');
    const delta = e.expiresAt.getTime() - (before + 300_000);
    check(Math.abs(delta) < 5_000, `expiresAt is ${delta} ms off now + 300 s`);
  });

  test(
    'ttl: an overwrite without ttlSeconds removes the expiry',
    async (t) => {
      const kv = await open(t);
      if (!kv.capabilities.ttl) return ttlUnsupported(t, kv);
      const start = Date.now();
      await kv.set('k', 1, { ttlSeconds: 1 });
      await kv.set('k', 2);
      await sleepUntil(start, 3000, t.signal);
      const e = await kv.get('k');
      check(e?.value === 2, 'an entry overwritten without TTL still expired');
      check(e.expiresAt === undefined, 'an entry overwritten without TTL still reports expiresAt');
    },
    { timeout: 30_000 },
  );

  test(
    'ttl: setMany with ttlSeconds expires those items only',
    async (t) => {
      const kv = await open(t);
      if (!kv.capabilities.ttl) {
        await expectUnsupported(t, 'ttl', (signal) =>
          kv.setMany([{ key: 'a', value: 1, ttlSeconds: 2 }], { signal }),
        );
        return;
      }
      const start = Date.now();
      const r = await kv.setMany([
        { key: 'a', value: 1, ttlSeconds: 1 },
        { key: 'b', value: 2 },
      ]);
      check(
        r.every((x) => x.ok),
        `setMany failed: ${JSON.stringify(r)}`,
      );
      await sleepUntil(start, 3000, t.signal);
      check((await kv.get('a')) === undefined, 'a setMany item with a TTL did not expire');
      check((await kv.get('b'))?.value === 2, 'a setMany item without TTL expired');
    },
    { timeout: 30_000 },
  );

  test(
    'ttl: increment of an expired counter starts from 0',
    async (t) => {
      const kv = await open(t);
      if (!kv.capabilities.ttl) return ttlUnsupported(t, kv);
      if (!kv.capabilities.increment) {
        await expectUnsupported(t, 'increment', (signal) => kv.increment('c', 1, { signal }));
        return;
      }
      const start = Date.now();
      await kv.set('c', 41, { ttlSeconds: 1 });
      await sleepUntil(start, 3000, t.signal);
      const { value } = await kv.increment('c', 1);
      check(value === 1, `increment of an expired counter returned ${value}, expected 1`);
    },
    { timeout: 30_000 },
  );

  test('ttl: a non-positive ttlSeconds is rejected with INVALID_ARGUMENT', async (t) => {
    const kv = await open(t);
    if (!kv.capabilities.ttl) return ttlUnsupported(t, kv);
    await expectCode('INVALID_ARGUMENT', () => kv.set('k', 1, { ttlSeconds: 0 }), 'ttlSeconds 0');
    await expectCode('INVALID_ARGUMENT', () => kv.set('k', 1, { ttlSeconds: -5 }), 'negative ttlSeconds');
    check((await kv.get('k')) === undefined, 'a rejected set wrote the key');
  });

  // ---------------------------------------------------------------- listing

  test('list: keys come back in UTF-8 byte order', async (t) => {
    const kv = await open(t);
    const keys = [
      'a',
      'B',
      'b',
      'a/b',
      'a-b',
      'a b',
      'aa',
      '\uFF61',
      '\u{1F600}',
      '\uE000',
      '\uFFFD',
      '\u{10000}',
      'é',
      'ÿ',
      'z',
      '~',
      '0',
      '9',
    ];
    await kv.setMany(keys.map((key) => ({ key, value: key })));
    const expected = sortUtf8(keys);
    const got = await listKeys(kv, {});
    check(
      JSON.stringify(got) === JSON.stringify(expected),
      `list order ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`,
    );
    const paged = await listKeys(kv, { limit: 4 });
    check(JSON.stringify(paged) === JSON.stringify(expected), `paged list order ${JSON.stringify(paged)}`);
  });

  test('list: prefix pages with a cursor visit every key exactly once', async (t) => {
    const kv = await open(t);
    const inside = Array.from({ length: 13 }, (_, i) => `user/${String(i).padStart(2, '0')}`);
    await kv.setMany([...inside, 'user', 'users/x', 'usa', 'z'].map((key) => ({ key, value: 1 })));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await kv.list({ prefix: 'user/', limit: 3, ...(cursor ? { cursor } : {}) });
      check(page.entries.length <= 3, `a page with limit 3 held ${page.entries.length} entries`);
      seen.push(...page.entries.map((e) => e.key));
      cursor = page.cursor;
      check(++pages <= 30, 'listing did not end');
    } while (cursor !== undefined);
    check(JSON.stringify(seen) === JSON.stringify(inside), `paged prefix listing ${JSON.stringify(seen)}`);
  });

  test('list: a prefix excludes its neighbours', async (t) => {
    const kv = await open(t);
    await kv.setMany(
      ['a/', 'a/x', 'a', 'a0', 'a.', 'a/\u{1F600}', 'b/x', '`'].map((key) => ({ key, value: 1 })),
    );
    const got = await listKeys(kv, { prefix: 'a/' });
    check(
      JSON.stringify(got) === JSON.stringify(sortUtf8(['a/', 'a/x', 'a/\u{1F600}'])),
      `prefix "a/" listed ${JSON.stringify(got)}`,
    );
    const uni = await listKeys(kv, { prefix: 'a/\u{1F600}' });
    check(
      JSON.stringify(uni) === JSON.stringify(['a/\u{1F600}']),
      `unicode prefix listed ${JSON.stringify(uni)}`,
    );
  });

  test('list: an empty namespace lists nothing and has no cursor', async (t) => {
    const kv = await open(t);
    const page = await kv.list();
    check(page.entries.length === 0, 'a fresh namespace is not empty');
    check(page.cursor === undefined, `an empty listing returned cursor ${page.cursor}`);
  });

  test('list: entries carry values and versions; entries() iterates every page', async (t) => {
    const kv = await open(t);
    const versions = new Map<string, string>();
    for (let i = 0; i < 7; i++) versions.set(`e/${i}`, (await kv.set(`e/${i}`, { i })).version);
    const seen: KvEntry<KvValue>[] = [];
    for await (const e of kv.entries({ prefix: 'e/', limit: 2 })) seen.push(e);
    check(seen.length === 7, `entries() yielded ${seen.length} of 7`);
    for (const e of seen) {
      check(
        e.version === versions.get(e.key),
        `${e.key}: listed version ${e.version}, set returned ${versions.get(e.key)}`,
      );
      check(
        isDeepStrictEqual(e.value, { i: Number(e.key.slice(2)) }),
        `${e.key}: listed value ${JSON.stringify(e.value)}`,
      );
    }
  });

  test('list: a limit out of range is rejected with INVALID_ARGUMENT', async (t) => {
    const kv = await open(t);
    await expectCode('INVALID_ARGUMENT', () => kv.list({ limit: 0 }), 'limit 0');
    await expectCode(
      'INVALID_ARGUMENT',
      () => kv.list({ limit: kv.capabilities.maxListLimit + 1 }),
      'limit over maxListLimit',
    );
  });

  // ---------------------------------------------------------------- batches

  const batchSize = (kv: Kv) => Math.min(kv.capabilities.maxBatchSize + 3, 1003);

  test(
    'getMany: results in input order across a batch boundary, undefined where missing',
    async (t) => {
      const kv = await open(t);
      const n = batchSize(kv);
      const keys = Array.from({ length: n }, (_, i) => `g/${String(i).padStart(4, '0')}`);
      const present = keys.filter((_, i) => i % 3 !== 1);
      await kv.setMany(present.map((key) => ({ key, value: { key } })));
      const order = [...keys].reverse();
      const got = await kv.getMany(order);
      check(got.length === n, `getMany returned ${got.length} results for ${n} keys`);
      got.forEach((e, i) => {
        const key = order[i]!;
        if (present.includes(key)) {
          check(
            e?.key === key && isDeepStrictEqual(e.value, { key }),
            `result ${i} should be ${key}, got ${JSON.stringify(e)}`,
          );
        } else check(e === undefined, `result ${i} for missing ${key} is ${JSON.stringify(e)}`);
      });
    },
    { timeout: 120_000 },
  );

  test('getMany: duplicate keys each get a result', async (t) => {
    const kv = await open(t);
    await kv.set('a', 1);
    const got = await kv.getMany(['a', 'missing', 'a']);
    check(
      got.length === 3 && got[0]?.value === 1 && got[1] === undefined && got[2]?.value === 1,
      `getMany with duplicates: ${JSON.stringify(got)}`,
    );
    check((await kv.getMany([])).length === 0, 'getMany([]) returned results');
  });

  test(
    'setMany: per-item results in input order across a batch boundary',
    async (t) => {
      const kv = await open(t);
      const n = batchSize(kv);
      const items = Array.from({ length: n }, (_, i) => ({
        key: `s/${String(n - i).padStart(4, '0')}`,
        value: [i],
      }));
      const results = await kv.setMany(items);
      check(results.length === n, `setMany returned ${results.length} results for ${n} items`);
      results.forEach((r, i) => {
        check(r.key === items[i]!.key, `result ${i} is for ${r.key}, expected ${items[i]!.key}`);
        check(r.ok, `setMany item ${r.key} failed: ${r.ok ? '' : describeError(r.error)}`);
      });
      const sample = [0, kv.capabilities.maxBatchSize - 1, kv.capabilities.maxBatchSize, n - 1].filter(
        (i) => i >= 0 && i < n,
      );
      for (const i of sample) {
        const e = await kv.get(items[i]!.key);
        const r = results[i]!;
        check(isDeepStrictEqual(e?.value, [i]), `item ${i} reads back as ${JSON.stringify(e?.value)}`);
        check(r.ok && e?.version === r.version, `item ${i}: stored version differs from the reported one`);
      }
    },
    { timeout: 120_000 },
  );

  test(
    'deleteMany: per-item results with existed flags across a batch boundary',
    async (t) => {
      const kv = await open(t);
      const n = batchSize(kv);
      const keys = Array.from({ length: n }, (_, i) => `d/${String(i).padStart(4, '0')}`);
      const present = new Set(keys.filter((_, i) => i % 2 === 0));
      await kv.setMany([...present].map((key) => ({ key, value: 1 })));
      await kv.set('keep', 1);
      const results = await kv.deleteMany(keys);
      check(results.length === n, `deleteMany returned ${results.length} results for ${n} keys`);
      results.forEach((r, i) => {
        check(r.key === keys[i], `result ${i} is for ${r.key}`);
        check(r.ok, `deleting ${r.key} failed: ${r.ok ? '' : describeError(r.error)}`);
        check(r.ok && r.existed === present.has(r.key), `${r.key}: existed is ${r.ok && r.existed}`);
      });
      const left = await listKeys(kv, {});
      check(
        JSON.stringify(left) === '["keep"]',
        `left after deleteMany: ${JSON.stringify(left.slice(0, 5))}`,
      );
      check((await kv.deleteMany([])).length === 0, 'deleteMany([]) returned results');
    },
    { timeout: 120_000 },
  );

  test('setMany: an invalid item rejects the whole call before anything is written', async (t) => {
    const kv = await open(t);
    await expectCode(
      'INVALID_ARGUMENT',
      () =>
        kv.setMany([
          { key: 'good', value: 1 },
          { key: '', value: 2 },
        ]),
      'setMany with an empty key',
    );
    await expectCode(
      'INVALID_ARGUMENT',
      () =>
        kv.setMany([
          { key: 'good', value: 1 },
          { key: 'bad', value: undefined as unknown as KvValue },
        ]),
      'setMany with an undefined value',
    );
    check((await kv.get('good')) === undefined, 'a rejected setMany wrote an item');
  });

  // ---------------------------------------------------------------- increment

  test(
    'increment: 20 concurrent callers end exact',
    async (t) => {
      const kv = await open(t);
      if (!kv.capabilities.increment) {
        await expectUnsupported(t, 'increment', (signal) => kv.increment('c', 1, { signal }));
        return;
      }
      const callers = 20;
      const each = 3;
      const returned: number[] = [];
      await Promise.all(
        Array.from({ length: callers }, async () => {
          for (let i = 0; i < each; i++) returned.push((await kv.increment('counter', 1)).value);
        }),
      );
      const total = callers * each;
      const final = (await kv.get('counter'))?.value;
      check(final === total, `counter is ${final}, expected ${total}`);
      const sorted = [...returned].sort((a, b) => a - b);
      check(
        sorted.every((v, i) => v === i + 1),
        `increments returned ${JSON.stringify(sorted)}; each caller must see a distinct value 1..${total}`,
      );
    },
    { timeout: 120_000 },
  );

  test('increment: a missing key starts from 0', async (t) => {
    const kv = await open(t);
    if (!kv.capabilities.increment) {
      await expectUnsupported(t, 'increment', (signal) => kv.increment('c', 1, { signal }));
      return;
    }
    check(
      (await kv.increment('fresh')).value === 1,
      'increment of a missing key by default 1 did not return 1',
    );
    check((await kv.increment('fresh-5', 5)).value === 5, 'increment of a missing key by 5 did not return 5');
  });

  test('increment: negative and large steps', async (t) => {
    const kv = await open(t);
    if (!kv.capabilities.increment) {
      await expectUnsupported(t, 'increment', (signal) => kv.increment('c', 1, { signal }));
      return;
    }
    await kv.set('c', 10);
    check((await kv.increment('c', -15)).value === -5, 'increment by -15 from 10 did not give -5');
    const big = 2 ** 50;
    check((await kv.increment('c', big)).value === big - 5, 'increment by 2^50 lost precision');
    check((await kv.increment('c', 0)).value === big - 5, 'increment by 0 changed the value');
  });

  test('increment: the counter reads back as a number with the returned version', async (t) => {
    const kv = await open(t);
    if (!kv.capabilities.increment) {
      await expectUnsupported(t, 'increment', (signal) => kv.increment('c', 1, { signal }));
      return;
    }
    const r = await kv.increment('c', 7);
    const e = await kv.get('c');
    check(e?.value === 7, `get after increment returned ${JSON.stringify(e?.value)}`);
    check(e.version === r.version, 'get version differs from the version increment returned');
    if (kv.capabilities.ifVersion) {
      await kv.set('c', 100, { ifVersion: r.version });
      check(
        (await kv.increment('c')).value === 101,
        'increment after a conditional set did not continue from it',
      );
    }
  });

  test('increment: a non-numeric value fails with PRECONDITION_FAILED', async (t) => {
    const kv = await open(t);
    if (!kv.capabilities.increment) {
      await expectUnsupported(t, 'increment', (signal) => kv.increment('c', 1, { signal }));
      return;
    }
    await kv.set('s', 'not a number');
    await expectCode('PRECONDITION_FAILED', () => kv.increment('s', 1), 'increment of a string value');
    check((await kv.get('s'))?.value === 'not a number', 'a failed increment changed the value');
  });

  test('increment: a step that is not a safe integer is rejected with INVALID_ARGUMENT', async (t) => {
    const kv = await open(t);
    if (!kv.capabilities.increment) {
      await expectUnsupported(t, 'increment', (signal) => kv.increment('c', 1, { signal }));
      return;
    }
    await expectCode('INVALID_ARGUMENT', () => kv.increment('c', 1.5), 'increment by 1.5');
    await expectCode('INVALID_ARGUMENT', () => kv.increment('c', Number.NaN), 'increment by NaN');
    check((await kv.get('c')) === undefined, 'a rejected increment created the key');
  });

  // ---------------------------------------------------------------- values

  for (const [label, value] of KV_JSON_CASES) {
    test(`values: JSON ${label} round-trips`, async (t) => {
      const kv = await open(t);
      await kv.set('v', value);
      const e = await kv.get('v');
      check(e !== undefined, 'the value was not stored');
      check(
        isDeepStrictEqual(e.value, value),
        `read back ${JSON.stringify(e.value)}, wrote ${JSON.stringify(value)}`,
      );
      const [m] = await kv.getMany(['v']);
      check(isDeepStrictEqual(m?.value, value), 'getMany returned another value');
      const listed = (await kv.list()).entries[0];
      check(isDeepStrictEqual(listed?.value, value), 'list returned another value');
    });
  }

  const binaryCases: [string, () => Uint8Array][] = [
    ['all 256 byte values', () => Uint8Array.from({ length: 512 }, (_, i) => i % 256)],
    ['empty', () => new Uint8Array(0)],
    ['bytes that look like JSON', () => new TextEncoder().encode('{"a":[1,2]}')],
  ];
  for (const [label, make] of binaryCases) {
    test(`values: Uint8Array ${label} round-trips`, async (t) => {
      const kv = await open(t);
      const value = make();
      if (!kv.capabilities.binaryValues) {
        await expectUnsupported(t, 'binaryValues', (signal) => kv.set('b', value, { signal }));
        check((await kv.get('b')) === undefined, 'a rejected binary set wrote the key');
        return;
      }
      await kv.set('b', value);
      const e = await kv.get('b');
      check(
        e?.value instanceof Uint8Array,
        `a binary value came back as ${typeof e?.value} ${JSON.stringify(e?.value)}`,
      );
      checkBytes(e.value, value, 'binary value');
      const listed = (await kv.list()).entries[0];
      check(listed?.value instanceof Uint8Array, 'list returned a binary value as something else');
      checkBytes(listed.value, value, 'listed binary value');
    });
  }

  test(
    'values: the largest allowed JSON value round-trips',
    async (t) => {
      const kv = await open(t);
      const size = Math.min(kv.capabilities.maxValueBytes, 4 * MiB);
      // A JSON string of n characters is n + 2 bytes of JSON text.
      const value = 'v'.repeat(size - 2);
      await kv.set('big', value);
      const e = await kv.get('big');
      check(
        e?.value === value,
        `a ${size}-byte JSON value did not round-trip (got ${String(e?.value).length} characters)`,
      );
    },
    { timeout: 90_000 },
  );

  test(
    'values: the largest allowed binary value round-trips',
    async (t) => {
      const kv = await open(t);
      const size = Math.min(kv.capabilities.maxValueBytes, 4 * MiB);
      if (!kv.capabilities.binaryValues) {
        await expectUnsupported(t, 'binaryValues', (signal) => kv.set('b', new Uint8Array(4), { signal }));
        return;
      }
      const value = randomData(size);
      await kv.set('big', value);
      const e = await kv.get('big');
      check(e?.value instanceof Uint8Array, 'the binary value came back as something else');
      checkBytes(e.value, value, `${size}-byte binary value`);
    },
    { timeout: 90_000 },
  );

  test('values: a value over maxValueBytes fails with PAYLOAD_TOO_LARGE and nothing is written', async (t) => {
    const kv = await open(t);
    const max = kv.capabilities.maxValueBytes;
    check(
      Number.isSafeInteger(max) && max > 0 && max <= 256 * MiB,
      `maxValueBytes ${max} is not a usable limit`,
    );
    const aborted = AbortSignal.abort();
    await expectCode(
      'PAYLOAD_TOO_LARGE',
      () => kv.set('big', 'v'.repeat(max - 1), { signal: aborted }),
      'a JSON value one byte over the limit',
    );
    if (kv.capabilities.binaryValues) {
      await expectCode(
        'PAYLOAD_TOO_LARGE',
        () => kv.set('big', new Uint8Array(max + 1), { signal: aborted }),
        'a binary value one byte over the limit',
      );
    }
    await expectCode(
      'PAYLOAD_TOO_LARGE',
      () =>
        kv.setMany([
          { key: 'small', value: 1 },
          { key: 'big', value: 'v'.repeat(max - 1) },
        ]),
      'setMany with an oversized item',
    );
    check(
      (await kv.getMany(['big', 'small'])).every((e) => e === undefined),
      'an oversized write stored something',
    );
  });

  test('values: non-JSON values are rejected with INVALID_ARGUMENT', async (t) => {
    const kv = await open(t);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const bad: [string, unknown][] = [
      ['undefined', undefined],
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ['a function', () => 1],
      ['a Date', new Date()],
      ['a Map', new Map()],
      ['a bigint', 1n],
      ['a nested undefined', { a: [1, undefined] }],
      ['a circular object', circular],
    ];
    for (const [label, value] of bad) {
      await expectCode('INVALID_ARGUMENT', () => kv.set('k', value as KvValue), `set of ${label}`);
    }
    check((await kv.get('k')) === undefined, 'a rejected value was written');
  });

  test('values: stored values are not aliased to the caller’s objects', async (t) => {
    const kv = await open(t);
    const value = { list: [1, 2], nested: { a: 'x' } };
    await kv.set('k', value);
    value.list.push(3);
    value.nested.a = 'changed';
    const first = await kv.get('k');
    check(
      isDeepStrictEqual(first?.value, { list: [1, 2], nested: { a: 'x' } }),
      'mutating the written object changed the stored value',
    );
    check(first !== undefined, 'the value was not stored');
    (first.value as { list: number[] }).list.push(99);
    const second = await kv.get('k');
    check(
      isDeepStrictEqual(second?.value, { list: [1, 2], nested: { a: 'x' } }),
      'mutating a read value changed the stored value',
    );
    if (kv.capabilities.binaryValues) {
      const bytes = new Uint8Array([1, 2, 3]);
      await kv.set('b', bytes);
      bytes[0] = 9;
      const got = (await kv.get('b'))?.value as Uint8Array;
      check(got[0] === 1, 'mutating the written Uint8Array changed the stored value');
    }
  });

  // ---------------------------------------------------------------- keys

  for (const [label, make] of KV_KEY_CASES) {
    test(`keys: ${label} round-trips through set, get, getMany, list and delete`, async (t) => {
      const kv = await open(t);
      const key = make(kv.capabilities.maxKeyBytes);
      check(utf8Bytes(key) <= kv.capabilities.maxKeyBytes, 'test key is over maxKeyBytes');
      await kv.set(key, { key });
      const e = await kv.get(key);
      check(e?.key === key, `get returned key ${e ? showKey(e.key) : 'nothing'}, expected ${showKey(key)}`);
      check(isDeepStrictEqual(e.value, { key }), 'get returned another value');
      const [m] = await kv.getMany([key]);
      check(m?.key === key, 'getMany did not find the key');
      const all = await listKeys(kv, {});
      check(all.length === 1 && all[0] === key, `list returned ${JSON.stringify(all.map(showKey))}`);
      const byPrefix = await listKeys(kv, { prefix: key });
      check(
        byPrefix.length === 1 && byPrefix[0] === key,
        `list with the key as prefix returned ${JSON.stringify(byPrefix.map(showKey))}`,
      );
      check((await kv.delete(key)) === true, 'delete returned false');
      check((await kv.get(key)) === undefined, 'the key is still there after delete');
    });
  }

  for (const [label, make] of KV_INVALID_KEY_CASES) {
    test(`keys: ${label} key is rejected with INVALID_ARGUMENT`, async (t) => {
      const kv = await open(t);
      const key = make(kv.capabilities.maxKeyBytes);
      const aborted = AbortSignal.abort();
      const ops: [string, () => Promise<unknown>][] = [
        ['set', () => kv.set(key, 1, { signal: aborted })],
        ['get', () => kv.get(key, { signal: aborted })],
        ['delete', () => kv.delete(key, { signal: aborted })],
        ['getMany', () => kv.getMany(['ok', key], { signal: aborted })],
        ['deleteMany', () => kv.deleteMany(['ok', key], { signal: aborted })],
        ['setMany', () => kv.setMany([{ key, value: 1 }], { signal: aborted })],
        ['increment', () => kv.increment(key, 1, { signal: aborted })],
      ];
      for (const [op, fn] of ops) await expectCode('INVALID_ARGUMENT', fn, `${op} with a ${label} key`);
      check((await kv.list()).entries.length === 0, 'something was written');
    });
  }

  // ---------------------------------------------------------------- misc

  test('options: unknown options and conflicting conditions are rejected with INVALID_ARGUMENT', async (t) => {
    const kv = await open(t);
    await expectCode(
      'INVALID_ARGUMENT',
      () => kv.set('k', 1, { ifabsent: true } as never),
      'set with an unknown option',
    );
    await expectCode(
      'INVALID_ARGUMENT',
      () => kv.get('k', { consistent: true } as never),
      'get with an unknown option',
    );
    await expectCode(
      'INVALID_ARGUMENT',
      () => kv.list({ reverse: true } as never),
      'list with an unknown option',
    );
    await expectCode(
      'INVALID_ARGUMENT',
      () => kv.delete('k', { force: true } as never),
      'delete with an unknown option',
    );
    if (kv.capabilities.ifAbsent && kv.capabilities.ifVersion) {
      await expectCode(
        'INVALID_ARGUMENT',
        () => kv.set('k', 1, { ifAbsent: true, ifVersion: 'v' }),
        'set with ifAbsent and ifVersion',
      );
    }
    check((await kv.get('k')) === undefined, 'a rejected set wrote the key');
  });

  test('close: operations after close() fail', async (t) => {
    const kv = await open(t);
    await kv.set('k', 1);
    await kv.close();
    await expectPolycloudError(() => kv.get('k'), 'get after close');
    await expectPolycloudError(() => kv.set('k', 2), 'set after close');
    await expectPolycloudError(() => kv.delete('k'), 'delete after close');
    await expectPolycloudError(() => kv.list(), 'list after close');
    await expectPolycloudError(() => kv.getMany(['k']), 'getMany after close');
    await kv.close();
  });

  test('capabilities: a frozen record with usable limits', async (t) => {
    const kv = await open(t);
    const c = kv.capabilities;
    check(Object.isFrozen(c), 'capabilities is not frozen');
    check(c.maxKeyBytes >= 255, `maxKeyBytes ${c.maxKeyBytes} is under 255`);
    check(c.maxValueBytes >= 1024, `maxValueBytes ${c.maxValueBytes} is under 1 KiB`);
    check(c.maxBatchSize >= 1 && c.maxListLimit >= 1, 'maxBatchSize and maxListLimit must be at least 1');
    check(typeof kv.namespace === 'string' && kv.namespace.length > 0, 'the store reports no namespace');
  });
}

/** Sleeps until `ms` after `since` (TTL tests measure from before the write). */
function sleepUntil(since: number, ms: number, signal: AbortSignal): Promise<void> {
  return sleep(Math.max(0, since + ms - Date.now()), signal);
}

/** Every key under the prefix, through all pages (checking no page repeats a key). */
async function listKeys(kv: Kv, opts: { prefix?: string; limit?: number }): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await kv.list({ ...opts, ...(cursor ? { cursor } : {}) });
    out.push(...page.entries.map((e) => e.key));
    cursor = page.cursor;
    if (++pages > 10_000) throw new Error('listing did not end');
  } while (cursor !== undefined);
  return out;
}
