/** Structured logging for a function invocation; fields are merged into the record. */
export interface FunctionLogger {
  /** Detail useful only while diagnosing a problem. */
  debug(message: string, fields?: Readonly<Record<string, unknown>>): void;
  /** A normal event worth keeping in the logs. */
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
  /** Something went wrong but the invocation carries on. */
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
  /** A failure; the invocation or one of its messages did not succeed. */
  error(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

/**
 * What every handler gets besides its event: the same fields on every platform.
 *
 * `signal` fires shortly before `deadline` (and when the host shuts down), so work can stop and
 * report failure while the platform still listens.
 */
export interface FunctionContext<TNative = unknown> {
  /** The platform's id for this invocation (Lambda request id, Cloud Functions execution id, Azure invocation id). */
  readonly requestId: string;
  /** When the platform stops the invocation, where it says; undefined when it has no deadline. */
  readonly deadline: Date | undefined;
  /** Aborted before `deadline` (or when the host stops): stop work and let the message be retried. */
  readonly signal: AbortSignal;
  readonly logger: FunctionLogger;
  /** 'aws', 'gcp', 'azure' or 'local'. */
  readonly provider: string;
  /** The raw platform event and context, as the binding received them. */
  native(): TNative;
}

/** How long before the deadline `signal` fires: 10% of the time left, between 50 ms and 2 s. */
export function abortMargin(remainingMs: number): number {
  return Math.min(2000, Math.max(50, Math.floor(remainingMs / 10)));
}

/** A logger writing one JSON line per record to the console, tagged with the request id. */
export function consoleLogger(requestId: string, provider: string): FunctionLogger {
  const write =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, fields?: Readonly<Record<string, unknown>>) => {
      const line = JSON.stringify({ level, message, requestId, provider, ...fields });
      if (level === 'error') console.error(line);
      else if (level === 'warn') console.warn(line);
      else if (level === 'debug') console.debug(line);
      else console.log(line);
    };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** What a binding knows about an invocation. */
export interface ContextInit<TNative> {
  readonly requestId: string;
  readonly provider: string;
  readonly native: TNative;
  /** Absolute deadline in epoch milliseconds, where the platform gives one. */
  readonly deadlineMs?: number | undefined;
  readonly logger?: FunctionLogger | undefined;
  /** Aborts the context too (e.g. a local server shutting down). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Builds a context for one invocation. Call `done()` when the invocation ends, so the deadline
 * timer does not keep the process alive.
 */
export function createFunctionContext<TNative>(init: ContextInit<TNative>): {
  readonly ctx: FunctionContext<TNative>;
  /** Ends the invocation: clears the deadline timer so it does not keep the process alive. */
  done(): void;
} {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = init.deadlineMs !== undefined ? new Date(init.deadlineMs) : undefined;
  if (init.deadlineMs !== undefined) {
    const remaining = init.deadlineMs - Date.now();
    const fireIn = Math.max(0, remaining - abortMargin(remaining));
    timer = setTimeout(() => {
      controller.abort(
        new DOMException(`the invocation deadline (${deadline?.toISOString()}) is near`, 'TimeoutError'),
      );
    }, fireIn);
    timer.unref?.();
  }
  const onOuter = () => controller.abort(init.signal?.reason);
  if (init.signal?.aborted) controller.abort(init.signal.reason);
  else init.signal?.addEventListener('abort', onOuter, { once: true });
  const ctx: FunctionContext<TNative> = {
    requestId: init.requestId,
    deadline,
    signal: controller.signal,
    logger: init.logger ?? consoleLogger(init.requestId, init.provider),
    provider: init.provider,
    native: () => init.native,
  };
  return {
    ctx,
    done() {
      if (timer !== undefined) clearTimeout(timer);
      init.signal?.removeEventListener('abort', onOuter);
    },
  };
}
