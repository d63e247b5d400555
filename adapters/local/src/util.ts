import { randomBytes } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { abortError } from '@polycloud/core';
import { decodeListCursor, encodeListCursor } from '@polycloud/core/driver';

export const PROVIDER = 'local';

/** Throws CANCELLED (or TIMEOUT) when the call's signal has fired. */
export function checkSignal(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw abortError(signal, what);
}

/**
 * A fresh random token (128 bits, hex). Versions, etags and receipts come from here, so a
 * token from a deleted-then-recreated entry never matches the new one, in any process.
 */
export function newToken(): string {
  return randomBytes(16).toString('hex');
}

/** The byte just after every key that starts with `bytes`: `bytes` + 0x00 is the next key. */
export function after(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.byteLength + 1);
  out.set(bytes);
  return out;
}

/**
 * The smallest byte string greater than every string that starts with `prefix`. Valid UTF-8
 * never contains 0xFF, so [0xFF] bounds every key when the prefix is empty.
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  for (let i = prefix.byteLength - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      const out = prefix.slice(0, i + 1);
      out[i] = out[i]! + 1;
      return out;
    }
  }
  return Uint8Array.of(0xff);
}

/** An opaque cursor holding a tag and a key (the kit's list cursor, bound to this provider). */
export function encodeCursor(tag: string, key: string): string {
  return encodeListCursor(tag, key);
}

/** Decodes a cursor of encodeCursor; anything else is INVALID_ARGUMENT. */
export function decodeCursor(
  cursor: string,
  tags: readonly string[],
  ctx: { service: 'blob' | 'kv'; name: string },
): { tag: string; key: string } {
  return decodeListCursor(cursor, tags, { provider: PROVIDER, ...ctx });
}

/** Reads a number column that SQLite may return as a bigint. */
export function num(v: unknown): number {
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

/** Reads an optional text column. */
export function optText(v: unknown): string | undefined {
  return v === null || v === undefined ? undefined : String(v);
}

/**
 * Node 22's node:sqlite binds an empty Uint8Array as NULL, so empty byte strings are stored
 * as '' and read back with `readBytes`.
 */
export function bindBytes(b: Uint8Array): Uint8Array | string {
  return b.byteLength === 0 ? '' : b;
}

/** A copy of a stored byte column (see bindBytes). */
export function readBytes(v: unknown): Uint8Array {
  return v instanceof Uint8Array ? new Uint8Array(v) : new Uint8Array(0);
}

/**
 * An inclusive lower bound for a key range. Keys are never empty, so [0x00] bounds them all,
 * and an empty Uint8Array (bound as NULL on Node 22) is never passed to SQLite.
 */
export function lowerBound(b: Uint8Array): Uint8Array {
  return b.byteLength === 0 ? Uint8Array.of(0) : b;
}

/**
 * `mkdir -p` that always settles. Node's own `mkdir(path, { recursive: true })` never settles
 * (and keeps the process alive) where the kernel answers ENOENT for a child of a folder that
 * exists, as under /proc: it creates the parent and retries forever. Here each missing folder
 * is made once, from the outermost, and such an answer is an error like any other.
 */
export async function mkdirp(path: string): Promise<void> {
  const missing: string[] = [];
  for (let p = resolve(path); ; p = dirname(p)) {
    const exists = await stat(p).then(
      (s) => s,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      },
    );
    if (exists !== undefined) break;
    missing.unshift(p);
    if (dirname(p) === p) break;
  }
  for (const p of missing) {
    await mkdir(p).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err; // another process made it meanwhile
    });
  }
}
