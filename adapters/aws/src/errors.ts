import {
  type Classify,
  codeFromHttpStatus,
  type ErrorCode,
  type ErrorSite,
  isPolycloudError,
  type PolycloudError,
  wrapError,
} from '@polycloud/core/driver/base';

/** Where an error happened (the kit's ErrorSite, the provider filled in by the adapter). */
export type AwsErrorContext = Omit<ErrorSite, 'provider'>;

/** Native error codes (the SDK's `name`, the S3 `Code`, the SQS query error code) → portable code. */
const BY_NAME: Readonly<Record<string, ErrorCode>> = {
  // Missing things
  NoSuchKey: 'NOT_FOUND',
  NotFound: 'NOT_FOUND',
  NoSuchBucket: 'NOT_FOUND',
  NoSuchUpload: 'NOT_FOUND',
  NoSuchVersion: 'NOT_FOUND',
  QueueDoesNotExist: 'NOT_FOUND',
  'AWS.SimpleQueueService.NonExistentQueue': 'NOT_FOUND',
  ResourceNotFoundException: 'NOT_FOUND',
  TableNotFoundException: 'NOT_FOUND',
  ReceiptHandleIsInvalid: 'NOT_FOUND',
  // Conditions
  PreconditionFailed: 'PRECONDITION_FAILED',
  ConditionalRequestConflict: 'PRECONDITION_FAILED',
  ConditionalCheckFailedException: 'PRECONDITION_FAILED',
  TransactionCanceledException: 'PRECONDITION_FAILED',
  MessageNotInflight: 'PRECONDITION_FAILED',
  InvalidObjectState: 'PRECONDITION_FAILED',
  BucketAlreadyExists: 'ALREADY_EXISTS',
  BucketAlreadyOwnedByYou: 'ALREADY_EXISTS',
  QueueNameExists: 'ALREADY_EXISTS',
  ResourceInUseException: 'ALREADY_EXISTS',
  // Throttling
  SlowDown: 'THROTTLED',
  Throttling: 'THROTTLED',
  ThrottlingException: 'THROTTLED',
  ThrottledException: 'THROTTLED',
  TooManyRequestsException: 'THROTTLED',
  RequestThrottled: 'THROTTLED',
  RequestThrottledException: 'THROTTLED',
  ProvisionedThroughputExceededException: 'THROTTLED',
  RequestLimitExceeded: 'THROTTLED',
  LimitExceededException: 'THROTTLED',
  KmsThrottled: 'THROTTLED',
  OverLimit: 'THROTTLED',
  // Service trouble
  InternalError: 'UNAVAILABLE',
  InternalServerError: 'UNAVAILABLE',
  InternalFailure: 'UNAVAILABLE',
  ServiceUnavailable: 'UNAVAILABLE',
  ServiceUnavailableException: 'UNAVAILABLE',
  TransactionConflictException: 'UNAVAILABLE',
  ReplicatedWriteConflictException: 'UNAVAILABLE',
  RequestTimeout: 'TIMEOUT',
  RequestTimeoutException: 'TIMEOUT',
  TimeoutError: 'TIMEOUT',
  // Access
  AccessDenied: 'PERMISSION_DENIED',
  AccessDeniedException: 'PERMISSION_DENIED',
  AllAccessDisabled: 'PERMISSION_DENIED',
  KmsAccessDenied: 'PERMISSION_DENIED',
  InvalidAccessKeyId: 'UNAUTHENTICATED',
  SignatureDoesNotMatch: 'UNAUTHENTICATED',
  InvalidSignatureException: 'UNAUTHENTICATED',
  UnrecognizedClientException: 'UNAUTHENTICATED',
  ExpiredToken: 'UNAUTHENTICATED',
  ExpiredTokenException: 'UNAUTHENTICATED',
  InvalidToken: 'UNAUTHENTICATED',
  InvalidClientTokenId: 'UNAUTHENTICATED',
  MissingAuthenticationToken: 'UNAUTHENTICATED',
  CredentialsProviderError: 'UNAUTHENTICATED',
  // Sizes
  EntityTooLarge: 'PAYLOAD_TOO_LARGE',
  ItemCollectionSizeLimitExceededException: 'PAYLOAD_TOO_LARGE',
  BatchRequestTooLong: 'PAYLOAD_TOO_LARGE',
  // Bad requests
  InvalidArgument: 'INVALID_ARGUMENT',
  InvalidRequest: 'INVALID_ARGUMENT',
  InvalidRange: 'INVALID_ARGUMENT',
  InvalidDigest: 'INVALID_ARGUMENT',
  BadDigest: 'INVALID_ARGUMENT',
  KeyTooLongError: 'INVALID_ARGUMENT',
  EntityTooSmall: 'INVALID_ARGUMENT',
  InvalidPart: 'INVALID_ARGUMENT',
  InvalidPartOrder: 'INVALID_ARGUMENT',
  MalformedXML: 'INVALID_ARGUMENT',
  ValidationException: 'INVALID_ARGUMENT',
  SerializationException: 'INVALID_ARGUMENT',
  InvalidParameterValue: 'INVALID_ARGUMENT',
  InvalidParameterValueException: 'INVALID_ARGUMENT',
  InvalidMessageContents: 'INVALID_ARGUMENT',
  InvalidAttributeName: 'INVALID_ARGUMENT',
  InvalidAttributeValue: 'INVALID_ARGUMENT',
  InvalidBatchEntryId: 'INVALID_ARGUMENT',
  BatchEntryIdsNotDistinct: 'INVALID_ARGUMENT',
  TooManyEntriesInBatchRequest: 'INVALID_ARGUMENT',
  EmptyBatchRequest: 'INVALID_ARGUMENT',
  MissingParameter: 'INVALID_ARGUMENT',
  UnsupportedOperation: 'UNSUPPORTED',
  NotImplemented: 'UNSUPPORTED',
};

interface NativeShape {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $retryable?: { throttling?: boolean } | undefined;
  $metadata?: { httpStatusCode?: number | undefined } | undefined;
  $response?: { statusCode?: number | undefined; headers?: Record<string, string | undefined> } | undefined;
}

/** Candidate code names of a native error, most specific first (`Code`, then `name`, then `code`). */
function errorNames(err: unknown): string[] {
  if (typeof err !== 'object' || err === null) return [];
  const e = err as NativeShape;
  const out: string[] = [];
  // SQS over JSON sends the legacy query code in a header and the SDK keeps it in `Code`;
  // some servers send a shape id instead (`com.amazonaws.sqs#QueueDoesNotExist`).
  for (const v of [e.Code, e.name, e.code]) {
    if (typeof v !== 'string' || v === '' || v === 'Error') continue;
    const n = v.includes('#') ? v.slice(v.lastIndexOf('#') + 1) : v;
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

function isRegionMissing(err: unknown): boolean {
  return err instanceof Error && err.message === 'Region is missing';
}

/** The native error's code name (e.g. `NoSuchKey`, `ConditionalCheckFailedException`). */
export function awsErrorName(err: unknown): string | undefined {
  const names = errorNames(err);
  return names.find((n) => BY_NAME[n] !== undefined) ?? names[0];
}

/** HTTP status of a service error, where there was a response. */
export function awsHttpStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as NativeShape;
  return e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
}

/**
 * Classifies a native AWS SDK error (the kit has already taken transport failures and aborts).
 * A response with no status at all means the transport failed, which is worth retrying.
 */
export const classifyAws: Classify = (err) => {
  if (typeof err !== 'object' || err === null) return { code: 'UNKNOWN', retryable: false };
  const e = err as NativeShape;
  // The SDK's config error before any request: no retry will find a region.
  if (isRegionMissing(err))
    return { code: 'INVALID_ARGUMENT', retryable: false, native: 'Region is missing' };
  const name = awsErrorName(err);
  const status = awsHttpStatus(err);
  const native = `${name ?? 'Error'}${status === undefined ? '' : ` (HTTP ${status})`}`;
  if (e.$retryable?.throttling === true) return { code: 'THROTTLED', native };
  const named = name === undefined ? undefined : BY_NAME[name];
  if (named !== undefined) return { code: named, native };
  if (status === undefined) return { code: 'UNKNOWN', retryable: false, native };
  if (status >= 500) return { code: 'UNAVAILABLE', native };
  return { code: codeFromHttpStatus(status), native };
};

/** The code and retryability the kit gives a native AWS error. */
export function awsErrorCode(err: unknown): { code: ErrorCode; retryable: boolean } {
  const e = wrapError(
    err,
    { provider: 'aws', service: 'blob', operation: 'classify', name: '' },
    classifyAws,
  );
  return { code: e.code, retryable: e.retryable };
}

const HINTS: Partial<Record<ErrorCode, string>> = {
  NOT_FOUND: 'check the name (and that the resource exists in this region/endpoint)',
  PERMISSION_DENIED: 'check the IAM policy of the credentials in use',
  UNAUTHENTICATED:
    "check the credentials the SDK's default chain found (AWS_PROFILE, AWS_ACCESS_KEY_ID, ...)",
};

/**
 * An answer without a body (a HEAD, some 404s) leaves the SDK's placeholder "UnknownError" as
 * the message; say what the status means instead. Undefined: the SDK's message applies.
 */
function describeAws(err: unknown): string | undefined {
  if (isRegionMissing(err))
    return 'no AWS region is configured; set AWS_REGION (or a region in the AWS profile), or add ?region=<region> to the URL';
  if (!(err instanceof Error) || err.message !== 'UnknownError') return undefined;
  const status = awsHttpStatus(err);
  if (status === 404) return 'not found (the answer had no details)';
  return status === undefined ? undefined : `HTTP ${status} without details`;
}

/**
 * Maps any native error to a PolycloudError with the native error as `cause`.
 * PolycloudErrors pass through unchanged.
 */
export function mapAwsError(err: unknown, ctx: AwsErrorContext, override?: ErrorCode): PolycloudError {
  if (isPolycloudError(err)) return err;
  return wrapError(err, { provider: 'aws', ...ctx }, classifyAws, {
    hints: HINTS,
    describe: describeAws,
    ...(override === undefined ? {} : { override: { code: override } }),
  });
}
