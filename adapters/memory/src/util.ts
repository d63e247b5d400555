import { abortError, decodeListCursor, encodeListCursor } from '@polycloud/core/driver';

export const PROVIDER = 'memory';

/** Throws CANCELLED (or TIMEOUT) when the call's signal has fired. */
export function checkSignal(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw abortError(signal, what);
}

let counter = 0;
const epoch = Date.now().toString(36);

/**
 * A fresh token, unique within the process, never reused (also across resetMemory()), so a
 * version or etag from a deleted-then-recreated entry never matches the new one.
 */
export function nextToken(): string {
  counter++;
  return `${epoch}-${counter.toString(36)}`;
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
