/**
 * S3 user metadata travels as HTTP headers (`x-amz-meta-*`), which carry printable ASCII only
 * and lose leading/trailing whitespace. polycloud stores every other value as one RFC 2047
 * encoded word, `=?UTF-8?B?<base64 of the UTF-8 bytes>?=` (what S3 itself returns for
 * non-ASCII metadata set through the console), and decodes it on read.
 *
 * The scheme is reversible: a plain value that itself starts with `=?` is encoded too, so a
 * stored value is decoded exactly when it is one whole encoded word.
 */

import { decodeHeaderValue, encodeHeaderValue } from '@polycloud/core/driver';

/** Portable value → header-safe value (the kit's RFC 2047 codec, spelled as S3 spells it). */
export function encodeMetadataValue(value: string): string {
  return encodeHeaderValue(value, 'UTF-8?B');
}

/** Header-safe value → portable value: decodes one whole RFC 2047 encoded word, passes anything else through. */
export const decodeMetadataValue = decodeHeaderValue;

export function encodeMetadata(md: Readonly<Record<string, string>>): Record<string, string> | undefined {
  const keys = Object.keys(md);
  if (keys.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const k of keys) out[k] = encodeMetadataValue(md[k]!);
  return out;
}

export function decodeMetadata(md: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (md === undefined) return out;
  for (const [k, v] of Object.entries(md)) out[k.toLowerCase()] = decodeMetadataValue(v);
  return out;
}
