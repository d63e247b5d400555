/**
 * Maps errors of the Google Cloud SDKs (HTTP errors from Cloud Storage, gRPC errors from
 * Pub/Sub and Bigtable, Node network errors) to PolycloudError. Every driver funnels its
 * failures through `gcpError`, so no native error reaches the caller; the native one is `cause`.
 */
import {
  codeFromGrpcStatus,
  codeFromHttpStatus,
  type ErrorCode,
  isPolycloudError,
  PolycloudError,
} from '@polycloud/core';

export type GcpService = 'blob' | 'queue' | 'kv';

/** Where a failure happened: service, operation and the resource names for the message. */
export interface ErrorContext {
  readonly service: GcpService;
  readonly operation: string;
  /** Bucket, topic/subscription or table. */
  readonly name: string;
  readonly key?: string | undefined;
}

const PROVIDER = 'gcp';

/** Codes retried by the portable layer unless said otherwise. */
const RETRYABLE: ReadonlySet<ErrorCode> = new Set(['THROTTLED', 'UNAVAILABLE', 'TIMEOUT', 'INTERNAL']);

/** Node/network error codes that mean "try again" (the request may not have reached the service). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

const HINTS: Partial<Record<ErrorCode, string>> = {
  NOT_FOUND: 'check that it exists and that the name is right',
  PERMISSION_DENIED: 'check the IAM roles of the credentials in use',
  UNAUTHENTICATED:
    'check the application default credentials (gcloud auth application-default login, GOOGLE_APPLICATION_CREDENTIALS)',
  THROTTLED: 'the service is rate limiting; slow down or retry later',
  UNAVAILABLE: 'the service could not be reached; retry later',
};

function describe(err: unknown): string {
  if (err instanceof Error) {
    const details = (err as { details?: unknown }).details;
    return typeof details === 'string' && details.length > 0 && !err.message.includes(details)
      ? `${err.message} (${details})`
      : err.message;
  }
  return String(err);
}

/** The HTTP status of a Cloud Storage error (ApiError, GaxiosError, resumable upload errors). */
export function httpStatusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as {
    code?: unknown;
    status?: unknown;
    response?: { status?: unknown; statusCode?: unknown };
  };
  for (const v of [e.code, e.status, e.response?.status, e.response?.statusCode]) {
    if (typeof v === 'number' && v >= 100 && v < 600) return v;
    if (typeof v === 'string' && /^[1-5]\d\d$/.test(v)) return Number(v);
  }
  return undefined;
}

/** The gRPC status code of a Pub/Sub or Bigtable error. */
export function grpcCodeOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' && code >= 0 && code <= 16 ? code : undefined;
}

function networkCodeOf(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function isAbort(err: unknown): boolean {
  return (
    err instanceof Error && (err.name === 'AbortError' || (err as { code?: unknown }).code === 'ABORT_ERR')
  );
}

/** A gRPC RESOURCE_EXHAUSTED that is about message size, not quota. */
function isSizeError(message: string): boolean {
  return /larger than max|message too large|exceeds the maximum|too large|max(imum)? (message|request) size/i.test(
    message,
  );
}

/**
 * Maps any error to a PolycloudError with provider 'gcp' and the given context.
 * `transport` says how to read a numeric `code`: HTTP status (Cloud Storage) or gRPC status.
 */
export function gcpError(
  err: unknown,
  ctx: ErrorContext,
  transport: 'http' | 'grpc',
  override: { code?: ErrorCode; message?: string; retryable?: boolean } = {},
): PolycloudError {
  const resource = { name: ctx.name, ...(ctx.key === undefined ? {} : { key: ctx.key }) };
  if (isPolycloudError(err) && override.code === undefined) {
    return err instanceof PolycloudError
      ? err.withContext({ provider: PROVIDER, service: ctx.service, operation: ctx.operation, resource })
      : err;
  }
  const native = describe(err);
  let code: ErrorCode;
  let retryable: boolean | undefined;
  const net = networkCodeOf(err);
  if (override.code !== undefined) {
    code = override.code;
  } else if (isAbort(err)) {
    code = 'CANCELLED';
    retryable = false;
  } else if (net !== undefined) {
    code = 'UNAVAILABLE';
  } else if (transport === 'http') {
    const status = httpStatusOf(err);
    code = codeFromHttpStatus(status);
    if (status === 416) code = 'INVALID_ARGUMENT';
    if (status === undefined && /timed? ?out/i.test(native)) code = 'TIMEOUT';
  } else {
    const status = grpcCodeOf(err);
    code = codeFromGrpcStatus(status);
    // A gRPC size limit (sometimes wrapped by the client's retry loop in a timeout error).
    if ((status === 8 && isSizeError(native)) || /received message larger than max/i.test(native)) {
      code = 'PAYLOAD_TOO_LARGE';
      retryable = false;
    }
    // ABORTED: a concurrent change got in the way; Google's own clients retry it.
    if (status === 10) code = 'UNAVAILABLE';
    // The client's own deadline: worth another try.
    if (status === 4 && code === 'TIMEOUT') retryable = true;
  }
  if (override.retryable !== undefined) retryable = override.retryable;
  const where = `${ctx.operation} on ${ctx.service} "${ctx.name}"${ctx.key === undefined ? '' : ` key "${ctx.key}"`}`;
  const hint = HINTS[code];
  const message = override.message ?? `${where} failed (gcp ${code}): ${native}${hint ? `; ${hint}` : ''}`;
  return new PolycloudError({
    code,
    message,
    retryable: retryable ?? RETRYABLE.has(code),
    provider: PROVIDER,
    service: ctx.service,
    operation: ctx.operation,
    resource,
    cause: err,
  });
}

/** Rejects as soon as `signal` aborts (the SDK call itself may keep running in the background). */
export function raceSignal<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  onAbort?: () => void,
): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    onAbort?.();
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort?.();
      promise.catch(() => {});
      reject(signal.reason);
    };
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', abort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(e);
      },
    );
  });
}
