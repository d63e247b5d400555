import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  bodyToBytes,
  Crc32c,
  checkKvValue,
  compareUtf8,
  decodeKvValue,
  encodeKvValue,
  isPolycloudError,
  type KvValue,
  normalizeBody,
  utf8,
  validateKey,
} from '../src/index.js';

const ctx = { provider: 'test', service: 'blob' as const, operation: 'put', name: 'b' };

describe('normalizeBody', () => {
  const expected = utf8('héllo');
  const kinds: [string, () => unknown][] = [
    ['string', () => 'héllo'],
    ['Uint8Array', () => utf8('héllo')],
    ['ArrayBuffer', () => utf8('héllo').buffer],
    ['Blob', () => new Blob([utf8('héllo')])],
    ['ReadableStream', () => new Blob([utf8('hé'), utf8('llo')]).stream()],
    [
      'AsyncIterable',
      () =>
        (async function* () {
          yield utf8('hé');
          yield utf8('llo');
        })(),
    ],
    ['Node Readable', () => Readable.from([Buffer.from('hé'), Buffer.from('llo')])],
  ];
  for (const [name, make] of kinds) {
    it(`reads a ${name}`, async () => {
      const b = normalizeBody(make() as never);
      expect(await bodyToBytes(b)).toEqual(expected);
    });
  }

  it('rejects other types with INVALID_ARGUMENT', () => {
    expect(() => normalizeBody(42 as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('errors on a stream yielding non-bytes', async () => {
    const b = normalizeBody(Readable.from([{ not: 'bytes' }], { objectMode: true }));
    await expect(bodyToBytes(b)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('validateKey', () => {
  it('accepts any well-formed UTF-8 up to the limit', () => {
    for (const k of ['../a', '//', '/lead', 'ü 🙂 #?%+&=', 'x'.repeat(1024)]) validateKey(k, 1024, ctx);
  });
  it('rejects empty, over-long, lone surrogates and non-strings', () => {
    for (const k of ['', 'x'.repeat(1025), 'a\uD800b', '€'.repeat(342), 7, undefined]) {
      let err: unknown;
      try {
        validateKey(k, 1024, ctx);
      } catch (e) {
        err = e;
      }
      expect(isPolycloudError(err, 'INVALID_ARGUMENT')).toBe(true);
      expect((err as Error).message).toContain('put on blob "b"');
    }
  });
});

describe('compareUtf8', () => {
  it('orders by UTF-8 bytes, not UTF-16 code units', () => {
    const keys = ['\u{1F600}', '\uFF61', 'a', 'B', 'é'];
    expect([...keys].sort(compareUtf8)).toEqual(['B', 'a', 'é', '\uFF61', '\u{1F600}']);
    // UTF-16 sort would put the surrogate pair (0xD83D) before U+FF61.
    expect([...keys].sort()).not.toEqual([...keys].sort(compareUtf8));
  });
});

describe('kv values', () => {
  it('round-trips JSON and bytes through the tagged encoding', () => {
    for (const v of [
      null,
      0,
      -1.5,
      'x',
      true,
      [1, 'a', null],
      { a: { b: [1] } },
      new Uint8Array([0, 255, 7]),
    ]) {
      expect(decodeKvValue(encodeKvValue(v))).toEqual(v);
    }
  });
  it('rejects values JSON would change', () => {
    for (const v of [
      undefined,
      Number.NaN,
      Infinity,
      () => 1,
      new Date(),
      [undefined],
      { a: [undefined] },
      [new Map()],
      10n,
    ]) {
      expect(() => checkKvValue(v, 'set')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => checkKvValue(circular, 'set')).toThrow(/circular/);
  });
  it('treats an undefined object property as absent, as JSON does', () => {
    for (const [v, stored] of [
      [{ a: undefined }, {}],
      [
        { a: 1, expires: undefined, b: { c: undefined, d: [1] } },
        { a: 1, b: { d: [1] } },
      ],
    ] as [unknown, unknown][]) {
      expect(() => checkKvValue(v, 'set')).not.toThrow();
      expect(decodeKvValue(encodeKvValue(v as KvValue))).toStrictEqual(stored);
    }
  });
});

describe('Crc32c', () => {
  it('matches the standard check value', () => {
    // CRC-32C("123456789") = 0xE3069283
    expect(new Crc32c().update(utf8('123456789')).digestBase64()).toBe(
      Buffer.from('e3069283', 'hex').toString('base64'),
    );
  });
});
