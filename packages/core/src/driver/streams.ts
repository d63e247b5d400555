import type { PolycloudError } from '../errors.js';

/** The content type a blob gets when the caller gives none. */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** A stream with no bytes (the body of a zero-length object or an empty range). */
export function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(c) {
      c.close();
    },
  });
}

/** A stream over bytes already in memory, in views of `chunk` bytes (no copies). */
export function bytesStream(data: Uint8Array, chunk = 64 * 1024): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (off >= data.byteLength) {
        c.close();
        return;
      }
      const end = Math.min(off + chunk, data.byteLength);
      c.enqueue(data.subarray(off, end));
      off = end;
    },
  });
}

/** `bytes a-b/total` → total; undefined when absent or `*`. */
export function totalFromContentRange(range: string | undefined | null): number | undefined {
  if (!range) return undefined;
  const m = /\/(\d+)\s*$/.exec(range);
  return m ? Number(m[1]) : undefined;
}

/**
 * The same stream, with errors raised while it is read passed through `map` (a driver's error
 * wrapper), so a reader never sees a native error.
 */
export function guardStream(
  body: ReadableStream<Uint8Array>,
  map: (err: unknown) => PolycloudError | unknown,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      try {
        const { done, value } = await reader.read();
        if (done) c.close();
        else c.enqueue(value instanceof Uint8Array ? value : new Uint8Array(value as ArrayBuffer));
      } catch (err) {
        c.error(map(err));
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
