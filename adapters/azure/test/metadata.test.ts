import {
  decodeMetadata,
  decodeMetadataName,
  decodeMetadataValue,
  encodeMetadata,
  encodeMetadataName,
  encodeMetadataValue,
} from '@polycloud/azure/blob';
import { describe, expect, it } from 'vitest';

const CSHARP_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HEADER_SAFE = /^[\x20-\x7e]*$/;

describe('metadata encoding', () => {
  it('keeps plain names and values as they are', () => {
    expect(encodeMetadataName('author')).toBe('author');
    expect(encodeMetadataName('my_key2')).toBe('my_key2');
    expect(encodeMetadataValue('plain value')).toBe('plain value');
  });

  it('turns every portable name into a C# identifier and back', () => {
    const names = [
      'content-owner',
      '1st',
      'a.b',
      "!#$%&'*+-.^_`|~",
      '_x2d_',
      'x-mixed-case',
      '9',
      '_',
      '__x41_',
      'a_xzz_',
    ];
    for (const name of names) {
      const encoded = encodeMetadataName(name);
      expect(encoded).toMatch(CSHARP_IDENTIFIER);
      expect(decodeMetadataName(encoded)).toBe(name);
      // Azure compares names case-insensitively and may return them in another case.
      expect(decodeMetadataName(encoded.toUpperCase())).toBe(name);
    }
  });

  it('makes every value header-safe and gets it back exactly', () => {
    const values = [
      '',
      ' padded ',
      'tab\tinside',
      'Ünïcødé 😀 日本語',
      'line\nbreak',
      '=?utf-8?b?aGk=?=',
      '=?',
      'a=b&c',
      '\x00\x7f',
    ];
    for (const value of values) {
      const encoded = encodeMetadataValue(value);
      expect(encoded).toMatch(HEADER_SAFE);
      expect(encoded).toBe(encoded.trim());
      expect(encoded.length).toBeGreaterThan(0);
      expect(decodeMetadataValue(encoded)).toBe(value);
    }
  });

  it('round-trips a whole record', () => {
    const md = {
      'x-mixed-case': 'Ünïcødé',
      plain: 'value with  spaces',
      'dash-and_under': 'a=b&c',
      empty: '',
    };
    expect(decodeMetadata(encodeMetadata(md))).toEqual(md);
  });
});
