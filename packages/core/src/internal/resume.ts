import { Readable } from 'node:stream';
import { abortError, isPolycloudError, type PolycloudError, pcError } from '../errors.js';
import { backoffDelay, type RetryPolicy } from './retry.js';
import { type LinkedSignal, sleep } from './signal.js';

/** What a read can be handed: a driver's bytes or Node stream, or a Web stream from `get`. */
export type AnyBody = Uint8Array | Readable | ReadableStream<Uint8Array>;

/** What a resuming body needs from the bucket that opened it. */
export interface ResumeSource {
  /** First byte of the read in the object (range offset, or 0). */
  readonly start: number;
  /** Bytes the read must deliver, when known; a body that ends short counts as cut. */
  readonly expected: number | undefined;
  /** Whether a cut read may be resumed (range reads with an etag condition are supported). */
  readonly canResume: boolean;
  readonly policy: RetryPolicy;
  /** Longest pause between chunks before the read counts as cut; 0 = none. */
  readonly idleMs: number;
  /**
   * The caller's signal and the whole-call deadline, disposed when the read ends; undefined
   * when the call has neither (nothing can abort the read but a cut).
   */
  readonly deadline: LinkedSignal | undefined;
  readonly what: string;
  /** Opens the rest of the object from `offset` (same etag), for `length` bytes or to the end. */
  reopen(offset: number, length: number | undefined, signal: AbortSignal | undefined): Promise<AnyBody>;
  normalize(err: unknown): PolycloudError;
  /** Called once when the read ends (done, failed or cancelled) with the bytes delivered. */
  done?(delivered: number): void;
}

type Chunk = { done: true; value?: undefined } | { done: false; value: Uint8Array };
const END: Chunk = { done: true };

/**
 * A body that survives a cut connection: when the stream errors, ends short, or stalls for
 * `idleMs`, it re-opens the object from the last byte delivered, conditional on the same etag,
 * up to the retry policy's attempts. A read that cannot resume fails UNAVAILABLE (retryable);
 * CANCELLED only when the caller aborted, TIMEOUT when the call's deadline passed.
 *
 * It reads its source directly, with no stream in between: `read()` for chunk-wise consumers
 * (`get().body` is one Web stream over it), `readAll()` for whole-body reads, which collect a
 * Node stream from its 'data' events and take bytes from memory as they are.
 */
export class ResumingBody {
  private body: AnyBody;
  /** Chunk-wise access to `body`, made on the first chunk-wise read. */
  private pull: Pull | undefined;
  private delivered = 0;
  private resumes = 0;
  /** When the idle bound trips (performance.now() ms), while on the shared idle clock. */
  idleAt = 0;
  /** Whether this body is on the shared idle clock (see `watchIdle`). */
  idleWatched = false;
  /** Set while a read waits on the source; the idle timer only trips a waiting read. */
  private waiting = false;
  /** Why the source was abandoned under a waiting read (idle, abort); thrown instead of its result. */
  private tripped: unknown;
  private finished = false;
  private readonly cleanup: () => void;

  constructor(
    first: AnyBody,
    private readonly src: ResumeSource,
  ) {
    this.body = adopt(first);
    const deadline = src.deadline;
    if (deadline === undefined) {
      this.cleanup = ignore;
      return;
    }
    const signal = deadline.signal;
    const abort = () => this.trip(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    this.cleanup = () => {
      signal.removeEventListener('abort', abort);
      deadline.dispose();
    };
  }

  /** The next chunk, or undefined at the end. */
  async read(): Promise<Uint8Array | undefined> {
    for (;;) {
      if (this.finished) return undefined;
      let r: Chunk;
      try {
        r = await this.readOnce();
      } catch (err) {
        await this.recover(err);
        continue;
      }
      if (r.done) {
        if (this.short()) {
          await this.recover(this.shortError());
          continue;
        }
        this.finish();
        return undefined;
      }
      this.delivered += r.value.byteLength;
      return r.value;
    }
  }

  /** The whole rest of the body in one array (a copy the caller owns). */
  async readAll(): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    for (;;) {
      if (this.finished) break;
      try {
        const body = this.body;
        if (this.pull === undefined && body instanceof Uint8Array) {
          this.body = EMPTY;
          if (body.byteLength > 0) chunks.push(body);
          this.delivered += body.byteLength;
        } else if (this.pull === undefined && body instanceof Readable) {
          await this.collect(body, chunks);
        } else {
          for (;;) {
            const r = await this.readOnce();
            if (r.done) break;
            chunks.push(r.value);
            this.delivered += r.value.byteLength;
          }
        }
        if (this.short()) throw this.shortError();
        this.finish();
      } catch (err) {
        await this.recover(err);
      }
    }
    return joinOwned(chunks);
  }

  async cancel(reason?: unknown): Promise<void> {
    this.finish();
    await this.release(reason);
  }

  /** Releases the current source, through its reader when one was taken. */
  private release(reason: unknown): Promise<void> {
    return this.pull ? this.pull.cancel(reason) : discardBody(this.body, reason);
  }

  private short(): boolean {
    const want = this.src.expected;
    return want !== undefined && this.delivered < want;
  }

  private shortError(): Error {
    return new Error(`body ended after ${this.delivered} of ${this.src.expected} bytes`);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.idleWatched) unwatchIdle(this);
    this.cleanup();
    this.src.done?.(this.delivered);
  }

  /** Abandons the source under a waiting read, which then fails with `reason`. */
  private trip(reason: unknown): void {
    if (this.finished || this.tripped !== undefined) return;
    this.tripped = reason;
    void this.release(reason);
  }

  /** Starts (or restarts) the idle bound: `idleMs` from now. */
  private armIdle(): void {
    const ms = this.src.idleMs;
    if (ms <= 0) return;
    this.idleAt = performance.now() + ms;
    if (!this.idleWatched) watchIdle(this);
  }

  /** The shared idle clock found no bytes for `idleMs`: a waiting read is cut. */
  onIdle(): void {
    if (this.waiting && !this.finished) {
      this.trip(
        pcError('TIMEOUT', `${this.src.what}: no bytes for ${this.src.idleMs} ms`, { retryable: true }),
      );
    }
  }

  private takeTrip(): unknown {
    const t = this.tripped;
    this.tripped = undefined;
    return t;
  }

  private async readOnce(): Promise<Chunk> {
    const signal = this.src.deadline?.signal;
    if (signal?.aborted) throw signal.reason;
    if (this.tripped !== undefined) throw this.takeTrip();
    this.pull ??= puller(this.body);
    this.armIdle();
    this.waiting = true;
    let r: Chunk;
    try {
      r = await this.pull.next();
    } catch (err) {
      throw this.tripped !== undefined ? this.takeTrip() : err;
    } finally {
      this.waiting = false;
    }
    if (this.tripped !== undefined) throw this.takeTrip();
    return r;
  }

  /** Collects a fresh Node stream from its 'data' events until it ends, fails or is tripped. */
  private collect(stream: Readable, chunks: Uint8Array[]): Promise<void> {
    const signal = this.src.deadline?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    // It may have failed while nobody was reading (adopt() kept that from crashing the process).
    if (stream.destroyed) {
      return Promise.reject(stream.errored ?? new Error('the body stream closed before its end'));
    }
    return new Promise<void>((resolve, reject) => {
      let ended = false;
      const onData = (c: Uint8Array) => {
        chunks.push(c);
        this.delivered += c.byteLength;
        if (this.idleWatched) this.idleAt = performance.now() + this.src.idleMs;
      };
      const onEnd = () => {
        ended = true;
        settle();
      };
      const onError = (e: unknown) => settle(e);
      const onClose = () => settle(ended ? undefined : new Error('the body stream closed before its end'));
      const settle = (err?: unknown) => {
        stream.off('data', onData);
        stream.off('end', onEnd);
        stream.off('error', onError);
        stream.off('close', onClose);
        this.waiting = false;
        if (this.tripped !== undefined) reject(this.takeTrip());
        else if (err !== undefined) reject(err);
        else resolve();
      };
      stream.on('data', onData);
      stream.on('end', onEnd);
      stream.on('error', onError);
      stream.on('close', onClose);
      this.waiting = true;
      this.armIdle();
      // A driver may hand over a paused stream (one that was read(0) to get its headers).
      stream.resume();
    });
  }

  private async recover(err: unknown): Promise<void> {
    const signal = this.src.deadline?.signal;
    const stop = (e: unknown): never => {
      this.finish();
      void this.release(e);
      throw this.src.normalize(e);
    };
    if (signal?.aborted) stop(abortError(signal, this.src.what));
    if (!isCut(err)) stop(err);
    void this.release(err);
    for (;;) {
      if (!this.src.canResume || this.resumes >= this.src.policy.maxAttempts - 1) {
        const idle = isPolycloudError(err, 'TIMEOUT');
        stop(
          pcError(
            idle ? 'TIMEOUT' : 'UNAVAILABLE',
            `${this.src.what}: the connection was cut after ${this.src.start + this.delivered} bytes${
              this.src.canResume ? ` and ${this.resumes} resumes failed` : ' and this read cannot resume'
            } (${err instanceof Error ? err.message : String(err)}); read it again`,
            { retryable: true, cause: err },
          ),
        );
      }
      this.resumes++;
      try {
        await sleep(backoffDelay(this.src.policy, this.resumes), signal, this.src.what);
        const offset = this.src.start + this.delivered;
        const length = this.src.expected === undefined ? undefined : this.src.expected - this.delivered;
        this.body = adopt(await this.src.reopen(offset, length, signal));
        this.pull = undefined;
        this.tripped = undefined;
        return;
      } catch (e) {
        if (signal?.aborted) stop(abortError(signal, this.src.what));
        if (isPolycloudError(e, 'PRECONDITION_FAILED')) {
          stop(
            pcError(
              'UNAVAILABLE',
              `${this.src.what}: the object changed while it was being read (after ${this.src.start + this.delivered} bytes); read it again`,
              { retryable: true, cause: e },
            ),
          );
        }
        if (!isCut(e)) stop(e);
        err = e;
      }
    }
  }
}

const EMPTY = new Uint8Array(0);
const ignore = () => {};

/**
 * Idle bounds of all bodies share one timer instead of a setTimeout each: a get that ends
 * within its bound (nearly all) then costs a Set entry and a clock read per chunk, not a timer
 * list created, scheduled and torn down per body (the same reason the call runner shares its
 * attempt clock). The clock is armed for the earliest bound, re-armed when it fires, left to
 * run out (unref'd) when no body is watched, and ref'd while one is, as a per-body timer was.
 */
const idleBodies = new Set<ResumingBody>();
let idleClock: NodeJS.Timeout | undefined;
let idleClockAt = Number.POSITIVE_INFINITY;

function watchIdle(b: ResumingBody): void {
  b.idleWatched = true;
  idleBodies.add(b);
  if (idleClock === undefined || b.idleAt < idleClockAt) {
    if (idleClock !== undefined) clearTimeout(idleClock);
    idleClockAt = b.idleAt;
    idleClock = setTimeout(idleSweep, Math.max(0, b.idleAt - performance.now()));
  } else if (idleBodies.size === 1) idleClock.ref();
}

function unwatchIdle(b: ResumingBody): void {
  b.idleWatched = false;
  if (idleBodies.delete(b) && idleBodies.size === 0) idleClock?.unref();
}

function idleSweep(): void {
  idleClock = undefined;
  idleClockAt = Number.POSITIVE_INFINITY;
  const now = performance.now();
  let next = Number.POSITIVE_INFINITY;
  for (const b of idleBodies) {
    if (b.idleAt <= now + 1) {
      // Off the clock until its next read or chunk re-arms it (a per-body timer fired once, too).
      unwatchIdle(b);
      b.onIdle();
    } else if (b.idleAt < next) next = b.idleAt;
  }
  if (next !== Number.POSITIVE_INFINITY && idleClock === undefined) {
    idleClockAt = next;
    idleClock = setTimeout(idleSweep, Math.max(0, next - now));
  }
}

/**
 * Takes charge of a body: a Node stream gets an 'error' listener at once, so a connection cut
 * while the caller has not started reading fails the read instead of crashing the process.
 */
function adopt(body: AnyBody): AnyBody {
  if (body instanceof Readable) body.on('error', ignore);
  return body;
}

/** Chunk-wise access to a body: one `next()` per chunk, `{ done: true }` at the end. */
interface Pull {
  next(): Promise<Chunk>;
  cancel(reason: unknown): Promise<void>;
}

function puller(body: AnyBody): Pull {
  if (body instanceof Uint8Array) {
    let left: Uint8Array | undefined = body.byteLength > 0 ? body : undefined;
    return {
      next() {
        const c = left;
        left = undefined;
        return Promise.resolve(c === undefined ? END : { done: false, value: c });
      },
      cancel() {
        left = undefined;
        return Promise.resolve();
      },
    };
  }
  if (body instanceof Readable) {
    const it = body[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
    return {
      async next() {
        const r = await it.next();
        // Plain Uint8Array views, as from any other driver (Node hands out Buffers).
        return r.done
          ? END
          : { done: false, value: new Uint8Array(r.value.buffer, r.value.byteOffset, r.value.byteLength) };
      },
      cancel: (reason) => discardBody(body, reason),
    };
  }
  const reader = body.getReader();
  return {
    next: () => reader.read() as Promise<Chunk>,
    cancel: (reason) => reader.cancel(reason).catch(() => {}),
  };
}

/** Releases a body nobody will read (a Node stream is destroyed, a Web stream cancelled). */
export function discardBody(body: AnyBody, reason?: unknown): Promise<void> {
  if (body instanceof Uint8Array) return Promise.resolve();
  if (body instanceof Readable) {
    if (!body.destroyed) {
      // Destroyed without an error: an 'error' event nobody listens to would crash the process.
      body.on('error', ignore);
      body.destroy();
    }
    return Promise.resolve();
  }
  return body.locked ? Promise.resolve() : body.cancel(reason).catch(() => {});
}

/**
 * One array the caller owns: never a view into a buffer shared with other data. The copy goes
 * into memory that is not zeroed first (every byte is written; `total` is recounted here so a
 * miscount can never expose stale memory): zeroing 16–64 MiB before overwriting it cost a
 * whole extra pass over the body, which the SDKs' own collectors (Buffer.concat) do not make.
 */
function joinOwned(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) {
    const c = chunks[0]!;
    if (c.byteOffset === 0 && c.byteLength === c.buffer.byteLength && c.constructor === Uint8Array) return c;
  }
  let total = 0;
  for (const c of chunks) total += c.byteLength;
  if (total === 0) return new Uint8Array(0);
  // allocUnsafeSlow: its own ArrayBuffer of exactly `total` bytes, never from Node's shared pool.
  const mem = Buffer.allocUnsafeSlow(total);
  const out = new Uint8Array(mem.buffer, mem.byteOffset, total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

/**
 * Whether a body error is the connection's fault rather than a verdict: anything native, any
 * retryable error, and CANCELLED/UNKNOWN that nobody asked for (some SDKs report a reset body as
 * aborted; recover() has already ruled out the caller's abort and the deadline).
 */
function isCut(err: unknown): boolean {
  if (!isPolycloudError(err)) return true;
  return err.retryable || err.code === 'CANCELLED' || err.code === 'UNKNOWN';
}
