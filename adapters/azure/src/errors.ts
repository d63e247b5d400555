import {
  type Classify,
  codeFromHttpStatus,
  type ErrorCode,
  type ErrorSite,
  isPolycloudError,
  type PolycloudError,
  wrapError,
} from '@polycloud/core/driver/base';

/** The provider name every Azure driver reports. */
export const PROVIDER = 'azure';

/** Where an error happened (the kit's ErrorSite, the provider filled in by the adapter). */
export type AzureErrorContext = Omit<ErrorSite, 'provider'>;

/**
 * Azure Storage error codes (the `x-ms-error-code` header, or the OData error code of the Table
 * service) → portable codes. Codes not listed fall back to the HTTP status.
 */
const BY_CODE: Readonly<Record<string, ErrorCode>> = {
  // Missing things
  BlobNotFound: 'NOT_FOUND',
  ContainerNotFound: 'NOT_FOUND',
  ResourceNotFound: 'NOT_FOUND',
  QueueNotFound: 'NOT_FOUND',
  MessageNotFound: 'NOT_FOUND',
  TableNotFound: 'NOT_FOUND',
  EntityNotFound: 'NOT_FOUND',
  CannotVerifyCopySource: 'NOT_FOUND',
  // Conditions
  ConditionNotMet: 'PRECONDITION_FAILED',
  UpdateConditionNotSatisfied: 'PRECONDITION_FAILED',
  SourceConditionNotMet: 'PRECONDITION_FAILED',
  TargetConditionNotMet: 'PRECONDITION_FAILED',
  PopReceiptMismatch: 'PRECONDITION_FAILED',
  LeaseIdMissing: 'PRECONDITION_FAILED',
  LeaseIdMismatchWithBlobOperation: 'PRECONDITION_FAILED',
  LeaseNotPresentWithBlobOperation: 'PRECONDITION_FAILED',
  PendingCopyOperation: 'PRECONDITION_FAILED',
  // Already there
  BlobAlreadyExists: 'ALREADY_EXISTS',
  ContainerAlreadyExists: 'ALREADY_EXISTS',
  QueueAlreadyExists: 'ALREADY_EXISTS',
  TableAlreadyExists: 'ALREADY_EXISTS',
  EntityAlreadyExists: 'ALREADY_EXISTS',
  // Being deleted: the name comes back shortly
  ContainerBeingDeleted: 'UNAVAILABLE',
  QueueBeingDeleted: 'UNAVAILABLE',
  TableBeingDeleted: 'UNAVAILABLE',
  // Service trouble
  ServerBusy: 'THROTTLED',
  TooManyRequests: 'THROTTLED',
  OperationTimedOut: 'TIMEOUT',
  InternalError: 'UNAVAILABLE',
  ServiceUnavailable: 'UNAVAILABLE',
  // Access
  AuthorizationPermissionMismatch: 'PERMISSION_DENIED',
  AuthorizationResourceTypeMismatch: 'PERMISSION_DENIED',
  AuthorizationServiceMismatch: 'PERMISSION_DENIED',
  AuthorizationSourceIPMismatch: 'PERMISSION_DENIED',
  AuthorizationProtocolMismatch: 'PERMISSION_DENIED',
  InsufficientAccountPermissions: 'PERMISSION_DENIED',
  AccountIsDisabled: 'PERMISSION_DENIED',
  Forbidden: 'PERMISSION_DENIED',
  // One code for a credential the account does not accept, on every service: real Azure answers
  // a wrong key with AuthenticationFailed; Azurite (and accounts whose shared-key access or
  // network rules refuse the caller) with AuthorizationFailure, on blob and table. A missing
  // role has codes of its own (AuthorizationPermissionMismatch, ...), which stay PERMISSION_DENIED.
  AuthorizationFailure: 'UNAUTHENTICATED',
  AuthenticationFailed: 'UNAUTHENTICATED',
  InvalidAuthenticationInfo: 'UNAUTHENTICATED',
  NoAuthenticationInformation: 'UNAUTHENTICATED',
  // Sizes
  RequestBodyTooLarge: 'PAYLOAD_TOO_LARGE',
  EntityTooLarge: 'PAYLOAD_TOO_LARGE',
  PropertyValueTooLarge: 'PAYLOAD_TOO_LARGE',
  BlockCountExceedsLimit: 'PAYLOAD_TOO_LARGE',
  BlobTooLarge: 'PAYLOAD_TOO_LARGE',
  // Bad requests
  InvalidInput: 'INVALID_ARGUMENT',
  InvalidMetadata: 'INVALID_ARGUMENT',
  InvalidResourceName: 'INVALID_ARGUMENT',
  InvalidHeaderValue: 'INVALID_ARGUMENT',
  InvalidQueryParameterValue: 'INVALID_ARGUMENT',
  InvalidRange: 'INVALID_ARGUMENT',
  InvalidBlockId: 'INVALID_ARGUMENT',
  InvalidBlockList: 'INVALID_ARGUMENT',
  InvalidBlobType: 'INVALID_ARGUMENT',
  InvalidUri: 'INVALID_ARGUMENT',
  InvalidXmlDocument: 'INVALID_ARGUMENT',
  InvalidDuplicateRow: 'INVALID_ARGUMENT',
  Md5Mismatch: 'INVALID_ARGUMENT',
  OutOfRangeInput: 'INVALID_ARGUMENT',
  OutOfRangeQueryParameterValue: 'INVALID_ARGUMENT',
  MissingRequiredHeader: 'INVALID_ARGUMENT',
  MissingRequiredQueryParameter: 'INVALID_ARGUMENT',
  PropertiesNeedValue: 'INVALID_ARGUMENT',
  InvalidValueType: 'INVALID_ARGUMENT',
  TooManyProperties: 'INVALID_ARGUMENT',
  UnsupportedHeader: 'UNSUPPORTED',
  FeatureNotSupportedByEmulator: 'UNSUPPORTED',
  NotImplemented: 'UNSUPPORTED',
};

/** Codes azure-core uses for transport failures; they are not service error codes. */
const TRANSPORT_CODES = new Set([
  'REQUEST_SEND_ERROR',
  'PARSE_ERROR',
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
]);

interface NativeShape {
  name?: unknown;
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
  details?: unknown;
  cause?: unknown;
  response?: { headers?: { get?: (name: string) => string | undefined } };
}

/** The Azure error code of a native error: `x-ms-error-code`, or the OData error of the Table service. */
export function azureErrorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as NativeShape;
  if (typeof e.code === 'string' && e.code.length > 0 && !TRANSPORT_CODES.has(e.code)) return e.code;
  const details = e.details as
    | { errorCode?: unknown; odataError?: { code?: unknown }; 'odata.error'?: { code?: unknown } }
    | undefined;
  if (details && typeof details === 'object') {
    if (typeof details.errorCode === 'string') return details.errorCode;
    const odata = details.odataError ?? details['odata.error'];
    if (odata && typeof odata.code === 'string') return odata.code;
  }
  const header = e.response?.headers?.get?.('x-ms-error-code');
  if (typeof header === 'string' && header.length > 0) return header;
  // The Table service puts the OData error in the message when the SDK could not parse it.
  if (typeof e.message === 'string') {
    const m = /"code"\s*:\s*"([A-Za-z]+)"/.exec(e.message);
    if (m) return m[1];
  }
  return undefined;
}

/** The HTTP status of a native error, if it has one. */
export function azureStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const s = (err as NativeShape).statusCode;
  return typeof s === 'number' ? s : undefined;
}

/**
 * Classifies an Azure Storage error: the service's error code (body, OData error or the
 * `x-ms-error-code` header, which HEAD answers carry), else the HTTP status. A wrong account key
 * is UNAUTHENTICATED on every service (see BY_CODE).
 */
export const classifyAzure: Classify = (err) => {
  const status = azureStatus(err);
  const azCode = azureErrorCode(err);
  const native = [status === undefined ? undefined : `HTTP ${status}`, azCode].filter((x) => x).join(' ');
  const code: ErrorCode = (azCode !== undefined ? BY_CODE[azCode] : undefined) ?? codeFromHttpStatus(status);
  return { code, ...(native ? { native } : {}) };
};

const HINTS: Partial<Record<ErrorCode, string>> = {
  UNAUTHENTICATED:
    "the account did not accept the credential: check the connection string, AZURE_STORAGE_KEY or the identity credential (and the account's network rules)",
  PERMISSION_DENIED:
    'the credential lacks a role or permission for this operation (e.g. Storage Blob Data Contributor)',
  THROTTLED: 'the account is over its request rate, retry with backoff',
};

/** The scheme to create, when the container, queue or table itself is missing (not a blob or an entity). */
const MISSING_RESOURCE: Record<string, string> = Object.assign(Object.create(null), {
  ContainerNotFound: 'azblob',
  QueueNotFound: 'azqueue',
  TableNotFound: 'aztable',
});

/** What the service would have said, for answers without a body. */
const NO_BODY: Record<string, string> = Object.assign(Object.create(null), {
  ContainerNotFound: 'The specified container does not exist.',
  BlobNotFound: 'The specified blob does not exist.',
});

/**
 * The service's explanation of a failure, first line only: the queue SDK's message is just
 * "Unexpected status code: 404" with the explanation in `details`, and the Table SDK can leave
 * the raw OData JSON as the message. Undefined where the SDK's message is already the text.
 */
export function describeAzure(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as NativeShape;
  const firstLine = (s: unknown) =>
    typeof s === 'string'
      ? s
          .split('\n')
          .find((l) => l.trim() !== '')
          ?.trim()
      : undefined;
  const message = typeof e.message === 'string' ? e.message : '';
  if (message.trim() === '') {
    // A HEAD answer carries only the x-ms-error-code header.
    const known = NO_BODY[azureErrorCode(err) ?? ''];
    if (known !== undefined) return known;
  }
  if (/^Unexpected status code/.test(message)) {
    const details = e.details as { message?: unknown } | undefined;
    const text = firstLine(details?.message);
    if (text !== undefined) return text;
  }
  if (message.trimStart().startsWith('{')) {
    try {
      const body = JSON.parse(message) as Record<
        string,
        { message?: { value?: unknown } | unknown } | undefined
      >;
      const odata = body['odata.error'] ?? body.odataError;
      const m = (odata as { message?: unknown } | undefined)?.message;
      const text = firstLine(typeof m === 'object' && m !== null ? (m as { value?: unknown }).value : m);
      if (text !== undefined) return text;
    } catch {
      // not JSON after all: the default description applies
    }
  }
  return undefined;
}

/**
 * Maps any error from the Azure SDKs to a PolycloudError with the native error as `cause`.
 * PolycloudErrors pass through unchanged.
 */
export function mapAzureError(err: unknown, ctx: AzureErrorContext): PolycloudError {
  if (isPolycloudError(err)) return err;
  const scheme = MISSING_RESOURCE[azureErrorCode(err) ?? ''];
  const hints =
    scheme === undefined
      ? HINTS
      : {
          ...HINTS,
          NOT_FOUND: `check the name and the account; \`npx polycloud create ${scheme}://${ctx.name}\` creates it`,
        };
  return wrapError(err, { provider: PROVIDER, ...ctx }, classifyAzure, { hints, describe: describeAzure });
}

/** Runs `fn`, mapping anything it throws. */
export async function guard<T>(ctx: AzureErrorContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw mapAzureError(err, ctx);
  }
}
