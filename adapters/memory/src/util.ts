import { abortError, fromBase64Url, fromUtf8, pcError, toBase64Url, utf8 } from '@polycloud/core/driver';

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

/**
 * An opaque cursor holding a tag and a key. Decoding rejects anything this module did not
 * produce with INVALID_ARGUMENT.
 */
export function encodeCursor(tag: string, key: string): string {
  return toBase64Url(utf8(`${tag}:${key}`));
}

export function decodeCursor(
  cursor: string,
  tags: readonly string[],
  ctx: { service: 'blob' | 'kv'; name: string },
): { tag: string; key: string } {
  let text: string | undefined;
  try {
    const bytes = fromBase64Url(cursor);
    if (toBase64Url(bytes) === cursor) text = fromUtf8(bytes);
  } catch {
    text = undefined;
  }
  const colon = text?.indexOf(':') ?? -1;
  const tag = text?.slice(0, colon);
  if (
    text === undefined ||
    colon < 1 ||
    tag === undefined ||
    !tags.includes(tag) ||
    colon === text.length - 1
  ) {
    throw pcError(
      'INVALID_ARGUMENT',
      `list on ${ctx.service} "${ctx.name}": the cursor is not one this store returned; pass page.cursor unchanged`,
      {
        provider: PROVIDER,
        service: ctx.service,
        operation: 'list',
        resource: { name: ctx.name },
        retryable: false,
      },
    );
  }
  return { tag, key: text.slice(colon + 1) };
}
