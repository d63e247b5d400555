import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { Readable } from 'node:stream';
import { type ErrorCode, isPolycloudError } from '@polycloud/core';
import type { TestCtx } from './framework.js';

export const KiB = 1024;
export const MiB = 1024 * 1024;

/** A short random token: lower-case letters and digits, safe in every provider's names. */
export function randomToken(bytes = 6): string {
  return randomBytes(bytes).toString('hex');
}

/** A fresh namespace / resource name: `pc-<time>-<random>`. */
export function randomName(prefix = 'pc'): string {
  return `${prefix}-${Date.now().toString(36)}-${randomToken(4)}`;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Fails the test with `message` unless `cond` holds. */
export function check(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(message);
}

/** A short description of a thrown value for assertion messages. */
export function describeError(err: unknown): string {
  if (isPolycloudError(err)) return `PolycloudError ${err.code}: ${err.message}`;
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

/** Runs `fn` and returns the PolycloudError it throws; fails unless it throws one with `code`. */
export async function expectCode(
  code: ErrorCode | readonly ErrorCode[],
  fn: () => unknown,
  what: string,
): Promise<Error> {
  const codes = typeof code === 'string' ? [code] : code;
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  if (err === undefined) throw new Error(`${what}: expected ${codes.join(' or ')}, but the call succeeded`);
  if (!codes.some((c) => isPolycloudError(err, c))) {
    throw new Error(`${what}: expected ${codes.join(' or ')}, got ${describeError(err)}`, { cause: err });
  }
  return err as Error;
}

/** Runs `fn` and fails unless it throws a PolycloudError (any code). */
export async function expectPolycloudError(fn: () => unknown, what: string): Promise<Error> {
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  if (err === undefined) throw new Error(`${what}: expected an error, but the call succeeded`);
  if (!isPolycloudError(err))
    throw new Error(`${what}: expected a PolycloudError, got ${describeError(err)}`, { cause: err });
  return err;
}

/**
 * Checks the "undeclared capability" direction: `fn` must be rejected with UNSUPPORTED before
 * any I/O, then marks the test `unsupported` with the capability's name. `fn` receives an
 * already-aborted signal to pass to the call: a call that did I/O (or even reached the retry
 * loop) first would fail with CANCELLED instead, so UNSUPPORTED proves the check came first.
 */
export async function expectUnsupported(
  t: TestCtx,
  capability: string,
  fn: (abortedSignal: AbortSignal) => unknown,
): Promise<void> {
  const ac = new AbortController();
  ac.abort(new Error('conformance: signal aborted up front so that any I/O would fail with CANCELLED'));
  let err: unknown;
  try {
    await fn(ac.signal);
  } catch (e) {
    err = e;
  }
  if (err === undefined) {
    throw new Error(
      `capability "${capability}" is not declared, so the call must fail with UNSUPPORTED, but it succeeded`,
    );
  }
  if (!isPolycloudError(err, 'UNSUPPORTED')) {
    throw new Error(
      `capability "${capability}" is not declared, so the call must fail with UNSUPPORTED before any I/O, got ${describeError(err)}`,
      { cause: err },
    );
  }
  t.unsupported(capability);
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: { timeoutMs: number; intervalMs?: number; signal?: AbortSignal },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() >= deadline) throw new Error(`${what}: not seen within ${opts.timeoutMs} ms`);
    await sleep(opts.intervalMs ?? 200, opts.signal);
  }
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Fails with a compact message (lengths and hashes, not megabytes of diff) unless equal. */
export function checkBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  if (!(actual instanceof Uint8Array))
    throw new Error(`${what}: expected a Uint8Array, got ${typeof actual}`);
  if (bytesEqual(actual, expected)) return;
  let i = 0;
  while (i < Math.min(actual.byteLength, expected.byteLength) && actual[i] === expected[i]) i++;
  throw new Error(
    `${what}: bytes differ — got ${actual.byteLength} bytes (sha256 ${sha256(actual).slice(0, 16)}), expected ${expected.byteLength} (sha256 ${sha256(expected).slice(0, 16)}); first difference at byte ${i}`,
  );
}

/** Random bytes (fast: one fill). */
export function randomData(size: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(size);
  for (let off = 0; off < size; off += 65_536) randomFillSync(b, off, Math.min(65_536, size - off));
  return b;
}

/**
 * A body of `size` random bytes produced lazily in chunks of `chunkSize` (odd by default, so
 * chunk and part boundaries never line up). The sha256 of what was produced is available once
 * the body has been read to the end.
 */
export class GeneratedBody {
  private readonly hash = createHash('sha256');
  private produced = 0;
  private digest: string | undefined;

  constructor(
    readonly size: number,
    private readonly chunkSize = 64 * KiB + 13,
  ) {}

  /** sha256 hex of the whole body; only after it was fully read. */
  get sha256(): string {
    if (this.digest === undefined)
      throw new Error(`the generated body was read ${this.produced}/${this.size} bytes only`);
    return this.digest;
  }

  get bytesProduced(): number {
    return this.produced;
  }

  private next(): Uint8Array | undefined {
    if (this.produced >= this.size) {
      this.digest ??= this.hash.digest('hex');
      return undefined;
    }
    const n = Math.min(this.chunkSize, this.size - this.produced);
    const chunk = randomData(n);
    this.hash.update(chunk);
    this.produced += n;
    if (this.produced >= this.size) this.digest = this.hash.digest('hex');
    return chunk;
  }

  /** A Web ReadableStream of unknown length. `beforeChunk` may delay or abort production. */
  stream(beforeChunk?: (producedSoFar: number) => Promise<void> | void): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      pull: async (c) => {
        await beforeChunk?.(this.produced);
        const chunk = this.next();
        if (chunk === undefined) c.close();
        else c.enqueue(chunk);
      },
    });
  }

  /**
   * The body as a byte stream (`type: 'bytes'`) of unknown length whose source writes into the
   * reader's buffer, as `FileHandle.readableWebStream()` does; default readers get 64 KiB views.
   */
  byteStream(): ReadableStream<Uint8Array> {
    let pending: Uint8Array | undefined;
    return new ReadableStream({
      type: 'bytes',
      autoAllocateChunkSize: 64 * KiB,
      pull: (c) => {
        // autoAllocateChunkSize: every pull has a request.
        const req = c.byobRequest!;
        const view = req.view!;
        pending ??= this.next();
        if (pending === undefined) {
          c.close();
          req.respond(0);
          return;
        }
        const n = Math.min(view.byteLength, pending.byteLength);
        new Uint8Array(view.buffer, view.byteOffset, n).set(pending.subarray(0, n));
        pending = n < pending.byteLength ? pending.subarray(n) : undefined;
        req.respond(n);
      },
    }) as ReadableStream<Uint8Array>;
  }

  /** The body as an async iterable of chunks. */
  async *iterable(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const chunk = this.next();
      if (chunk === undefined) return;
      yield chunk;
    }
  }

  /** The body as a Node Readable stream. */
  nodeReadable(): Readable {
    return Readable.from(this.iterable(), { objectMode: false });
  }
}

/** Reads a stream to the end, returning its size and sha256 hex without keeping it in memory. */
export async function hashStream(
  stream: ReadableStream<Uint8Array>,
): Promise<{ size: number; sha256: string }> {
  const h = createHash('sha256');
  let size = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    h.update(value);
    size += value.byteLength;
  }
  return { size, sha256: h.digest('hex') };
}

/** Compares strings by UTF-8 bytes (the order listings must follow). */
export function compareUtf8Bytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function sortUtf8(keys: readonly string[]): string[] {
  return [...keys].sort(compareUtf8Bytes);
}

export function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Shows a key readably in messages: JSON-escaped and shortened. */
export function showKey(key: string): string {
  const j = JSON.stringify(key);
  return j.length > 80 ? `${j.slice(0, 60)}…(${utf8Bytes(key)} bytes)` : j;
}

/** `Promise.allSettled` split into values and reasons, in input order. */
export async function settle<T>(promises: readonly Promise<T>[]) {
  const r = await Promise.allSettled(promises);
  return {
    fulfilled: r.flatMap((x, i) => (x.status === 'fulfilled' ? [{ index: i, value: x.value }] : [])),
    rejected: r.flatMap((x, i) =>
      x.status === 'rejected' ? [{ index: i, reason: x.reason as unknown }] : [],
    ),
  };
}
