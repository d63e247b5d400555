/**
 * Header-safe values: metadata travels as HTTP header values, which carry printable ASCII only
 * and lose surrounding whitespace. Such values are stored as they are; anything else (non-ASCII,
 * control characters, surrounding spaces, the empty string, or a value that itself looks like
 * an encoded word) becomes one RFC 2047 encoded word, `=?UTF-8?B?<base64 of the UTF-8 bytes>?=`.
 * Reversible: a stored value is decoded exactly when it is one whole encoded word.
 */

const PLAIN = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;
const ENCODED_WORD = /^=\?utf-8\?b\?([A-Za-z0-9+/]*={0,2})\?=$/i;

/**
 * Portable value → header-safe value. `charset` is the spelling of the encoded word's prefix
 * (S3 itself writes `UTF-8?B`; values this library stored on Azure use `utf-8?b`); decoding
 * accepts both.
 */
export function encodeHeaderValue(value: string, charset: 'UTF-8?B' | 'utf-8?b' = 'UTF-8?B'): string {
  if (PLAIN.test(value) && !value.startsWith('=?')) return value;
  return `=?${charset}?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

/** Stored header value → portable value. */
export function decodeHeaderValue(value: string): string {
  const m = ENCODED_WORD.exec(value);
  if (!m) return value;
  return Buffer.from(m[1]!, 'base64').toString('utf8');
}
