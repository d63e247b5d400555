/**
 * The message envelope: how a polycloud message (bytes + string attributes) travels as the
 * text of an Azure Queue Storage message.
 *
 * Queue Storage carries XML-safe text of up to 64 KiB and has no message attributes, so the
 * adapter sends `base64(envelope)` where the envelope is binary:
 *
 * ```
 * offset  size  field
 * 0       2     magic "pc" (0x70 0x63)
 * 2       1     version, 1
 * 3       1     attribute count n (0–255)
 * 4       …     n × { name length: u8, name: UTF-8, value length: u16 big-endian, value: UTF-8 }
 * …       …     body bytes (to the end)
 * ```
 *
 * Overhead: 4 bytes plus 3 per attribute, then base64's 4/3. A message text that is not a
 * valid envelope (written by another tool) is received as its UTF-8 text with no attributes.
 */

const MAGIC_0 = 0x70; // 'p'
const MAGIC_1 = 0x63; // 'c'
const VERSION = 1;
export const ENVELOPE_HEADER_BYTES = 4;
export const ENVELOPE_ATTRIBUTE_OVERHEAD = 3;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Body + attributes → envelope bytes. */
export function encodeEnvelopeBytes(
  body: Uint8Array,
  attributes: Readonly<Record<string, string>>,
): Uint8Array {
  const entries = Object.entries(attributes).map(
    ([k, v]) => [Buffer.from(k, 'utf8'), Buffer.from(v, 'utf8')] as const,
  );
  if (entries.length > 255)
    throw new RangeError(`at most 255 attributes fit the envelope, got ${entries.length}`);
  let size = ENVELOPE_HEADER_BYTES + body.byteLength;
  for (const [k, v] of entries) {
    if (k.byteLength > 255) throw new RangeError(`attribute name "${k.toString()}" is over 255 bytes`);
    if (v.byteLength > 0xffff) throw new RangeError(`attribute "${k.toString()}" is over 65535 bytes`);
    size += ENVELOPE_ATTRIBUTE_OVERHEAD + k.byteLength + v.byteLength;
  }
  const out = Buffer.alloc(size);
  out[0] = MAGIC_0;
  out[1] = MAGIC_1;
  out[2] = VERSION;
  out[3] = entries.length;
  let off = ENVELOPE_HEADER_BYTES;
  for (const [k, v] of entries) {
    out[off++] = k.byteLength;
    k.copy(out, off);
    off += k.byteLength;
    out.writeUInt16BE(v.byteLength, off);
    off += 2;
    v.copy(out, off);
    off += v.byteLength;
  }
  out.set(body, off);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Envelope bytes → body + attributes, or undefined when the bytes are not an envelope. */
export function decodeEnvelopeBytes(
  bytes: Uint8Array,
): { body: Uint8Array; attributes: Record<string, string> } | undefined {
  if (
    bytes.byteLength < ENVELOPE_HEADER_BYTES ||
    bytes[0] !== MAGIC_0 ||
    bytes[1] !== MAGIC_1 ||
    bytes[2] !== VERSION
  ) {
    return undefined;
  }
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = buf[3]!;
  const attributes: Record<string, string> = {};
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let off = ENVELOPE_HEADER_BYTES;
  try {
    for (let i = 0; i < n; i++) {
      if (off + 1 > buf.byteLength) return undefined;
      const kl = buf[off++]!;
      if (off + kl + 2 > buf.byteLength) return undefined;
      const k = decoder.decode(buf.subarray(off, off + kl));
      off += kl;
      const vl = buf.readUInt16BE(off);
      off += 2;
      if (off + vl > buf.byteLength) return undefined;
      attributes[k] = decoder.decode(buf.subarray(off, off + vl));
      off += vl;
    }
  } catch {
    return undefined;
  }
  return { body: bytes.slice(off), attributes };
}

/** Body + attributes → Queue Storage message text. */
export function encodeEnvelope(body: Uint8Array, attributes: Readonly<Record<string, string>>): string {
  const b = encodeEnvelopeBytes(body, attributes);
  // A view, not a copy: the bytes are fresh and only read here.
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/**
 * Queue Storage message text → body + attributes. Text that is not an envelope (sent by another
 * tool) comes back as its UTF-8 bytes with no attributes.
 */
export function decodeEnvelope(text: string): { body: Uint8Array; attributes: Record<string, string> } {
  if (text.length % 4 === 0 && text.length >= 8 && BASE64.test(text)) {
    const decoded = decodeEnvelopeBytes(new Uint8Array(Buffer.from(text, 'base64')));
    if (decoded) return decoded;
  }
  return { body: new Uint8Array(Buffer.from(text, 'utf8')), attributes: {} };
}

/** Message text length for a body and attributes of these sizes. */
export function envelopeTextLength(
  bodyBytes: number,
  attributeCount: number,
  attributeBytes: number,
): number {
  const raw =
    ENVELOPE_HEADER_BYTES + bodyBytes + attributeCount * ENVELOPE_ATTRIBUTE_OVERHEAD + attributeBytes;
  return Math.ceil(raw / 3) * 4;
}
