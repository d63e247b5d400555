import { byobReader } from './body.js';
import { isPolycloudError, pcError } from './errors.js';

/** Bytes asked for per read of a byte stream (one syscall's worth for a file). */
const BYOB_READ_BYTES = 256 * 1024;

/**
 * Splits a stream into parts of exactly `partSize` bytes (the last may be shorter) and uploads
 * them with at most `concurrency` in flight. Memory stays near partSize × (concurrency + 1):
 * reading stops while every upload slot is busy, and a part's bytes are released (or, with
 * `reuseBuffers`, reused) as soon as its upload resolves.
 *
 * A byte stream (`type: 'bytes'`) is read with a BYOB reader into one reused buffer, so a source
 * that honours `byobRequest` (`FileHandle.readableWebStream()`) allocates no chunk at all: the
 * upload then makes no garbage for the collector, only the part copy every stream gets.
 *
 * Drivers with a multipart API (S3 parts, Azure blocks) call this from `put` and then commit.
 * If any part fails or the signal aborts, the remaining uploads are cancelled and the error is
 * rethrown so the driver can abort the upload; nothing is committed.
 *
 * @example
 * const parts = await uploadParts(stream, { partSize: 8 << 20, concurrency: 4, signal },
 *   (part, n, signal) => s3.uploadPart({ PartNumber: n, Body: part }, { abortSignal: signal }));
 */
export async function uploadParts<R>(
  stream: ReadableStream<Uint8Array>,
  opts: {
    partSize: number;
    concurrency: number;
    signal?: AbortSignal | undefined;
    /** Called with each part in order before it is uploaded (used for streaming checksums). */
    onPart?: (part: Uint8Array) => void;
    /** Upload at least one part even when the stream is empty. Default true. */
    emptyPart?: boolean;
    /**
     * Fill later parts into the buffers of parts whose upload has resolved, instead of a fresh
     * allocation per part: at most concurrency + 1 buffers are ever allocated, so memory stays
     * at the bound without waiting for the garbage collector to free spent parts. Only for an
     * `upload` that is done with `part` once its promise resolves (it sends the bytes rather than
     * keeping them). Default false.
     */
    reuseBuffers?: boolean;
  },
  upload: (part: Uint8Array, partNumber: number, signal: AbortSignal) => Promise<R>,
): Promise<{ results: R[]; totalBytes: number }> {
  const { partSize, concurrency } = opts;
  if (!(partSize > 0) || !(concurrency > 0)) {
    throw pcError(
      'INVALID_ARGUMENT',
      `partSize and concurrency must be positive (got ${partSize}, ${concurrency})`,
    );
  }
  const inner = new AbortController();
  const onOuterAbort = () => inner.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (opts.signal?.aborted) inner.abort(opts.signal.reason);

  const results: R[] = [];
  const inFlight = new Set<Promise<void>>();
  /** Whole-part buffers whose upload resolved, ready for the next part (reuseBuffers). */
  const spare: Uint8Array<ArrayBuffer>[] = [];
  let failure: unknown;
  let totalBytes = 0;
  let partNumber = 0;

  const launch = (part: Uint8Array<ArrayBuffer>) => {
    const n = ++partNumber;
    opts.onPart?.(part);
    const p = upload(part, n, inner.signal).then(
      (r) => {
        results[n - 1] = r;
        // A failed part is not reused: a request still being torn down may read it.
        if (opts.reuseBuffers && part.byteLength === partSize) spare.push(part);
      },
      (err: unknown) => {
        if (failure === undefined) failure = err;
        inner.abort(err);
      },
    );
    const tracked = p.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  const byob = byobReader(stream);
  const chunks = byob ? undefined : stream.getReader();
  const reader = (byob ?? chunks)!;
  let buf = new Uint8Array(partSize);
  let filled = 0;
  /** Sends the full part and takes the next buffer; false when the upload is failing. */
  const partFull = async () => {
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (failure !== undefined || inner.signal.aborted) return false;
    launch(buf);
    buf = spare.pop() ?? new Uint8Array(partSize);
    filled = 0;
    return true;
  };
  /** Copies `value` into parts, sending each full one; false when the upload is failing. */
  const take = async (value: Uint8Array) => {
    let off = 0;
    while (off < value.byteLength) {
      const n = Math.min(partSize - filled, value.byteLength - off);
      buf.set(value.subarray(off, off + n), filled);
      filled += n;
      off += n;
      totalBytes += n;
      if (filled === partSize && !(await partFull())) return false;
    }
    return true;
  };
  try {
    if (byob) {
      // Always at offset 0: Node's FileHandle.readableWebStream() fails on a view into the
      // middle of a buffer (nodejs/node#58817), so parts are filled from this, not read into.
      let scratch = new Uint8Array(Math.min(partSize, BYOB_READ_BYTES));
      for (;;) {
        if (failure !== undefined || inner.signal.aborted) break;
        const { done, value } = await byob.read(scratch);
        if (value === undefined) break;
        // The read transferred the buffer; the view it returns is on the same memory.
        scratch = new Uint8Array(value.buffer as ArrayBuffer);
        if (!(await take(value)) || done) break;
      }
    } else if (chunks) {
      for (;;) {
        if (failure !== undefined || inner.signal.aborted) break;
        const { done, value } = await chunks.read();
        if (done || !(await take(value))) break;
      }
    }
    if (
      failure === undefined &&
      !inner.signal.aborted &&
      (filled > 0 || (partNumber === 0 && opts.emptyPart !== false))
    ) {
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      launch(buf.subarray(0, filled));
    }
    await Promise.all(inFlight);
  } catch (err) {
    if (failure === undefined) failure = err;
    inner.abort(err);
    await Promise.allSettled(inFlight);
  } finally {
    opts.signal?.removeEventListener('abort', onOuterAbort);
    if (failure !== undefined || inner.signal.aborted) await reader.cancel(failure).catch(() => {});
    else reader.releaseLock();
  }
  if (failure === undefined && inner.signal.aborted) failure = inner.signal.reason;
  if (failure !== undefined) {
    if (isPolycloudError(failure)) throw failure;
    if (opts.signal?.aborted)
      throw pcError('CANCELLED', 'upload was cancelled', { cause: failure, retryable: false });
    throw failure;
  }
  return { results, totalBytes };
}
