import { type ErrorCode, isPolycloudError, PolycloudError } from '../errors.js';

/** Codes the portable layer retries unless a classification says otherwise. */
export const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set([
  'THROTTLED',
  'UNAVAILABLE',
  'TIMEOUT',
  'INTERNAL',
]);

/**
 * Node, undici and SDK codes of a transport failure: the connection broke, so the request may
 * or may not have reached the service. One list for every adapter.
 */
const TRANSPORT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_SESSION_ERROR',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  // Azure core: the request could not be sent, or a cut-off body could not be parsed.
  'REQUEST_SEND_ERROR',
  'PARSE_ERROR',
]);

/** Failures before the request was sent: it cannot have been applied. */
const CONNECT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Messages of transport failures that carry no code (node:http, undici, fetch). */
const TRANSPORT_MESSAGE =
  /socket hang up|premature close|other side closed|\bterminated\b|ECONNRESET|ECONNREFUSED|EPIPE|network error|aborted by the server|unexpected end of (file|stream)/i;

/** Depth bound for `cause` chains (they can be cyclic in the wild). */
const MAX_CAUSE_DEPTH = 8;

/** The error and its causes (and the members of an AggregateError), nearest first. */
export function* causeChain(err: unknown): Generator<object> {
  const seen = new Set<unknown>();
  const queue: { e: unknown; depth: number }[] = [{ e: err, depth: 0 }];
  while (queue.length > 0) {
    const { e, depth } = queue.shift()!;
    if (typeof e !== 'object' || e === null || seen.has(e) || depth > MAX_CAUSE_DEPTH) continue;
    seen.add(e);
    yield e;
    queue.push({ e: (e as { cause?: unknown }).cause, depth: depth + 1 });
    const members = (e as { errors?: unknown }).errors;
    if (Array.isArray(members)) for (const m of members) queue.push({ e: m, depth: depth + 1 });
  }
}

/**
 * Whether `err` (or anything in its `cause` chain) is a transport failure: a reset, refused or
 * timed-out connection, a body cut short. Such a failure is UNAVAILABLE and retryable on every
 * adapter; this is the one place that decides it.
 */
export function isTransportError(err: unknown): boolean {
  for (const e of causeChain(err)) {
    if (isPolycloudError(e)) return false;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSPORT_CODES.has(code)) return true;
    const errno = (e as { errno?: unknown }).errno;
    if (typeof errno === 'string' && TRANSPORT_CODES.has(errno)) return true;
    const message = (e as { message?: unknown }).message;
    // A status means the service answered; its own message may mention anything.
    if (statusOf(e) === undefined && typeof message === 'string' && TRANSPORT_MESSAGE.test(message))
      return true;
  }
  return false;
}

/**
 * Whether a transport failure happened before the request could be sent (connection refused,
 * DNS, connect timeout): then the service never saw it.
 */
export function isConnectError(err: unknown): boolean {
  for (const e of causeChain(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECT_CODES.has(code)) return true;
  }
  return false;
}

/**
 * Whether `err` is an abort (AbortError / ABORT_ERR). The caller's own abort is turned into
 * CANCELLED or TIMEOUT by the call runner, which knows the signal; an abort the caller did not
 * ask for (an SDK's internal timer, a socket the transport gave up on) is a transport failure.
 */
export function isAbortError(err: unknown): boolean {
  for (const e of causeChain(err)) {
    const name = (e as { name?: unknown }).name;
    const code = (e as { code?: unknown }).code;
    if (name === 'AbortError' || code === 'ABORT_ERR') return true;
  }
  return false;
}

function statusOf(e: object): number | undefined {
  const s =
    (e as { statusCode?: unknown }).statusCode ??
    (e as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  return typeof s === 'number' ? s : undefined;
}

/** What a driver says about a native error: the portable code, and whether to retry. */
export interface Classification {
  readonly code: ErrorCode;
  /** Default: RETRYABLE_CODES has the code. */
  readonly retryable?: boolean;
  /** The native error's name or code for the message (e.g. `NoSuchKey`, `HTTP 404`). */
  readonly native?: string;
}

/** A driver's classifier: native error → portable code. Transport failures never reach it. */
export type Classify = (native: unknown) => Classification;

/** Where a driver error happened; the call runner fills in what a driver leaves out. */
export interface ErrorSite {
  readonly provider: string;
  readonly service: 'blob' | 'queue' | 'kv';
  readonly operation: string;
  /** Bucket, queue or table name. */
  readonly name: string;
  readonly key?: string | undefined;
}

/** Options of `wrapError`. */
export interface WrapOptions {
  /** A hint per code appended to the message ("check the IAM policy ..."). */
  readonly hints?: Partial<Record<ErrorCode, string>>;
  /** Forces a code (the driver knows better, e.g. a size error behind a generic name). */
  readonly override?: { readonly code: ErrorCode; readonly retryable?: boolean };
  /**
   * The native error's text for the message, where the SDK's own message says nothing (e.g.
   * "Unexpected status code: 404" with the service's explanation elsewhere). Default: `describe`.
   */
  readonly describe?: (err: unknown) => string | undefined;
}

/**
 * The kit's error wrapper: any native error → PolycloudError, with the native error as `cause`.
 * Transport failures (anywhere in the `cause` chain) and aborts the caller did not ask for are
 * UNAVAILABLE and retryable; everything else goes through the driver's `classify`.
 * PolycloudErrors pass through with the site filled in where they lacked it.
 *
 * @example
 * catch (err) { throw wrapError(err, { provider: 'aws', service: 'blob', operation: 'get', name }, classifyAws) }
 */
export function wrapError(
  err: unknown,
  site: ErrorSite,
  classify: Classify,
  opts: WrapOptions = {},
): PolycloudError {
  const resource = { name: site.name, ...(site.key === undefined ? {} : { key: site.key }) };
  const context = { provider: site.provider, service: site.service, operation: site.operation, resource };
  if (isPolycloudError(err) && opts.override === undefined) {
    return err instanceof PolycloudError ? err.withContext(context) : err;
  }
  let c: Classification;
  let outcomeUnknown = false;
  if (opts.override !== undefined) {
    const { native } = classifySafe(classify, err);
    c = { ...opts.override, ...(native === undefined ? {} : { native }) };
  } else if (isTransportError(err) || isAbortError(err)) {
    c = { code: 'UNAVAILABLE', retryable: true, native: 'connection failed' };
    outcomeUnknown = !isConnectError(err);
  } else c = classifySafe(classify, err);
  const where = `${site.operation} on ${site.service} "${site.name}"${site.key === undefined ? '' : ` key "${site.key}"`} (${site.provider})`;
  const hint = opts.hints?.[c.code] ?? DEFAULT_HINTS[c.code];
  const native = c.native === undefined ? '' : `${c.native}: `;
  return new PolycloudError({
    code: c.code,
    message: `${where} failed: ${native}${opts.describe?.(err) ?? describe(err)}${hint ? `; ${hint}` : ''}${outcomeUnknown ? OUTCOME_UNKNOWN : ''}`,
    retryable: c.retryable ?? RETRYABLE_CODES.has(c.code),
    ...context,
    cause: err,
    outcomeUnknown,
  });
}

function classifySafe(classify: Classify, err: unknown): Classification {
  try {
    return classify(err);
  } catch {
    return { code: 'UNKNOWN', retryable: false };
  }
}

const OUTCOME_UNKNOWN =
  ' (the request was sent before the connection failed, so it may have been applied: read back before repeating a non-idempotent write)';

const DEFAULT_HINTS: Partial<Record<ErrorCode, string>> = {
  UNAVAILABLE: 'the service or the network failed; the call may be retried',
  THROTTLED: 'slow down or raise the service limit; the call may be retried',
};

/** The first non-empty line of a native error's message (SDK messages can be pages long). */
export function describe(err: unknown): string {
  if (err instanceof Error) {
    const details = (err as { details?: unknown }).details;
    const first =
      err.message
        .split('\n')
        .find((l) => l.trim().length > 0)
        ?.trim() ?? err.name;
    const msg =
      typeof details === 'string' && details.length > 0 && !first.includes(details)
        ? `${first} (${details})`
        : first;
    return msg.slice(0, 500);
  }
  return String(err).slice(0, 500);
}

/**
 * A native transport failure (or an abort nobody asked for) as UNAVAILABLE, retryable; undefined
 * for anything else. Used where a native error escapes a driver, such as a body stream that
 * breaks while the caller reads it.
 */
export function transportFailure(err: unknown, what: string): PolycloudError | undefined {
  if (isPolycloudError(err) || !(isTransportError(err) || isAbortError(err))) return undefined;
  const outcomeUnknown = !isConnectError(err);
  return new PolycloudError({
    code: 'UNAVAILABLE',
    message: `${what} failed: connection failed: ${describe(err)}; the call may be retried${outcomeUnknown ? OUTCOME_UNKNOWN : ''}`,
    retryable: true,
    cause: err,
    outcomeUnknown,
  });
}
