import type { MessageAttributeValue } from '@aws-sdk/client-sqs';

/**
 * SQS message bodies and String attribute values must be XML text: #x9 | #xA | #xD |
 * #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF, and at least one character. polycloud bodies
 * are bytes, so:
 *
 * - a body that is non-empty, valid UTF-8 and made of those characters (carriage return
 *   excluded, as XML parsers rewrite it) is sent as is, so other SQS clients read it naturally;
 * - any other body is sent as base64 with the attribute `polycloud-body: base64`, and the empty
 *   body as `-` with `polycloud-body: empty`.
 *
 * Attribute values that SQS cannot carry as String (empty, or with such characters) travel as
 * `Binary.polycloud-utf8` attributes holding a one-byte tag then the UTF-8 bytes.
 */
export const BODY_MARKER = 'polycloud-body';
/** The DataType of attributes whose value SQS cannot carry as a String (see {@link BODY_MARKER}). */
export const UTF8_ATTRIBUTE_TYPE = 'Binary.polycloud-utf8';

const SAFE_TEXT = /^[\t\n\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]+$/u;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const TAG = 0x75; // 'u'

/** Bytes SQS counts for a message attribute: name, data type and value. */
export function attributeSize(name: string, v: MessageAttributeValue): number {
  const value =
    v.StringValue !== undefined ? Buffer.byteLength(v.StringValue, 'utf8') : (v.BinaryValue?.byteLength ?? 0);
  return Buffer.byteLength(name, 'utf8') + Buffer.byteLength(v.DataType ?? '', 'utf8') + value;
}

/**
 * Turns body bytes into SQS message text, plus the `polycloud-body` marker to send when the
 * text is not the bytes as UTF-8 (see {@link BODY_MARKER}).
 */
export function encodeBody(body: Uint8Array): { text: string; marker: 'base64' | 'empty' | undefined } {
  if (body.byteLength === 0) return { text: '-', marker: 'empty' };
  let text: string | undefined;
  try {
    text = strictUtf8.decode(body);
  } catch {
    text = undefined;
  }
  // A decoded text could start with a BOM the decoder dropped; check the round trip.
  if (text !== undefined && SAFE_TEXT.test(text) && Buffer.byteLength(text, 'utf8') === body.byteLength) {
    return { text, marker: undefined };
  }
  return {
    text: Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64'),
    marker: 'base64',
  };
}

/**
 * Recovers the exact body bytes from SQS message text and its `polycloud-body` marker.
 * Messages from other clients (no marker) are read as their UTF-8 text.
 */
export function decodeBody(text: string | undefined, marker: string | undefined): Uint8Array {
  if (marker === 'empty') return new Uint8Array();
  if (marker === 'base64') return new Uint8Array(Buffer.from(text ?? '', 'base64'));
  return new Uint8Array(Buffer.from(text ?? '', 'utf8'));
}

export function encodeAttribute(value: string): MessageAttributeValue {
  if (value !== '' && SAFE_TEXT.test(value)) return { DataType: 'String', StringValue: value };
  const utf8 = Buffer.from(value, 'utf8');
  const bin = new Uint8Array(utf8.byteLength + 1);
  bin[0] = TAG;
  bin.set(utf8, 1);
  return { DataType: UTF8_ATTRIBUTE_TYPE, BinaryValue: bin };
}

/** Attribute value as polycloud reports it: text for String/Number, UTF-8 for ours, base64 for other binaries. */
export function decodeAttribute(v: MessageAttributeValue): string {
  if (v.DataType === UTF8_ATTRIBUTE_TYPE && v.BinaryValue !== undefined && v.BinaryValue[0] === TAG) {
    return Buffer.from(v.BinaryValue.subarray(1)).toString('utf8');
  }
  if (v.StringValue !== undefined) return v.StringValue;
  if (v.BinaryValue !== undefined) return Buffer.from(v.BinaryValue).toString('base64');
  if (v.StringListValues !== undefined) return v.StringListValues.join(',');
  return '';
}
