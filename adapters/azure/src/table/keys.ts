/**
 * Table key encoding: how a portable key (any UTF-8 string) becomes a RowKey, and a namespace a
 * PartitionKey.
 *
 * Azure Table keys cannot hold `/ \ # ?` or control characters, are limited to 1 KiB of UTF-16
 * (512 characters), and sort in code-unit order — not the UTF-8 byte order the contract
 * promises. So the adapter writes the UTF-8 bytes of the key in an *order-preserving base64*:
 * big-endian 6-bit groups (the last one zero-padded, no `=`) over the alphabet
 * `-0-9A-Z_a-z`, which is in ascending ASCII order. Any ordinal comparison of two encoded keys
 * then agrees with the byte order of the keys (a prefix sorts first), and only URL- and
 * filter-safe characters appear. 4 characters carry 3 bytes, so 512 characters hold 384 bytes:
 * the declared maxKeyBytes.
 */

const ALPHABET = '-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz';
const INDEX = new Map<string, number>([...ALPHABET].map((c, i) => [c, i]));

/** Bytes → ordered base64. */
export function encodeOrderedBytes(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += ALPHABET[(acc >> bits) & 63];
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(acc << (6 - bits)) & 63];
  return out;
}

/** Ordered base64 → bytes; undefined when `s` is not a value `encodeOrderedBytes` produces. */
export function decodeOrderedBytes(s: string): Uint8Array | undefined {
  const n = Math.floor((s.length * 6) / 8);
  if (Math.ceil((n * 8) / 6) !== s.length) return undefined;
  const out = new Uint8Array(n);
  let acc = 0;
  let bits = 0;
  let j = 0;
  for (const c of s) {
    const v = INDEX.get(c);
    if (v === undefined) return undefined;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (j < n) out[j++] = (acc >> bits) & 255;
    }
    acc &= (1 << bits) - 1;
  }
  // The padding bits must be zero, else two strings would decode to the same bytes.
  if (acc !== 0 || j !== n) return undefined;
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Key → RowKey (or namespace → PartitionKey). */
export function encodeTableKey(key: string): string {
  return encodeOrderedBytes(encoder.encode(key));
}

/** RowKey → key; undefined for a RowKey this adapter did not write. */
export function decodeTableKey(encoded: string): string | undefined {
  const bytes = decodeOrderedBytes(encoded);
  if (bytes === undefined) return undefined;
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * The RowKey range [lo, hi) holding exactly the keys that start with `prefix`: encodings of
 * the prefix and of its byte successor (UTF-8 has no 0xFF byte, so the last byte can always be
 * incremented).
 */
export function prefixRange(prefix: string): { lo: string; hi: string } | undefined {
  if (prefix === '') return undefined;
  const bytes = encoder.encode(prefix);
  const next = bytes.slice();
  next[next.length - 1]! += 1;
  return { lo: encodeOrderedBytes(bytes), hi: encodeOrderedBytes(next) };
}
