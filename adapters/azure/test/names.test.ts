import { decodeBlobName, encodeBlobName } from '@polycloud/azure/blob';
import { BLOB_KEY_CASES } from '@polycloud/conformance';
import { describe, expect, it } from 'vitest';
import { encodeListPrefix, isPlain } from '../src/blob/names.js';

const utf8 = (s: string) => Buffer.from(s, 'utf8');
const byUtf8 = (a: string, b: string) => Buffer.compare(utf8(a), utf8(b));
/** The order Azure lists names in: UTF-16 code units (what JS `<` compares). */
const byUtf16 = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function randomKey(alphabet: readonly string[], max = 12): string {
  const n = 1 + Math.floor(Math.random() * max);
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(Math.random() * alphabet.length)]!;
  return s;
}

describe('blob name encoding', () => {
  it('round-trips every conformance key', () => {
    for (const [, key] of BLOB_KEY_CASES) expect(decodeBlobName(encodeBlobName(key))).toBe(key);
  });

  it('keeps ordinary keys as they are', () => {
    for (const key of [
      'a/b/c.txt',
      'photos/2024/ü 😀.jpg',
      'x#y?z%20+&=',
      '日本語/ファイル',
      'dir/',
      '/lead',
      'a//b',
    ])
      expect(encodeBlobName(key)).toBe(key);
  });

  it('rewrites what Azure cannot hold', () => {
    const name = encodeBlobName('a/../b\\c\x01\x7f.');
    expect([...name].some((c) => c.charCodeAt(0) <= 0x1f || c === '\x7f' || c === '\\')).toBe(false);
    expect(name.split('/')).not.toContain('..');
    expect(name.endsWith('.')).toBe(false);
    for (const key of [
      '.',
      '..',
      './a/./b/.',
      '../a/../b/..',
      'nul\x00inside',
      'c1\x85\x9f',
      '\uFFFE\uFFFF',
      '‛‟␀＼．',
    ])
      expect(decodeBlobName(encodeBlobName(key))).toBe(key);
  });

  it('never needs more UTF-16 units than the key has UTF-8 bytes', () => {
    const alphabet = [
      'a',
      '.',
      '/',
      '\\',
      '\x00',
      '\x7f',
      '\x85',
      '\uFFFF',
      '\uE000',
      '\uD7FF',
      '‛',
      '␀',
      '＼',
      '😀',
      'é',
    ];
    for (let i = 0; i < 2000; i++) {
      const key = randomKey(alphabet, 40);
      const name = encodeBlobName(key);
      expect(name.length).toBeLessThanOrEqual(utf8(key).byteLength);
      expect(decodeBlobName(name)).toBe(key);
    }
  });

  it("makes the service's UTF-16 order of names the UTF-8 order of keys", () => {
    const alphabet = [
      'a',
      'b',
      '/',
      '-',
      ' ',
      '~',
      'é',
      'ÿ',
      '\u0800',
      '\uD7FE',
      '\uD7FF',
      '\uE000',
      '\uFF61',
      '\uFFFD',
      '😀',
      '\u{10000}',
      '\u{10FFFF}',
    ];
    const keys = Array.from({ length: 3000 }, () => randomKey(alphabet));
    const byKey = [...keys].sort(byUtf8);
    const byName = [...keys].sort((a, b) => byUtf16(encodeBlobName(a), encodeBlobName(b)));
    expect(byName).toEqual(byKey);
  });

  it('encodes a key as the prefix of its extensions, except for a trailing dot', () => {
    expect(encodeListPrefix('a/b')).toEqual({ serverPrefix: 'a/b', filter: false });
    expect(encodeListPrefix('a/b.')).toEqual({ serverPrefix: 'a/b', filter: true });
    expect(encodeListPrefix('..')).toEqual({ serverPrefix: '', filter: true });
    for (const key of ['a.b', 'a./x', 'a.', 'a..'])
      expect(encodeBlobName(key).startsWith(encodeListPrefix('a.').serverPrefix)).toBe(true);
  });

  it('tells delimiters the service can apply from those it cannot', () => {
    expect(isPlain('/')).toBe(true);
    expect(isPlain('::')).toBe(true);
    expect(isPlain('.')).toBe(false);
    expect(isPlain('\\')).toBe(false);
    expect(isPlain('\uFF61')).toBe(false);
  });
});
