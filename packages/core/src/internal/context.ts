import { transportFailure } from '../driver/errors.js';
import { abortError, isPolycloudError, PolycloudError, pcError } from '../errors.js';
import { type CallTelemetry, quietCall, startCall } from '../telemetry.js';
import { abortHttpOn } from './http-abort.js';
import { backoffDelay, DEFAULT_RETRY, type RetryPolicy, shouldRetry } from './retry.js';
import { ABORT_GRACE_MS, type LinkedSignal, linkSignals, markAttempt, sleep } from './signal.js';
import { checkSignal, describeValue } from './validate.js';

/** Providers whose drivers make no network requests (no node:http safety net needed). */
const IN_PROCESS_PROVIDERS: ReadonlySet<string> = new Set(['memory', 'local']);

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

const NO_OPTIONS: RunOptions<unknown> = Object.freeze({});

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
  /** This call's driver work settles within the turn that starts it (default: the runner's). */
  settlesAtOnce?: boolean;
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

  /**
   * Whether attempts run inside the node:http safety net (http-abort.ts): not for the in-process
   * adapters, which make no requests (the async-context frame per call is measurable there),
   * nor for drivers whose SDK ends every request on the signal they pass.
   */
  readonly netScope: boolean;

  /**
   * The driver declared that its calls settle within the turn of the event loop that started
   * them (no I/O, timers or waiting on the caller). An attempt bound only starts counting after
   * that turn, so it can never fire for such a call: without a caller signal or `timeoutMs` its
   * attempts run with no signal, no controller and no bound.
   */
  readonly settlesAtOnce: boolean;

  constructor(
    readonly provider: string,
    readonly service: Service,
    readonly name: string,
    opts: PortableOptions = {},
    settlesAtOnce = false,
    /** The driver's SDK ends every request when its signal aborts: no safety net needed. */
    signalEndsRequests = false,
  ) {
    this.settlesAtOnce = settlesAtOnce;
    this.netScope = !signalEndsRequests && !IN_PROCESS_PROVIDERS.has(provider);
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
    // A misspelt setting would otherwise be dropped without a word, like any unknown option.
    for (const k of Object.keys(opts.retry ?? {})) {
      if (!(k in DEFAULT_RETRY)) {
        throw pcError(
          'INVALID_ARGUMENT',
          `retry for ${service} "${name}": unknown setting "${k}"; allowed: ${Object.keys(DEFAULT_RETRY).join(', ')}`,
          ctx,
        );
      }
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
  run<T>(
    operation: string,
    key: string | undefined,
    signal: AbortSignal | undefined,
    fn: (signal: AbortSignal | undefined, call: CallTelemetry) => Promise<T>,
    opts: RunOptions<T> = NO_OPTIONS as RunOptions<T>,
  ): Promise<T> {
    let run: Run<T>;
    try {
      this.ensureOpen(operation);
      run = new Run(this, operation, key, fn, opts);
      if (signal !== undefined) {
        try {
          checkSignal(signal, this.ctx(operation));
        } catch (err) {
          throw this.normalize(err, operation, key);
        }
        if (signal.aborted) throw this.normalize(abortError(signal, run.what()), operation, key);
      }
      // No caller signal and no whole-call timeout: nothing to link, no deadline to build.
      run.deadline =
        opts.deadline ??
        (signal !== undefined || this.timeoutMs !== undefined
          ? this.deadline(signal, run.what())
          : undefined);
    } catch (err) {
      return Promise.reject(err);
    }
    // One span per portable call, retries included (a no-op without @opentelemetry/api).
    const call =
      quietCall(this.service) ??
      startCall({
        provider: this.provider,
        service: this.service,
        operation,
        name: this.name,
        key,
      });
    if (call instanceof Promise) return call.then((t) => run.start(t));
    return run.start(call);
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
    const site = `${operation} on ${this.service} "${this.name}"${key === undefined ? '' : ` key "${key}"`}`;
    return pcError('UNKNOWN', `${site} failed: ${describe(err)}`, {
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

/**
 * One portable call's attempts. The first attempt is chained without an async frame (most
 * calls succeed at once); a failure continues in `retry`, with backoff, telemetry and the
 * normalised error.
 */
class Run<T> {
  deadline: LinkedSignal | undefined;
  private attempt = 1;
  private telemetry!: CallTelemetry;

  constructor(
    private readonly runner: CallRunner,
    private readonly operation: string,
    private readonly key: string | undefined,
    private readonly fn: (signal: AbortSignal | undefined, call: CallTelemetry) => Promise<T>,
    private readonly opts: RunOptions<T>,
  ) {}

  /** What the call is, for messages; built only when one is needed. */
  what(): string {
    const { runner, operation, key } = this;
    return `${operation} on ${runner.service} "${runner.name}"${key === undefined ? '' : ` key "${key}"`}`;
  }

  start(telemetry: CallTelemetry): Promise<T> {
    this.telemetry = telemetry;
    let p: Promise<T>;
    try {
      p = this.once();
    } catch (err) {
      p = Promise.reject(err);
    }
    return p.then(
      (v) => this.ok(v),
      (err: unknown) => this.retry(err),
    );
  }

  private once(): Promise<T> {
    const { opts, runner } = this;
    const outer = this.deadline?.signal;
    if (outer === undefined && (opts.settlesAtOnce ?? runner.settlesAtOnce)) {
      return this.fn(undefined, this.telemetry);
    }
    return runAttempt(
      this.fn,
      this.telemetry,
      outer,
      opts.attemptTimeoutMs ?? runner.attemptTimeoutMs,
      opts.discard,
      this,
      runner.netScope,
    );
  }

  private ok(v: T): T {
    this.telemetry.end(this.attempt);
    this.dispose();
    return v;
  }

  private async retry(err: unknown): Promise<T> {
    const { runner, operation, key, opts } = this;
    const outer = this.deadline?.signal;
    const maxAttempts = opts.retry === false ? 1 : runner.retry.maxAttempts;
    try {
      for (;;) {
        if (outer?.aborted) throw abortError(outer, this.what());
        if (!shouldRetry(err, opts.idempotent ?? true) || this.attempt >= maxAttempts) throw err;
        this.telemetry.retry(this.attempt, runner.normalize(err, operation, key));
        await sleep(backoffDelay(runner.retry, this.attempt), outer, this.what());
        this.attempt++;
        let v: T;
        try {
          v = await this.once();
        } catch (e) {
          err = e;
          continue;
        }
        return this.ok(v);
      }
    } catch (e) {
      const n = runner.normalize(e, operation, key);
      this.telemetry.end(this.attempt, n);
      this.dispose();
      throw n;
    }
  }

  private dispose(): void {
    if (this.opts.deadline === undefined) this.deadline?.dispose();
  }
}

/**
 * One attempt: `fn` gets a signal that aborts on the call's deadline or the attempt's bound,
 * and the attempt ends when that signal aborts even if the driver ignores it (after
 * ABORT_GRACE_MS, so a driver that honours it can clean up first; a late result goes to
 * `discard`). One controller, at most one timer and one listener, and no signal at all when
 * there is neither a bound nor a deadline. (`raceAbort` is the same for callers outside a run.)
 */
function runAttempt<T>(
  fn: (signal: AbortSignal | undefined, call: CallTelemetry) => Promise<T>,
  telemetry: CallTelemetry,
  outer: AbortSignal | undefined,
  attemptMs: number,
  discard: ((late: T) => void) | undefined,
  call: { what(): string },
  netScope: boolean,
): Promise<T> {
  const bounded = attemptMs > 0 && Number.isFinite(attemptMs);
  if (outer === undefined && !bounded) return fn(undefined, telemetry);
  return new Attempt<T>(outer, bounded ? attemptMs : 0, discard, call).start(fn, telemetry, netScope);
}

/**
 * The state of one bounded attempt. One object is the attempt's bound (on the shared clock) and
 * its listener on the call's deadline (`handleEvent`), so an attempt costs a controller, this
 * object and its promise, not a closure per step.
 */
class Attempt<T> implements Bound {
  readonly controller = new AbortController();
  at = 0;
  state: 0 | 1 | 2 = 0;
  private settled = false;
  private grace: NodeJS.Timeout | undefined;
  private resolve!: (v: T) => void;
  private reject!: (err: unknown) => void;

  constructor(
    private readonly outer: AbortSignal | undefined,
    /** The attempt's bound in ms; 0: none (only the call's deadline ends it). */
    readonly ms: number,
    private readonly discard: ((late: T) => void) | undefined,
    private readonly call: { what(): string },
  ) {}

  start(
    fn: (signal: AbortSignal | undefined, call: CallTelemetry) => Promise<T>,
    telemetry: CallTelemetry,
    netScope: boolean,
  ): Promise<T> {
    const s = this.controller.signal;
    const { outer } = this;
    const result = new Promise<T>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    if (outer !== undefined) {
      if (outer.aborted) this.abort(outer.reason);
      else outer.addEventListener('abort', this, { once: true });
    }
    if (!s.aborted && this.ms > 0) watch(this);
    // gRPC drivers pass the remaining time to calls that take no signal (see remainingMs).
    markAttempt(s, outer, this.ms > 0 ? this : undefined);
    let p: Promise<T>;
    try {
      // Requests of SDKs that ignore the signal end with the attempt (see http-abort.ts).
      p = netScope ? abortHttpOn(s, () => fn(s, telemetry)) : fn(s, telemetry);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (v) => this.done(v),
      (e: unknown) => this.failed(e),
    );
    return result;
  }

  /** The call's deadline aborted (an EventListener object, so no closure per attempt). */
  handleEvent(): void {
    this.abort(this.outer!.reason);
  }

  /** The bound passed (called by the shared clock). */
  fire(): void {
    this.abort(new DOMException(`${this.call.what()} timed out after ${this.ms} ms`, 'TimeoutError'));
  }

  private abort(reason: unknown): void {
    if (this.settled || this.controller.signal.aborted) return;
    this.controller.abort(reason);
    // The driver gets ABORT_GRACE_MS to honour the signal and clean up before the caller hears.
    this.grace = setTimeout(() => this.giveUp(), ABORT_GRACE_MS);
  }

  private giveUp(): void {
    if (this.settled) return;
    this.settled = true;
    this.unlink();
    this.reject(abortError(this.controller.signal, this.call.what()));
  }

  private unlink(): void {
    if (this.ms > 0) unwatch(this);
    this.outer?.removeEventListener('abort', this);
  }

  private done(v: T): void {
    if (this.grace !== undefined) clearTimeout(this.grace);
    if (this.settled) {
      this.discard?.(v);
      return;
    }
    this.settled = true;
    this.unlink();
    this.resolve(v);
  }

  private failed(e: unknown): void {
    if (this.grace !== undefined) clearTimeout(this.grace);
    if (this.settled) return;
    this.settled = true;
    this.unlink();
    const s = this.controller.signal;
    this.reject(s.aborted ? abortError(s, this.call.what()) : e);
  }
}

/** An attempt's time bound: `fire` runs once `ms` have passed. */
interface Bound {
  readonly ms: number;
  /** performance.now() ms when it fires; set when the bound is handed to the clock. */
  at: number;
  /** 0 pending, 1 on the clock, 2 done. */
  state: 0 | 1 | 2;
  readonly fire: () => void;
}

/**
 * Attempt bounds share one timer instead of a setTimeout each: most attempts end long before
 * their bound, and a timer per call (created, inserted, cleared) cost more CPU than the rest of
 * a memory-adapter call. A new bound waits in `pending` until the current turn of the event
 * loop ends (one setImmediate for all of them), so attempts that finish within it never touch
 * the clock; the others start counting then. The clock is armed for the earliest bound, re-armed
 * when it fires, and ref'd only while some bound is on it, so an idle process exits.
 */
const pending: Bound[] = [];
let flushScheduled = false;
const bounds = new Set<Bound>();
let clock: NodeJS.Timeout | undefined;
let clockAt = Number.POSITIVE_INFINITY;

function watch(b: Bound): void {
  pending.push(b);
  // A long run of calls that never yields to the event loop: drop the finished ones.
  if (pending.length >= 1024 && pending.length % 1024 === 0) {
    let n = 0;
    for (const p of pending) if (p.state === 0) pending[n++] = p;
    pending.length = n;
  }
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}

function flush(): void {
  flushScheduled = false;
  const now = performance.now();
  for (const b of pending) {
    if (b.state !== 0) continue;
    b.state = 1;
    b.at = now + b.ms;
    bounds.add(b);
    if (b.at < clockAt) {
      if (clock !== undefined) clearTimeout(clock);
      clockAt = b.at;
      clock = setTimeout(sweep, b.ms);
    }
  }
  pending.length = 0;
  if (bounds.size > 0) clock?.ref();
}

function unwatch(b: Bound): void {
  const was = b.state;
  b.state = 2;
  if (was === 1 && bounds.delete(b) && bounds.size === 0) clock?.unref();
}

function sweep(): void {
  clock = undefined;
  clockAt = Number.POSITIVE_INFINITY;
  const now = performance.now();
  let next = Number.POSITIVE_INFINITY;
  for (const b of bounds) {
    if (b.at <= now + 1) {
      bounds.delete(b);
      b.state = 2;
      b.fire();
    } else if (b.at < next) next = b.at;
  }
  if (next !== Number.POSITIVE_INFINITY && clock === undefined) {
    clockAt = next;
    clock = setTimeout(sweep, Math.max(0, next - now));
  }
  if (bounds.size === 0) clock?.unref();
}
