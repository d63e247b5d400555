import { transportFailure } from '../driver/errors.js';
import { abortError, isPolycloudError, PolycloudError, pcError } from '../errors.js';
import { type CallTelemetry, startCall } from '../telemetry.js';
import { abortHttpOn } from './http-abort.js';
import { DEFAULT_RETRY, type RetryPolicy, withRetry } from './retry.js';
import { type LinkedSignal, linkSignals, raceAbort } from './signal.js';
import { checkSignal, describeValue } from './validate.js';

/** Options every portable object accepts when it is constructed or opened. */
export interface PortableOptions {
  /** Retry policy for retryable errors; `{ maxAttempts: 1 }` disables retries. */
  readonly retry?: Partial<RetryPolicy>;
  /**
   * Deadline for a whole call in ms: every attempt, the backoffs between them and, for `get`,
   * reading the body. When it passes the call fails with TIMEOUT. Default: none (every call is
   * still bounded by `attemptTimeoutMs` × attempts).
   */
  readonly timeoutMs?: number;
  /**
   * Bound for one attempt in ms (a `receive` attempt gets its `waitSeconds` on top; streamed
   * uploads have no per-attempt bound, only `timeoutMs`). Default 30000; 0 turns it off.
   */
  readonly attemptTimeoutMs?: number;
  /**
   * Longest wait for the next chunk of a body being read (`get`) in ms before the read counts
   * as cut and resumes. Default 30000; 0 turns it off.
   */
  readonly idleTimeoutMs?: number;
}

/** Default bound for one attempt and for a stalled body read. */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 30_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/** Per-run options beyond retry behaviour. */
export interface RunOptions<T> {
  retry?: boolean;
  idempotent?: boolean;
  /** This call's bound per attempt; 0 = none. Default: the runner's attemptTimeoutMs. */
  attemptTimeoutMs?: number;
  /** A deadline the caller owns (get keeps it for the body); the run does not dispose it. */
  deadline?: LinkedSignal;
  /** Releases a result that arrived after the attempt timed out or was aborted. */
  discard?: (late: T) => void;
}

type Service = 'blob' | 'queue' | 'kv';

/**
 * Runs driver calls with the parts every service shares: the call's signal combined with the
 * timeout, retries, and errors normalised with provider/service/operation/resource filled in.
 */
export class CallRunner {
  readonly retry: RetryPolicy;
  readonly timeoutMs: number | undefined;
  readonly attemptTimeoutMs: number;
  readonly idleTimeoutMs: number;
  private closed = false;

  constructor(
    readonly provider: string,
    readonly service: Service,
    readonly name: string,
    opts: PortableOptions = {},
  ) {
    const ctx = this.ctx('open');
    if (opts === null || typeof opts !== 'object') {
      throw pcError('INVALID_ARGUMENT', `options for ${service} "${name}" must be an object`, ctx);
    }
    const ms = (v: unknown, what: string, zeroOk: boolean): number | undefined => {
      if (v === undefined) return undefined;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!zeroOk && v === 0)) {
        throw pcError(
          'INVALID_ARGUMENT',
          `${what} for ${service} "${name}" must be a ${zeroOk ? 'non-negative' : 'positive'} number of milliseconds, got ${describeValue(v)}`,
          ctx,
        );
      }
      return v;
    };
    if (opts.retry !== undefined && (opts.retry === null || typeof opts.retry !== 'object')) {
      throw pcError('INVALID_ARGUMENT', `retry for ${service} "${name}" must be an object`, ctx);
    }
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    const r = this.retry;
    if (
      !Number.isInteger(r.maxAttempts) ||
      r.maxAttempts < 1 ||
      ms(r.initialDelayMs, 'retry.initialDelayMs', true) === undefined ||
      ms(r.maxDelayMs, 'retry.maxDelayMs', true) === undefined
    ) {
      throw pcError(
        'INVALID_ARGUMENT',
        `retry for ${service} "${name}": maxAttempts must be an integer >= 1, delays non-negative numbers`,
        ctx,
      );
    }
    this.timeoutMs = ms(opts.timeoutMs, 'timeoutMs', false);
    this.attemptTimeoutMs = ms(opts.attemptTimeoutMs, 'attemptTimeoutMs', true) ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
    this.idleTimeoutMs = ms(opts.idleTimeoutMs, 'idleTimeoutMs', true) ?? DEFAULT_IDLE_TIMEOUT_MS;
  }

  /** The whole-call deadline: the caller's signal plus `timeoutMs`. Dispose it when the call ends. */
  deadline(signal: AbortSignal | undefined, what: string): LinkedSignal {
    return linkSignals([signal], this.timeoutMs, what);
  }

  markClosed(): void {
    this.closed = true;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  ensureOpen(operation: string): void {
    if (this.closed) {
      throw pcError(
        'PRECONDITION_FAILED',
        `${operation} on ${this.service} "${this.name}" after close(); open a new one`,
        this.ctx(operation),
      );
    }
  }

  ctx(operation: string, key?: string) {
    return {
      provider: this.provider,
      service: this.service,
      operation,
      resource: { name: this.name, ...(key === undefined ? {} : { key }) },
    } as const;
  }

  /**
   * Runs `fn` with retries (when `retry` is true), error normalisation and telemetry. Each
   * attempt gets a signal that aborts on the caller's signal, the whole-call deadline or the
   * attempt's bound, and the attempt ends when that signal aborts even if the driver ignores it.
   */
  async run<T>(
    operation: string,
    key: string | undefined,
    signal: AbortSignal | undefined,
    fn: (signal: AbortSignal | undefined, call: CallTelemetry) => Promise<T>,
    opts: RunOptions<T> = {},
  ): Promise<T> {
    this.ensureOpen(operation);
    const what = `${operation} on ${this.service} "${this.name}"${key === undefined ? '' : ` key "${key}"`}`;
    try {
      checkSignal(signal, this.ctx(operation));
    } catch (err) {
      throw this.normalize(err, operation, key);
    }
    if (signal?.aborted) throw this.normalize(abortError(signal, what), operation, key);
    const policy = opts.retry === false ? { ...this.retry, maxAttempts: 1 } : this.retry;
    const deadline = opts.deadline ?? this.deadline(signal, what);
    const outer = deadline.signal;
    const attemptMs = opts.attemptTimeoutMs ?? this.attemptTimeoutMs;
    // One span per portable call, retries included (a no-op without @opentelemetry/api).
    let call = startCall({
      provider: this.provider,
      service: this.service,
      operation,
      name: this.name,
      key,
    });
    if (call instanceof Promise) call = await call;
    const telemetry = call;
    let attempts = 0;
    let last: unknown;
    try {
      const result = await withRetry(
        async (attemptNo) => {
          if (attemptNo > 1) telemetry.retry(attemptNo - 1, this.normalize(last, operation, key));
          attempts = attemptNo;
          const attempt = linkSignals([outer], attemptMs, what);
          const s = attempt.signal;
          try {
            return await raceAbort(
              abortHttpOn(s, () => fn(s, telemetry)),
              s,
              opts.discard,
            );
          } catch (err) {
            last = s.aborted ? abortError(s, what) : err;
            throw last;
          } finally {
            attempt.dispose();
          }
        },
        { policy, signal: outer, idempotent: opts.idempotent ?? true, what },
      );
      telemetry.end(attempts);
      return result;
    } catch (err) {
      const e = this.normalize(err, operation, key);
      telemetry.end(attempts, e);
      throw e;
    } finally {
      if (opts.deadline === undefined) deadline.dispose();
    }
  }

  normalize(err: unknown, operation: string, key?: string): PolycloudError {
    if (isPolycloudError(err)) {
      if (!(err instanceof PolycloudError)) return err as PolycloudError;
      const e = err.withContext(this.ctx(operation, key));
      return e.code === 'INVALID_ARGUMENT' ? this.located(e, operation, key) : e;
    }
    // A native transport failure that escaped a driver (a body stream cut off) is UNAVAILABLE.
    const transport = transportFailure(err, `${operation} on ${this.service} "${this.name}"`);
    if (transport) return transport.withContext(this.ctx(operation, key));
    return pcError('UNKNOWN', `${operation} on ${this.service} "${this.name}" failed: ${describe(err)}`, {
      ...this.ctx(operation, key),
      cause: err,
      retryable: false,
    });
  }

  /**
   * A validation error raised without its site (by a body or codec helper that knows no
   * resource) gets "put on blob "b" key "k": " in front, like every other message.
   */
  located(err: PolycloudError, operation: string, key?: string): PolycloudError {
    const site = `${operation} on ${this.service} "${this.name}"${key === undefined ? '' : ` key "${key}"`}`;
    if (err.message.startsWith(`${operation} on `) || err.message.startsWith(`${operation}: `)) {
      return err;
    }
    const e = new PolycloudError({
      code: err.code,
      message: `${site}: ${err.message}`,
      retryable: err.retryable,
      ...this.ctx(operation, key),
      ...(err.cause === undefined ? {} : { cause: err.cause }),
      outcomeUnknown: err.outcomeUnknown,
    });
    const head = `${err.name}: ${err.message}`;
    if (err.stack?.startsWith(head)) e.stack = `${err.name}: ${e.message}${err.stack.slice(head.length)}`;
    return e;
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
