/**
 * Blob metadata encoding.
 *
 * Azure metadata names must be C# identifiers (`[A-Za-z_][A-Za-z0-9_]*`) and are case-insensitive;
 * values travel as HTTP header values, so they must be printable ASCII, and surrounding
 * whitespace is lost. Portable metadata allows names of `[a-z0-9!#$%&'*+-.^_\`|~]` and any
 * UTF-8 value, so the adapter encodes both reversibly:
 *
 * - name: letters, digits and `_` stay as they are; any other character, and a leading digit,
 *   becomes `_xHH_` (HH: lower-case hex of the character), e.g. `content-owner` →
 *   `content_x2d_owner`, `1st` → `_x31_st`. A literal `_` that would start such a sequence is
 *   itself written `_x5f_`.
 * - value: printable ASCII without surrounding whitespace is stored as it is; anything else
 *   (non-ASCII, control characters, leading/trailing spaces, the empty string, or a value that
 *   looks like an encoded word) is stored as an RFC 2047 encoded word `=?utf-8?b?<base64>?=`.
 */

import { decodeHeaderValue, encodeHeaderValue } from '@polycloud/core/driver';

const ESCAPE = /_x([0-9a-f]{2})_/gi;

function hex(c: string): string {
  return `_x${c.charCodeAt(0).toString(16).padStart(2, '0')}_`;
}

/** Portable (lower-case) metadata name → Azure metadata name. */
export function encodeMetadataName(name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if (/[a-z]/i.test(c)) out += c;
    else if (/[0-9]/.test(c)) out += i === 0 ? hex(c) : c;
    else if (c === '_') out += /^_x[0-9a-f]{2}_/i.test(name.slice(i)) ? hex(c) : c;
    else out += hex(c);
  }
  return out;
}

/** Azure metadata name → portable name (lower-case). */
export function decodeMetadataName(name: string): string {
  return name.replace(ESCAPE, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16))).toLowerCase();
}

/** Portable value → header-safe value (the kit's RFC 2047 codec, lower-case as stored so far). */
export function encodeMetadataValue(value: string): string {
  return encodeHeaderValue(value, 'utf-8?b');
}

/** Stored value → portable value. */
export const decodeMetadataValue = decodeHeaderValue;

/** Portable metadata → Azure metadata: names escaped to C# identifiers, values made header-safe. */
export function encodeMetadata(md: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(md)) out[encodeMetadataName(k)] = encodeMetadataValue(v);
  return out;
}

/** Azure metadata → portable metadata (the inverse of {@link encodeMetadata}); undefined gives `{}`. */
export function decodeMetadata(md: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!md) return out;
  for (const [k, v] of Object.entries(md)) out[decodeMetadataName(k)] = decodeMetadataValue(v);
  return out;
}
