const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Encodes a string as UTF-8 bytes (lone surrogates become U+FFFD, as `TextEncoder` does). */
export function utf8(s: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(s);
}

/** Strict decode: throws on invalid UTF-8 instead of inserting U+FFFD. */
export function fromUtf8(b: Uint8Array): string {
  return decoder.decode(b);
}

/**
 * The UTF-8 byte length of a string: what the portable key and metadata limits count. Counted
 * without encoding (lone surrogates count 3 bytes, as the U+FFFD `TextEncoder` writes).
 */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Compares strings by their UTF-8 bytes (the order the contract promises for listings). */
export function compareUtf8(a: string, b: string): number {
  // UTF-16 code-unit order differs from UTF-8 byte order only for surrogate pairs vs U+E000..U+FFFF.
  const ba = encoder.encode(a);
  const bb = encoder.encode(b);
  const n = Math.min(ba.length, bb.length);
  for (let i = 0; i < n; i++) {
    const d = ba[i]! - bb[i]!;
    if (d !== 0) return d;
  }
  return ba.length - bb.length;
}

/** Joins byte chunks into one array. Pass `total` when the caller already counted it (skips a pass). */
export function concatBytes(chunks: readonly Uint8Array[], total?: number): Uint8Array {
  const size = total ?? chunks.reduce((n, c) => n + c.byteLength, 0);
  const out = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

/** Standard base64 with padding, as provider headers (Content-MD5, checksums) expect. */
export function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/** Decodes standard base64 (the inverse of {@link toBase64}). */
export function fromBase64(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'base64'));
}

/** Base64url without padding: safe in keys, URLs and cursors. */
export function toBase64Url(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
}

/** Decodes unpadded base64url (the inverse of {@link toBase64Url}). */
export function fromBase64Url(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'base64url'));
}

/** Whether two byte arrays hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
