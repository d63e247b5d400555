import { pcError } from '../errors.js';
import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from '../internal/bytes.js';

/**
 * An opaque listing cursor holding a tag (which listing it continues, e.g. a key or a prefix)
 * and the last key returned. For drivers that page over their own sorted keys (memory, local);
 * `decodeListCursor` rejects anything it did not produce.
 *
 * @example
 * const cursor = encodeListCursor('k', lastKey);
 * const { tag, key } = decodeListCursor(cursor, ['k', 'p'], { provider: 'memory', service: 'blob', name });
 */
export function encodeListCursor(tag: string, key: string): string {
  return toBase64Url(utf8(`${tag}:${key}`));
}

/**
 * Decodes a cursor of `encodeListCursor` whose tag is one of `tags`; anything else (edited,
 * truncated, from another store) is INVALID_ARGUMENT telling the caller to pass it unchanged.
 */
export function decodeListCursor(
  cursor: string,
  tags: readonly string[],
  ctx: { provider: string; service: 'blob' | 'kv'; name: string },
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
        provider: ctx.provider,
        service: ctx.service,
        operation: 'list',
        resource: { name: ctx.name },
        retryable: false,
      },
    );
  }
  return { tag, key: text.slice(colon + 1) };
}
