/** Every failure polycloud reports, whatever the provider. */
export const ERROR_CODES = [
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PRECONDITION_FAILED',
  'INVALID_ARGUMENT',
  'UNSUPPORTED',
  'PAYLOAD_TOO_LARGE',
  'PERMISSION_DENIED',
  'UNAUTHENTICATED',
  'THROTTLED',
  'UNAVAILABLE',
  'TIMEOUT',
  'CANCELLED',
  'INTERNAL',
  'UNKNOWN',
] as const;

/** A portable error code: the same failure has the same code on every provider (see ERROR_CODES). */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Codes that are worth retrying unless the caller says otherwise. */
const RETRYABLE_BY_DEFAULT: ReadonlySet<ErrorCode> = new Set([
  'THROTTLED',
  'UNAVAILABLE',
  'TIMEOUT',
  'INTERNAL',
]);

/** What a PolycloudError is built from: the portable code, retryability, where it happened and the native cause. */
export interface PolycloudErrorOptions {
  code: ErrorCode;
  message: string;
  retryable?: boolean;
  provider?: string;
  service?: 'blob' | 'queue' | 'kv' | 'functions' | 'core';
  operation?: string;
  /** Bucket/queue/table name, and the key where one applies. */
  resource?: { name?: string; key?: string };
  cause?: unknown;
}

// A brand on the instance lets `isPolycloudError` recognise errors thrown by another copy of
// this package (two versions in node_modules), where `instanceof` would say no.
const BRAND = Symbol.for('polycloud.error');

/**
 * The one error type polycloud throws. The native SDK error, where there is one, is `cause`.
 *
 * @example
 * try { await bucket.head('missing') } catch (e) { if (isPolycloudError(e, 'NOT_FOUND')) ... }
 */
export class PolycloudError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly provider: string | undefined;
  readonly service: PolycloudErrorOptions['service'];
  readonly operation: string | undefined;
  readonly resource: { name?: string; key?: string } | undefined;
  readonly [BRAND] = true;

  constructor(opts: PolycloudErrorOptions) {
    super(opts.message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'PolycloudError';
    this.code = opts.code;
    this.retryable = opts.retryable ?? RETRYABLE_BY_DEFAULT.has(opts.code);
    this.provider = opts.provider;
    this.service = opts.service;
    this.operation = opts.operation;
    this.resource = opts.resource;
  }

  /** Copy with context filled in where the thrower did not know it. */
  withContext(ctx: Partial<Pick<PolycloudErrorOptions, 'provider' | 'service' | 'operation' | 'resource'>>) {
    const e = new PolycloudError({
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      provider: this.provider ?? ctx.provider,
      service: this.service ?? ctx.service,
      operation: this.operation ?? ctx.operation,
      resource: { ...ctx.resource, ...this.resource },
      cause: this.cause,
    });
    e.stack = this.stack;
    return e;
  }
}

/**
 * Structural check that works across duplicated package copies.
 *
 * @example
 * if (isPolycloudError(err, 'PRECONDITION_FAILED')) { // someone else wrote first }
 */
export function isPolycloudError(err: unknown, code?: ErrorCode): err is PolycloudError {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { [BRAND]?: unknown; code?: unknown; name?: unknown };
  const branded = e[BRAND] === true || (e.name === 'PolycloudError' && typeof e.code === 'string');
  if (!branded) return false;
  return code === undefined || e.code === code;
}

/** Shorthand used by core and drivers. */
export function pcError(
  code: ErrorCode,
  message: string,
  extra: Omit<PolycloudErrorOptions, 'code' | 'message'> = {},
): PolycloudError {
  return new PolycloudError({ code, message, ...extra });
}

export function invalidArgument(
  message: string,
  extra: Omit<PolycloudErrorOptions, 'code' | 'message'> = {},
) {
  return pcError('INVALID_ARGUMENT', message, extra);
}

/** Maps an HTTP status to a code; drivers use it as the fallback for errors they don't name. */
export function codeFromHttpStatus(status: number | undefined): ErrorCode {
  switch (status) {
    case undefined:
      return 'UNKNOWN';
    case 400:
      return 'INVALID_ARGUMENT';
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'PERMISSION_DENIED';
    case 404:
      return 'NOT_FOUND';
    case 409:
      return 'ALREADY_EXISTS';
    case 412:
      return 'PRECONDITION_FAILED';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 408:
    case 504:
      return 'TIMEOUT';
    case 429:
      return 'THROTTLED';
    case 499:
      return 'CANCELLED';
    case 500:
      return 'INTERNAL';
    case 502:
    case 503:
      return 'UNAVAILABLE';
    default:
      return status >= 500 ? 'UNAVAILABLE' : 'UNKNOWN';
  }
}

/** Maps a gRPC status code (number) to a code. */
export function codeFromGrpcStatus(status: number | undefined): ErrorCode {
  switch (status) {
    case 1:
      return 'CANCELLED';
    case 3:
    case 11:
      return 'INVALID_ARGUMENT';
    case 4:
      return 'TIMEOUT';
    case 5:
      return 'NOT_FOUND';
    case 6:
      return 'ALREADY_EXISTS';
    case 7:
      return 'PERMISSION_DENIED';
    case 8:
      return 'THROTTLED';
    case 9:
    case 10:
      return 'PRECONDITION_FAILED';
    case 12:
      return 'UNSUPPORTED';
    case 13:
      return 'INTERNAL';
    case 14:
      return 'UNAVAILABLE';
    case 16:
      return 'UNAUTHENTICATED';
    default:
      return 'UNKNOWN';
  }
}

/** Turns an abort reason into the error the caller should see. */
export function abortError(signal: AbortSignal, what: string): PolycloudError {
  const reason: unknown = signal.reason;
  if (isPolycloudError(reason)) return reason;
  const timedOut = reason instanceof Error && reason.name === 'TimeoutError';
  return pcError(
    timedOut ? 'TIMEOUT' : 'CANCELLED',
    timedOut ? `${what} timed out` : `${what} was cancelled`,
    {
      cause: reason,
      retryable: timedOut,
    },
  );
}
