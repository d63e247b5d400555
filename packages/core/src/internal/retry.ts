import { abortError, isPolycloudError, type PolycloudError } from '../errors.js';
import { sleep } from './signal.js';

/** How the portable layer retries retryable errors. */
export interface RetryPolicy {
  /** Total attempts including the first; 1 disables retries. Default 4. */
  readonly maxAttempts: number;
  /** First backoff in ms; doubles each attempt, with full jitter. Default 100. */
  readonly initialDelayMs: number;
  /** Upper bound for one backoff. Default 5000. */
  readonly maxDelayMs: number;
}

/** The retry policy when the caller sets none: 4 attempts, backoff from 100 ms up to 5 s. */
export const DEFAULT_RETRY: RetryPolicy = Object.freeze({
  maxAttempts: 4,
  initialDelayMs: 100,
  maxDelayMs: 5000,
});

/** Full-jitter exponential backoff for attempt n (1-based). */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Runs `fn` and retries it while it throws a retryable PolycloudError, up to the policy's
 * attempts. `idempotent: false` retries only THROTTLED, which services return before acting.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  opts: { policy: RetryPolicy; signal?: AbortSignal | undefined; idempotent?: boolean; what: string },
): Promise<T> {
  let attempt = 0;
  for (;;) {
    attempt++;
    try {
      return await fn(attempt);
    } catch (err) {
      if (opts.signal?.aborted) throw abortError(opts.signal, opts.what);
      if (!shouldRetry(err, opts.idempotent ?? true) || attempt >= opts.policy.maxAttempts) throw err;
      await sleep(backoffDelay(opts.policy, attempt), opts.signal, opts.what);
    }
  }
}

/** Whether a failed attempt may be retried: retryable, and only THROTTLED when not idempotent. */
export function shouldRetry(err: unknown, idempotent: boolean): boolean {
  if (!isPolycloudError(err) || !err.retryable) return false;
  return idempotent || (err as PolycloudError).code === 'THROTTLED';
}
