/**
 * How polycloud lays key-value entries out in a Bigtable row.
 *
 * Row key: escape(namespace) 0x00 0x01 key, where escape turns 0x00 into 0x00 0xFF. The
 * terminator 0x00 0x01 never occurs inside an escaped namespace, so no namespace's rows are a
 * prefix range of another's, and within a namespace rows sort by the key's UTF-8 bytes — the
 * order the contract promises.
 *
 * Cells, in one column family (default "kv"):
 * - `v`   the value: 8 bytes = an int64 counter (big-endian, what ReadModifyWriteRow
 *         increments); otherwise polycloud's tagged encoding (encodeKvValue), padded with a
 *         leading "p" when it would be exactly 8 bytes long, so only counters are 8 bytes;
 * - `ver` the version: 8 bytes, random at every write, advanced by a random step at every
 *         increment (its hex is the version string);
 * - `exp` expiry: int64 big-endian milliseconds since the epoch, 0 = none.
 */
import { createRequire } from 'node:module';
import type { KvValue } from '@polycloud/core';
import { decodeKvValue, encodeKvValue, utf8 } from '@polycloud/core/driver/base';

// Through require: an ESM import of node:crypto runs its lazy getters and loads WebCrypto (~5 ms
// of start-up), which the Bigtable client itself never needs.
const { randomBytes, randomInt } = createRequire(import.meta.url)(
  'node:crypto',
) as typeof import('node:crypto');

export const COL_VALUE = 'v';
export const COL_VERSION = 'ver';
export const COL_EXPIRY = 'exp';

const PAD = 0x70; // 'p'

/**
 * The row-key prefix of a namespace: escaped namespace then the 0x00 0x01 terminator, so no
 * namespace's rows fall inside another's prefix range.
 */
export function namespacePrefix(namespace: string): Buffer {
  const raw = utf8(namespace);
  const out: number[] = [];
  for (const b of raw) {
    out.push(b);
    if (b === 0x00) out.push(0xff);
  }
  out.push(0x00, 0x01);
  return Buffer.from(out);
}

export function rowKey(prefix: Buffer, key: string): Buffer {
  return Buffer.concat([prefix, Buffer.from(key, 'utf8')]);
}

/** The smallest row key greater than every key starting with `prefix` (undefined: none). */
export function prefixEnd(prefix: Buffer): Buffer | undefined {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      b[i]! += 1;
      return b.subarray(0, i + 1);
    }
  }
  return undefined;
}

export function int64(n: bigint | number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n));
  return b;
}

export function readInt64(b: Uint8Array): bigint {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).readBigInt64BE(0);
}

/** A value as stored in the `v` cell. Safe integers become int64 counters. */
export function encodeValue(value: KvValue): Buffer {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return int64(value);
  const e = encodeKvValue(value);
  if (e.byteLength === 8) {
    const padded = Buffer.alloc(9);
    padded[0] = PAD;
    padded.set(e, 1);
    return padded;
  }
  return Buffer.from(e.buffer, e.byteOffset, e.byteLength);
}

export function decodeValue(cell: Uint8Array): KvValue {
  if (cell.byteLength === 8) return Number(readInt64(cell));
  // A plain Uint8Array view, so binary values come back as Uint8Array (not Buffer) copies.
  const b = new Uint8Array(cell.buffer, cell.byteOffset, cell.byteLength);
  if (b[0] === PAD) return decodeKvValue(b.subarray(1));
  return decodeKvValue(b);
}

/** A fresh version: 8 random bytes below 2^62, so random increments never overflow in practice. */
export function newVersion(): Buffer {
  const b = randomBytes(8);
  b[0]! &= 0x3f;
  return b;
}

/** The step a counter increment adds to the version cell: random in [1, 2^31). */
export function versionStep(): number {
  return randomInt(1, 2 ** 31);
}

export function versionString(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** The 8 version bytes of a version string, or undefined when it cannot be one of ours. */
export function versionBytes(v: string): Buffer | undefined {
  return /^[0-9a-f]{16}$/.test(v) ? Buffer.from(v, 'hex') : undefined;
}
