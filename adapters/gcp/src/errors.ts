/**
 * Maps errors of the Google Cloud SDKs (HTTP errors from Cloud Storage, gRPC errors from
 * Pub/Sub and Bigtable, Node network errors) to PolycloudError. Every driver funnels its
 * failures through `gcpError`, so no native error reaches the caller; the native one is `cause`.
 */
import {
  type Classify,
  codeFromGrpcStatus,
  codeFromHttpStatus,
  describe,
  type ErrorCode,
  type ErrorSite,
  isPolycloudError,
  PolycloudError,
  remainingMs,
  wrapError,
} from '@polycloud/core/driver/base';

export type GcpService = 'blob' | 'queue' | 'kv';

/** Where an error happened (the kit's ErrorSite, the provider filled in by the adapter). */
export type ErrorContext = Omit<ErrorSite, 'provider'>;

const PROVIDER = 'gcp';

const HINTS: Partial<Record<ErrorCode, string>> = {
  NOT_FOUND: 'check that it exists and that the name is right',
  PERMISSION_DENIED: 'check the IAM roles of the credentials in use',
  UNAUTHENTICATED:
    'check the application default credentials (gcloud auth application-default login, GOOGLE_APPLICATION_CREDENTIALS)',
  THROTTLED: 'the service is rate limiting; slow down or retry later',
  UNAVAILABLE: 'the service could not be reached; retry later',
};

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

/** A gRPC RESOURCE_EXHAUSTED that is about message size, not quota. */
function isSizeError(message: string): boolean {
  return /larger than max|message too large|exceeds the maximum|too large|max(imum)? (message|request) size/i.test(
    message,
  );
}

/** Classifies an HTTP error of Cloud Storage. */
export const classifyGcsHttp: Classify = (err) => {
  const status = httpStatusOf(err);
  if (status === 416) return { code: 'INVALID_ARGUMENT', native: 'HTTP 416' };
  if (status === undefined && /timed? ?out/i.test(describe(err))) return { code: 'TIMEOUT' };
  return { code: codeFromHttpStatus(status), ...(status === undefined ? {} : { native: `HTTP ${status}` }) };
};

/** Classifies a gRPC error of Pub/Sub or Bigtable. */
export const classifyGrpc: Classify = (err) => {
  const status = grpcCodeOf(err);
  const native = status === undefined ? undefined : `gRPC ${status}`;
  const text = describe(err);
  const base = native === undefined ? {} : { native };
  // A gRPC size limit (sometimes wrapped by the client's retry loop in a timeout error).
  if ((status === 8 && isSizeError(text)) || /received message larger than max/i.test(text))
    return { code: 'PAYLOAD_TOO_LARGE', retryable: false, ...base };
  // ABORTED: a concurrent change got in the way; Google's own clients retry it.
  if (status === 10) return { code: 'UNAVAILABLE', ...base };
  return { code: codeFromGrpcStatus(status), ...base };
};

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
  const classify = transport === 'http' ? classifyGcsHttp : classifyGrpc;
  const site = { provider: PROVIDER, ...ctx };
  if (isPolycloudError(err) && override.code === undefined) return wrapError(err, site, classify);
  const e = wrapError(err, site, classify, {
    hints: HINTS,
    ...(override.code === undefined
      ? {}
      : {
          override: {
            code: override.code,
            ...(override.retryable === undefined ? {} : { retryable: override.retryable }),
          },
        }),
  });
  if (override.message === undefined && (override.retryable === undefined || override.code !== undefined))
    return e;
  return new PolycloudError({
    code: e.code,
    message: override.message ?? e.message,
    retryable: override.retryable ?? e.retryable,
    provider: PROVIDER,
    service: ctx.service,
    operation: ctx.operation,
    resource: e.resource ?? {},
    cause: err,
    outcomeUnknown: e.outcomeUnknown,
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

const DEADLINE_TRAIL_MS = 1000;

/**
 * gax `timeout` for a call under `signal`: the time left until the signal's timers abort it
 * (gRPC calls take deadlines, not signals), capped by the call's own `timeout`. The deadline
 * trails the abort by a second, so core's timer decides the outcome (TIMEOUT) and the RPC, which
 * nothing can cancel, ends just after instead of running on for gax's default 60 s.
 */
export function deadlineOf(signal: AbortSignal | undefined, own: unknown): { timeout?: number } {
  const remaining = remainingMs(signal);
  const left = remaining === undefined ? undefined : remaining + DEADLINE_TRAIL_MS;
  const mine = typeof own === 'number' ? own : undefined;
  if (left === undefined) return mine === undefined ? {} : { timeout: mine };
  return { timeout: mine === undefined ? left : Math.min(mine, left) };
}
