import { decodeEnvelope, encodeEnvelope, MAX_MESSAGE_BYTES } from '@polycloud/azure/queue';
import { describe, expect, it } from 'vitest';

describe('queue message envelope', () => {
  it('round-trips any bytes and attributes', () => {
    const body = Uint8Array.from({ length: 512 }, (_, i) => i % 256);
    const attributes = { kind: 'order', note: 'Zoë 😀 日本', empty: '' };
    const text = encodeEnvelope(body, attributes);
    expect(text).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const got = decodeEnvelope(text);
    expect(got.body).toEqual(body);
    expect(got.attributes).toEqual(attributes);
  });

  it('round-trips an empty body without attributes', () => {
    const got = decodeEnvelope(encodeEnvelope(new Uint8Array(0), {}));
    expect(got.body).toEqual(new Uint8Array(0));
    expect(got.attributes).toEqual({});
  });

  it('reads text written by other tools as its UTF-8 bytes', () => {
    for (const text of ['hello', 'aGVsbG8gd29ybGQ=', '{"a":1}', '']) {
      const got = decodeEnvelope(text);
      expect(Buffer.from(got.body).toString('utf8')).toBe(text);
      expect(got.attributes).toEqual({});
    }
  });

  it('fits the largest declared message, with the most attributes, into 64 KiB of text', () => {
    const attributes = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`a${i}`, 'v']));
    const attrBytes = Object.entries(attributes).reduce(
      (n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v),
      0,
    );
    const text = encodeEnvelope(new Uint8Array(MAX_MESSAGE_BYTES - attrBytes), attributes);
    expect(text.length).toBeLessThanOrEqual(64 * 1024);
    expect(encodeEnvelope(new Uint8Array(MAX_MESSAGE_BYTES), {}).length).toBeLessThanOrEqual(64 * 1024);
  });
});
