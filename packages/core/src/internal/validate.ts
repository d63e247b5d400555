import { invalidArgument } from '../errors.js';

type Ctx = {
  provider?: string;
  service: 'blob' | 'queue' | 'kv';
  operation: string;
  resource: { name: string };
};

/** Rejects non-objects and unknown option names, so a typo is not silently ignored. */
export function checkOptions(opts: unknown, allowed: readonly string[], ctx: Ctx): void {
  if (opts === undefined) return;
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) {
    throw invalidArgument(`${ctx.operation}: options must be an object`, ctx);
  }
  for (const k of Object.keys(opts)) {
    if (!allowed.includes(k)) {
      throw invalidArgument(
        `${ctx.operation} on ${ctx.service} "${ctx.resource.name}": unknown option "${k}"; allowed: ${allowed.join(', ')}`,
        ctx,
      );
    }
  }
  if ('signal' in opts) checkSignal((opts as { signal?: unknown }).signal, ctx);
}

/**
 * Whether {@link checkOptions} would accept `opts`, without building anything: callers on a hot
 * path run it first and build the error context for checkOptions only when it says no.
 */
export function optionsOk(opts: unknown, allowed: readonly string[]): boolean {
  if (opts === undefined) return true;
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) return false;
  for (const k in opts) {
    if (!Object.hasOwn(opts, k)) continue;
    if (!allowed.includes(k)) return false;
  }
  if (!('signal' in opts)) return true;
  const signal = (opts as { signal?: unknown }).signal;
  return signal === undefined || signal instanceof AbortSignal;
}

export function checkInt(
  value: unknown,
  name: string,
  min: number,
  max: number,
  ctx: Ctx,
): asserts value is number | undefined {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidArgument(
      `${ctx.operation} on ${ctx.service} "${ctx.resource.name}": ${name} must be an integer from ${min} to ${max}, got ${describeValue(value)}`,
      ctx,
    );
  }
}

export function checkString(value: unknown, name: string, ctx: Ctx): asserts value is string | undefined {
  if (value === undefined) return;
  if (typeof value !== 'string' || value.length === 0) {
    throw invalidArgument(
      `${ctx.operation} on ${ctx.service} "${ctx.resource.name}": ${name} must be a non-empty string`,
      ctx,
    );
  }
}

/** A short, never-throwing description of a value for error messages. */
export function describeValue(value: unknown): string {
  try {
    if (typeof value === 'bigint') return `${value}n`;
    if (typeof value === 'string')
      return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
    if (value === null || typeof value !== 'object') return String(value);
    return Array.isArray(value) ? 'an array' : `an object (${Object.prototype.toString.call(value)})`;
  } catch {
    return typeof value;
  }
}

/**
 * An AbortSignal, or undefined. Anything else (e.g. `{}`) is rejected up front: a look-alike
 * would otherwise fail deep inside a retry timer, outside the call's promise.
 */
export function checkSignal(value: unknown, ctx: Ctx): asserts value is AbortSignal | undefined {
  if (value === undefined) return;
  if (!(value instanceof AbortSignal)) {
    throw invalidArgument(
      `${ctx.operation} on ${ctx.service} "${ctx.resource.name}": signal must be an AbortSignal (e.g. AbortSignal.timeout(ms) or new AbortController().signal), got ${describeValue(value)}`,
      ctx,
    );
  }
}

/**
 * Checks what `openBucket`/`openQueue`/`openKv` were given before anything loads or connects:
 * a string or URL whose host and path decode, and an options object.
 */
const PORTABLE_OPEN = ['timeoutMs', 'attemptTimeoutMs', 'idleTimeoutMs', 'retry', 'driverOptions', 'signal'];
/** The options `openBucket`/`openQueue`/`openKv` take: the portable ones and `driverOptions`. */
const OPEN_OPTIONS: Record<'blob' | 'queue' | 'kv', readonly string[]> = {
  blob: [...PORTABLE_OPEN, 'partSize', 'concurrency', 'encryption'],
  queue: [...PORTABLE_OPEN, 'codec', 'claimCheck'],
  kv: PORTABLE_OPEN,
};

export function checkOpenArgs(url: unknown, opts: unknown, service: 'blob' | 'queue' | 'kv'): void {
  const ctx = { service, operation: 'open' } as const;
  if (typeof url !== 'string' && !(url instanceof URL)) {
    throw invalidArgument(
      `open${service === 'blob' ? 'Bucket' : service === 'queue' ? 'Queue' : 'Kv'}: the URL must be a string or URL, got ${describeValue(url)} (is the environment variable set?)`,
      ctx,
    );
  }
  if (opts !== undefined && (opts === null || typeof opts !== 'object' || Array.isArray(opts))) {
    throw invalidArgument(`open: options must be an object, got ${describeValue(opts)}`, ctx);
  }
  const fn = `open${service === 'blob' ? 'Bucket' : service === 'queue' ? 'Queue' : 'Kv'}`;
  const allowed = OPEN_OPTIONS[service];
  for (const k of Object.keys(opts ?? {})) {
    // A misspelt option (timeout for timeoutMs) would otherwise be ignored without a word.
    if (!allowed.includes(k)) {
      throw invalidArgument(
        `${fn}: unknown option "${k}"; allowed: ${allowed.join(', ')} (adapter settings such as a client or credentials go in driverOptions)`,
        ctx,
      );
    }
  }
  for (const k of ['timeoutMs', 'attemptTimeoutMs', 'idleTimeoutMs'] as const) {
    const v = (opts as Record<string, unknown> | undefined)?.[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
      throw invalidArgument(
        `open: ${k} must be a non-negative number of milliseconds, got ${describeValue(v)}`,
        ctx,
      );
    }
  }
  // Settings the object would refuse are refused here too, before the adapter does any I/O.
  const o = (opts ?? {}) as { retry?: unknown; codec?: unknown };
  if (o.retry !== undefined) {
    const r = o.retry as Record<string, unknown> | null;
    const bad =
      typeof r !== 'object' ||
      r === null ||
      Object.keys(r).some((k) => !['maxAttempts', 'initialDelayMs', 'maxDelayMs'].includes(k)) ||
      (r.maxAttempts !== undefined && (!Number.isInteger(r.maxAttempts) || (r.maxAttempts as number) < 1)) ||
      [r.initialDelayMs, r.maxDelayMs].some(
        (d) => d !== undefined && (typeof d !== 'number' || !Number.isFinite(d) || d < 0),
      );
    if (bad) {
      throw invalidArgument(
        `open: retry must be { maxAttempts?: integer >= 1, initialDelayMs?: ms >= 0, maxDelayMs?: ms >= 0 }, got ${describeValue(o.retry)}`,
        ctx,
      );
    }
  }
  if (service === 'queue' && o.codec !== undefined) {
    const c = o.codec as { encode?: unknown; decode?: unknown } | null;
    if (
      typeof c !== 'object' ||
      c === null ||
      typeof c.encode !== 'function' ||
      typeof c.decode !== 'function'
    ) {
      throw invalidArgument(
        'openQueue: codec must be an object with encode(value) and decode(bytes) functions (e.g. jsonCodec, textCodec, bytesCodec)',
        ctx,
      );
    }
  }
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return; // the opener reports unparsable URLs with the schemes it knows
  }
  for (const part of [parsed.hostname, ...parsed.pathname.split('/')]) {
    try {
      decodeURIComponent(part);
    } catch (err) {
      throw invalidArgument(
        `open: "${part}" in the URL is not valid percent-encoding (each % must start %XX of UTF-8); fix the URL`,
        { ...ctx, cause: err },
      );
    }
  }
  if (opts !== undefined && 'signal' in opts) {
    checkSignal((opts as { signal?: unknown }).signal, { ...ctx, resource: { name: parsed.href } });
  }
}
