import { transportFailure } from '../driver/errors.js';
import { abortError, isPolycloudError, PolycloudError, pcError } from '../errors.js';
import { type CallTelemetry, startCall } from '../telemetry.js';
import { DEFAULT_RETRY, type RetryPolicy, withRetry } from './retry.js';
import { callSignal } from './signal.js';

/** Options every portable object accepts when it is constructed or opened. */
export interface PortableOptions {
  /** Retry policy for retryable errors; `{ maxAttempts: 1 }` disables retries. */
  readonly retry?: Partial<RetryPolicy>;
  /** Per-call timeout in ms (each attempt of a retried call included). Default: none. */
  readonly timeoutMs?: number;
}

type Service = 'blob' | 'queue' | 'kv';

/**
 * Runs driver calls with the parts every service shares: the call's signal combined with the
 * timeout, retries, and errors normalised with provider/service/operation/resource filled in.
 */
export class CallRunner {
  readonly retry: RetryPolicy;
  readonly timeoutMs: number | undefined;
  private closed = false;

  constructor(
    readonly provider: string,
    readonly service: Service,
    readonly name: string,
    opts: PortableOptions = {},
  ) {
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.timeoutMs = opts.timeoutMs;
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

  /** Runs `fn` with retries (when `retry` is true), error normalisation and telemetry. */
  async run<T>(
    operation: string,
    key: string | undefined,
    signal: AbortSignal | undefined,
    fn: (signal: AbortSignal | undefined, call: CallTelemetry) => Promise<T>,
    opts: { retry?: boolean; idempotent?: boolean } = {},
  ): Promise<T> {
    this.ensureOpen(operation);
    const what = `${operation} on ${this.service} "${this.name}"${key === undefined ? '' : ` key "${key}"`}`;
    if (signal?.aborted) throw this.normalize(abortError(signal, what), operation, key);
    const policy = opts.retry === false ? { ...this.retry, maxAttempts: 1 } : this.retry;
    // One span per portable call, retries included (a no-op without @opentelemetry/api).
    let call = startCall({
      provider: this.provider,
      service: this.service,
      operation,
      name: this.name,
      key,
    });
    if (call instanceof Promise) call = await call;
    let attempts = 0;
    let last: unknown;
    try {
      const result = await withRetry(
        async (attempt) => {
          if (attempt > 1) call.retry(attempt - 1, this.normalize(last, operation, key));
          attempts = attempt;
          const s = callSignal(signal, this.timeoutMs);
          try {
            return await fn(s, call);
          } catch (err) {
            last = s?.aborted ? abortError(s, what) : err;
            throw last;
          }
        },
        { policy, signal, idempotent: opts.idempotent ?? true, what },
      );
      call.end(attempts);
      return result;
    } catch (err) {
      const e = this.normalize(err, operation, key);
      call.end(attempts, e);
      throw e;
    }
  }

  normalize(err: unknown, operation: string, key?: string): PolycloudError {
    if (isPolycloudError(err)) {
      return err instanceof PolycloudError
        ? err.withContext(this.ctx(operation, key))
        : (err as PolycloudError);
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
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
