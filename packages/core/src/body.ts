import { invalidArgument } from './errors.js';
import { requireBuiltin } from './internal/builtins.js';
import { utf8 } from './internal/bytes.js';

const { Readable } = requireBuiltin('node:stream') as typeof import('node:stream');

/** Everything `Bucket.put` accepts as a body. */
export type BodyInput =
  | Uint8Array
  | ArrayBuffer
  | string
  | Blob
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>
  | NodeJS.ReadableStream;

/**
 * A body in one of two shapes drivers handle: bytes in memory (small, known size, retryable)
 * or a Web stream (size known or not).
 */
export type NormalizedBody =
  | { readonly kind: 'bytes'; readonly data: Uint8Array }
  | {
      readonly kind: 'stream';
      readonly stream: ReadableStream<Uint8Array>;
      readonly size: number | undefined;
    };

/** Turns any accepted body into bytes or a Web stream without reading a stream into memory. */
export function normalizeBody(body: BodyInput): NormalizedBody {
  if (typeof body === 'string') return { kind: 'bytes', data: utf8(body) };
  if (body instanceof Uint8Array) return { kind: 'bytes', data: body };
  if (body instanceof ArrayBuffer) return { kind: 'bytes', data: new Uint8Array(body) };
  if (typeof Blob !== 'undefined' && body instanceof Blob) {
    return { kind: 'stream', stream: body.stream() as ReadableStream<Uint8Array>, size: body.size };
  }
  if (isWebStream(body)) {
    // A byte stream yields only bytes by construction, and stays one so the upload can read it
    // with a BYOB reader (see `byobReader`).
    if (isByteStream(body)) return { kind: 'stream', stream: body, size: undefined };
    const reader = body.getReader();
    return {
      kind: 'stream',
      stream: checkedStream(
        () => reader.read(),
        (reason) => reader.cancel(reason),
      ),
      size: undefined,
    };
  }
  if (isNodeReadable(body)) {
    // Iterated directly, not through Readable.toWeb: one stream hop per chunk instead of three
    // (toWeb, then a checking TransformStream), which made a file upload cost more client CPU
    // than the SDK's own managed upload of the same file.
    return {
      kind: 'stream',
      stream: iterated(body instanceof Readable ? body : Readable.from(body)),
      size: undefined,
    };
  }
  if (isAsyncIterable(body)) return { kind: 'stream', stream: iterated(body), size: undefined };
  throw invalidArgument(
    `unsupported body type ${describe(body)}; pass a string, Uint8Array, Blob, ReadableStream, AsyncIterable<Uint8Array> or Node stream`,
  );
}

/** Reads a body fully. For small bodies (≤ a single-shot threshold) only. */
export async function bodyToBytes(body: NormalizedBody, signal?: AbortSignal): Promise<Uint8Array> {
  if (body.kind === 'bytes') return body.data;
  return streamToBytes(body.stream, signal);
}

/**
 * Reads a stream to the end into one array. Aborting `signal` cancels the stream and rejects
 * with the signal's reason, so a stalled body cannot hold the caller forever.
 */
export async function streamToBytes(
  stream: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.getReader();
  const onAbort = () => void reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    reader.releaseLock();
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

/**
 * A BYOB reader on `stream` when it is a byte stream (`type: 'bytes'`: fetch bodies, Blob
 * streams, `FileHandle.readableWebStream()`), else undefined and `stream` is left unlocked.
 * Reading with it fills the reader's buffer: a source that honours `byobRequest` writes into it
 * with no chunk allocated at all, one that enqueues has its chunk copied in. A read transfers the
 * buffer it is given (use the returned view's buffer afterwards); give it views at offset 0, as
 * Node's `FileHandle.readableWebStream()` misreads any other (nodejs/node#58817).
 */
export function byobReader(stream: ReadableStream<Uint8Array>): ReadableStreamBYOBReader | undefined {
  try {
    return stream.getReader({ mode: 'byob' });
  } catch {
    return undefined;
  }
}

/** Whether `stream` is an unlocked byte stream (`type: 'bytes'`). */
export function isByteStream(stream: ReadableStream<unknown>): boolean {
  const reader = byobReader(stream as ReadableStream<Uint8Array>);
  reader?.releaseLock();
  return reader !== undefined;
}

/**
 * A byte stream that yields `head` and then what `reader` reads, calling `onChunk` on every
 * range it hands out (in order). A BYOB consumer's buffer goes down to `reader` as is, so a
 * stack of these still fills the consumer's buffer without an intermediate chunk.
 */
export function forwardBytes(
  reader: ReadableStreamBYOBReader,
  opts: {
    head?: Uint8Array | undefined;
    onChunk?: ((chunk: Uint8Array) => void) | undefined;
    /** Called once `reader` reports its end. */
    onEnd?: (() => void) | undefined;
  } = {},
): ReadableStream<Uint8Array> {
  let head = opts.head !== undefined && opts.head.byteLength > 0 ? opts.head : undefined;
  return new ReadableStream({
    type: 'bytes',
    // A default reader downstream (e.g. a driver's feed loop) gets chunks of this size.
    autoAllocateChunkSize: 64 * 1024,
    async pull(c) {
      // autoAllocateChunkSize guarantees a request for every pull.
      const req = c.byobRequest!;
      const view = req.view!;
      if (head !== undefined) {
        const n = Math.min(view.byteLength, head.byteLength);
        const out = new Uint8Array(view.buffer, view.byteOffset, n);
        out.set(head.subarray(0, n));
        head = n < head.byteLength ? head.subarray(n) : undefined;
        opts.onChunk?.(out);
        req.respond(n);
        return;
      }
      const { done, value } = await reader.read(
        new Uint8Array(view.buffer, view.byteOffset, view.byteLength),
      );
      // The read transferred the request's buffer: hand it back through respondWithNewView.
      if (value === undefined) {
        // Only when the source was cancelled under us; the request's buffer is gone with it.
        c.error(new TypeError('the body stream was cancelled while it was being read'));
        return;
      }
      if (done) {
        opts.onEnd?.();
        c.close();
        req.respondWithNewView(value);
        return;
      }
      opts.onChunk?.(value);
      req.respondWithNewView(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/**
 * One Web stream over a pull source that turns strings and ArrayBuffers (Node streams may yield
 * them) into Uint8Array and fails clearly on anything else, checking each chunk as it passes.
 */
function checkedStream(
  next: () => Promise<IteratorResult<unknown> | ReadableStreamReadResult<unknown>>,
  cancel: (reason: unknown) => Promise<unknown> | undefined,
): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      const { done, value } = await next();
      if (done) {
        c.close();
        return;
      }
      if (value instanceof Uint8Array) c.enqueue(value);
      else if (typeof value === 'string') c.enqueue(utf8(value));
      else if (value instanceof ArrayBuffer) c.enqueue(new Uint8Array(value));
      else {
        const err = invalidArgument(
          `a body stream yielded ${describe(value)}; streams must yield Uint8Array chunks`,
        );
        await Promise.resolve(cancel(err)).catch(() => {});
        throw err;
      }
    },
    async cancel(reason) {
      await cancel(reason);
    },
  });
}

/** A checked stream over an async iterable (a Node Readable is one); cancel ends the iterator. */
function iterated(it: AsyncIterable<unknown>): ReadableStream<Uint8Array> {
  const iterator = it[Symbol.asyncIterator]();
  return checkedStream(
    () => iterator.next(),
    (reason) => iterator.return?.(reason),
  );
}

function isWebStream(x: unknown): x is ReadableStream<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as ReadableStream).getReader === 'function';
}

function isNodeReadable(x: unknown): x is NodeJS.ReadableStream {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as NodeJS.ReadableStream).pipe === 'function' &&
    typeof (x as NodeJS.ReadableStream).on === 'function'
  );
}

function isAsyncIterable(x: unknown): x is AsyncIterable<unknown> {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
  );
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'object';
  return typeof x;
}
