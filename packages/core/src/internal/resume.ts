import { abortError, isPolycloudError, type PolycloudError, pcError } from '../errors.js';
import { backoffDelay, type RetryPolicy } from './retry.js';
import { type LinkedSignal, sleep } from './signal.js';

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
  /** The caller's signal and the whole-call deadline, disposed when the read ends. */
  readonly deadline: LinkedSignal;
  readonly what: string;
  /** Opens the rest of the object from `offset` (same etag), for `length` bytes or to the end. */
  reopen(
    offset: number,
    length: number | undefined,
    signal: AbortSignal,
  ): Promise<ReadableStream<Uint8Array>>;
  normalize(err: unknown): PolycloudError;
}

const IDLE = Symbol('idle');

/**
 * A body that survives a cut connection: when the stream errors, ends short, or stalls for
 * `idleMs`, it re-opens the object from the last byte delivered, conditional on the same etag,
 * up to the retry policy's attempts. A read that cannot resume fails UNAVAILABLE (retryable);
 * CANCELLED only when the caller aborted, TIMEOUT when the call's deadline passed.
 */
export class ResumingBody {
  private reader: ReadableStreamDefaultReader<Uint8Array>;
  private delivered = 0;
  private resumes = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private onIdle: (() => void) | undefined;
  private onAbort: (() => void) | undefined;
  private finished = false;

  constructor(
    first: ReadableStream<Uint8Array>,
    private readonly src: ResumeSource,
  ) {
    this.reader = first.getReader();
    const signal = src.deadline.signal;
    const abort = () => this.onAbort?.();
    signal.addEventListener('abort', abort, { once: true });
    const dispose = src.deadline.dispose;
    this.cleanup = () => {
      signal.removeEventListener('abort', abort);
      dispose();
    };
  }

  private readonly cleanup: () => void;

  /** The next chunk, or undefined at the end. */
  async read(): Promise<Uint8Array | undefined> {
    for (;;) {
      if (this.finished) return undefined;
      let r: ReadableStreamReadResult<Uint8Array> | typeof IDLE;
      try {
        r = await this.readOnce();
      } catch (err) {
        await this.recover(err);
        continue;
      }
      if (r === IDLE) {
        await this.recover(
          pcError('TIMEOUT', `${this.src.what}: no bytes for ${this.src.idleMs} ms`, { retryable: true }),
        );
        continue;
      }
      if (r.done) {
        const want = this.src.expected;
        if (want !== undefined && this.delivered < want) {
          await this.recover(new Error(`body ended after ${this.delivered} of ${want} bytes`));
          continue;
        }
        this.finish();
        return undefined;
      }
      this.delivered += r.value.byteLength;
      return r.value;
    }
  }

  async cancel(reason?: unknown): Promise<void> {
    this.finish();
    await this.reader.cancel(reason).catch(() => {});
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.cleanup();
  }

  private readOnce(): Promise<ReadableStreamReadResult<Uint8Array> | typeof IDLE> {
    const signal = this.src.deadline.signal;
    if (signal.aborted) return Promise.reject(signal.reason);
    const read = this.reader.read();
    if (this.src.idleMs <= 0) {
      return new Promise((resolve, reject) => {
        this.onAbort = () => reject(signal.reason);
        read.then(resolve, reject).finally(() => {
          this.onAbort = undefined;
        });
      });
    }
    return new Promise((resolve, reject) => {
      this.onIdle = () => resolve(IDLE);
      this.onAbort = () => reject(signal.reason);
      // One timer per body, re-armed per read: a timer per chunk would cost more than the chunk.
      if (this.idleTimer === undefined) {
        this.idleTimer = setTimeout(() => this.onIdle?.(), this.src.idleMs);
      } else this.idleTimer.refresh();
      read.then(resolve, reject).finally(() => {
        this.onIdle = undefined;
        this.onAbort = undefined;
      });
    });
  }

  private async recover(err: unknown): Promise<void> {
    const signal = this.src.deadline.signal;
    const stop = (e: unknown): never => {
      this.finish();
      void this.reader.cancel(e).catch(() => {});
      throw this.src.normalize(e);
    };
    if (signal.aborted) stop(abortError(signal, this.src.what));
    if (!isCut(err)) stop(err);
    void this.reader.cancel(err).catch(() => {});
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
        const body = await this.src.reopen(offset, length, signal);
        this.reader = body.getReader();
        return;
      } catch (e) {
        if (signal.aborted) stop(abortError(signal, this.src.what));
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

/**
 * Whether a body error is the connection's fault rather than a verdict: anything native, any
 * retryable error, and CANCELLED/UNKNOWN that nobody asked for (some SDKs report a reset body as
 * aborted; recover() has already ruled out the caller's abort and the deadline).
 */
function isCut(err: unknown): boolean {
  if (!isPolycloudError(err)) return true;
  return err.retryable || err.code === 'CANCELLED' || err.code === 'UNKNOWN';
}
