import { abortError } from '../errors.js';

/** Combines the caller's signal with a per-call timeout; either aborts the call. */
export function callSignal(
  signal: AbortSignal | undefined,
  timeoutMs: number | undefined,
): AbortSignal | undefined {
  const parts: AbortSignal[] = [];
  if (signal) parts.push(signal);
  if (timeoutMs !== undefined && timeoutMs > 0 && Number.isFinite(timeoutMs))
    parts.push(AbortSignal.timeout(timeoutMs));
  if (parts.length === 0) return undefined;
  if (parts.length === 1) return parts[0];
  return AbortSignal.any(parts);
}

export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw abortError(signal, what);
}

/** Resolves after `ms`, rejecting early if the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal, what = 'wait'): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal, what));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!, what));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

// What `remainingMs` reads, kept on the signal itself: a WeakMap entry per call cost more
// (ephemeron bookkeeping in GC) than the rest of a memory-adapter call.
const DEADLINE = Symbol('polycloud.deadline');
const PARENT = Symbol('polycloud.parent');
const CLOCK = Symbol('polycloud.clock');

/** An attempt's bound as the call runner keeps it: `at` (performance.now() ms) once started. */
export interface AttemptClock {
  readonly ms: number;
  readonly at: number;
  /** 0 not started yet (the whole `ms` is left), 1 counting, 2 done. */
  readonly state: 0 | 1 | 2;
}

interface Marked {
  /** Epoch ms when the signal's own timer aborts it. */
  [DEADLINE]?: number;
  [PARENT]?: AbortSignal;
  [CLOCK]?: AttemptClock;
}

/**
 * Milliseconds until `signal`'s own timers abort it (at least 1), or undefined when it has none
 * (no bound, or a caller's signal). For SDK calls that take a deadline and no signal (gRPC
 * through gax): the call then ends with its attempt instead of running on after it.
 *
 * @example
 * const timeout = remainingMs(opts.signal) ?? 60_000; // gax CallOptions.timeout
 */
export function remainingMs(signal: AbortSignal | undefined): number | undefined {
  if (signal === undefined) return undefined;
  const m = signal as AbortSignal & Marked;
  let left: number | undefined;
  const d = m[DEADLINE];
  if (d !== undefined) left = d - Date.now();
  const c = m[CLOCK];
  if (c !== undefined && c.state !== 2) {
    const own = c.state === 0 ? c.ms : c.at - performance.now();
    if (left === undefined || own < left) left = own;
  }
  const p = m[PARENT];
  if (p !== undefined) {
    const up = remainingMs(p);
    if (up !== undefined && (left === undefined || up < left)) left = up;
  }
  return left === undefined ? undefined : Math.max(1, Math.ceil(left));
}

/**
 * Lets `remainingMs(signal)` see an attempt's bound and its call's deadline (for signals made
 * without linkSignals); nothing is computed until somebody asks.
 */
export function markAttempt(
  signal: AbortSignal,
  parent: AbortSignal | undefined,
  clock: AttemptClock | undefined,
): void {
  const m = signal as AbortSignal & Marked;
  if (parent !== undefined) m[PARENT] = parent;
  if (clock !== undefined) m[CLOCK] = clock;
}

/** A signal that follows its parents and, optionally, a timer; `dispose()` unlinks both. */
export interface LinkedSignal {
  readonly signal: AbortSignal;
  dispose(): void;
}

/**
 * Links `parents` and an optional timeout into one signal. Unlike `AbortSignal.any` +
 * `AbortSignal.timeout`, the timer is an ordinary (ref'd) timer that dispose() clears, and
 * listeners are removed on dispose, so long-lived caller signals do not accumulate them.
 * A timeout aborts with a `TimeoutError`, which `abortError` maps to TIMEOUT.
 */
export function linkSignals(
  parents: readonly (AbortSignal | undefined)[],
  timeoutMs: number | undefined,
  what = 'call',
): LinkedSignal {
  const controller = new AbortController();
  const unlink: (() => void)[] = [];
  for (const p of parents) {
    if (!p) continue;
    if (p.aborted) {
      controller.abort(p.reason);
      break;
    }
    const onAbort = () => controller.abort(p.reason);
    p.addEventListener('abort', onAbort, { once: true });
    unlink.push(() => p.removeEventListener('abort', onAbort));
  }
  let timer: NodeJS.Timeout | undefined;
  let deadline: number | undefined;
  for (const p of parents) {
    const left = remainingMs(p);
    const d = left === undefined ? undefined : Date.now() + left;
    if (d !== undefined && (deadline === undefined || d < deadline)) deadline = d;
  }
  if (!controller.signal.aborted && timeoutMs !== undefined && timeoutMs > 0 && Number.isFinite(timeoutMs)) {
    const own = Date.now() + timeoutMs;
    if (deadline === undefined || own < deadline) deadline = own;
    timer = setTimeout(() => {
      controller.abort(new DOMException(`${what} timed out after ${timeoutMs} ms`, 'TimeoutError'));
    }, timeoutMs);
  }
  if (deadline !== undefined) (controller.signal as AbortSignal & Marked)[DEADLINE] = deadline;
  return {
    signal: controller.signal,
    dispose() {
      if (timer !== undefined) clearTimeout(timer);
      for (const u of unlink) u();
      unlink.length = 0;
    },
  };
}

/**
 * Settles with `p`, or rejects with the signal's reason once it aborts, even when the work
 * behind `p` ignores the signal. After the abort, `p` gets `graceMs` to settle first, so a
 * driver that honours the signal can finish its cleanup (abort a multipart upload) before the
 * caller hears of it. `p`'s late outcome is still observed (no unhandled rejection) and handed
 * to `discard` so a late resource can be released.
 */
export function raceAbort<T>(
  p: Promise<T>,
  signal: AbortSignal | undefined,
  discard?: (late: T) => void,
  graceMs = ABORT_GRACE_MS,
): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let grace: NodeJS.Timeout | undefined;
    const giveUp = () => {
      if (settled) return;
      settled = true;
      reject(signal.reason);
    };
    const onAbort = () => {
      if (!settled) grace = setTimeout(giveUp, graceMs);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        clearTimeout(grace);
        if (settled) {
          discard?.(v);
          return;
        }
        settled = true;
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        clearTimeout(grace);
        if (settled) return;
        settled = true;
        reject(e);
      },
    );
  });
}

/** How long an aborted driver call may take to wind down before the caller is answered. */
export const ABORT_GRACE_MS = 1000;
