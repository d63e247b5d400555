import {
  codeFromHttpStatus,
  type ErrorCode,
  isPolycloudError,
  type PolycloudError,
  pcError,
} from '@polycloud/core';

/** The provider name every Azure driver reports. */
export const PROVIDER = 'azure';

/** Where an error happened, for messages and `PolycloudError.resource`. */
export interface AzureErrorContext {
  readonly service: 'blob' | 'queue' | 'kv';
  readonly operation: string;
  /** Container, queue or table name. */
  readonly name: string;
  readonly key?: string | undefined;
}

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
  AuthorizationFailure: 'PERMISSION_DENIED',
  AuthorizationPermissionMismatch: 'PERMISSION_DENIED',
  AuthorizationResourceTypeMismatch: 'PERMISSION_DENIED',
  AuthorizationServiceMismatch: 'PERMISSION_DENIED',
  AuthorizationSourceIPMismatch: 'PERMISSION_DENIED',
  AuthorizationProtocolMismatch: 'PERMISSION_DENIED',
  InsufficientAccountPermissions: 'PERMISSION_DENIED',
  AccountIsDisabled: 'PERMISSION_DENIED',
  Forbidden: 'PERMISSION_DENIED',
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

/** Transport failures: the request may not have reached the service. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'REQUEST_SEND_ERROR',
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
  if (typeof e.code === 'string' && e.code.length > 0 && !NETWORK_CODES.has(e.code)) return e.code;
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

function isAbort(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const name = (err as NativeShape).name;
  return name === 'AbortError';
}

function isNetwork(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as NativeShape).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    e = (e as NativeShape).cause;
  }
  return false;
}

/**
 * Maps any error from the Azure SDKs to a PolycloudError with the native error as `cause`.
 * PolycloudErrors pass through unchanged.
 */
export function mapAzureError(err: unknown, ctx: AzureErrorContext): PolycloudError {
  if (isPolycloudError(err)) return err;
  const resource = { name: ctx.name, ...(ctx.key === undefined ? {} : { key: ctx.key }) };
  const base = { provider: PROVIDER, service: ctx.service, operation: ctx.operation, resource, cause: err };
  const where = `${ctx.operation} on ${ctx.service} "${ctx.name}"${ctx.key === undefined ? '' : ` key "${ctx.key}"`} (azure)`;
  if (isAbort(err)) return pcError('CANCELLED', `${where} was cancelled`, { ...base, retryable: false });
  const status = azureStatus(err);
  const azCode = azureErrorCode(err);
  if (status === undefined && isNetwork(err)) {
    return pcError('UNAVAILABLE', `${where} failed: the service could not be reached (${describe(err)})`, {
      ...base,
      retryable: true,
    });
  }
  let code: ErrorCode = (azCode !== undefined ? BY_CODE[azCode] : undefined) ?? codeFromHttpStatus(status);
  if (code === 'UNKNOWN' && status === undefined && isNetwork(err)) code = 'UNAVAILABLE';
  const retryable =
    code === 'THROTTLED' || code === 'UNAVAILABLE' || code === 'TIMEOUT' || code === 'INTERNAL';
  const detail = [status === undefined ? undefined : `HTTP ${status}`, azCode]
    .filter((x) => x !== undefined)
    .join(' ');
  return pcError(code, `${where} failed${detail ? ` (${detail})` : ''}: ${hint(code, describe(err))}`, {
    ...base,
    retryable,
  });
}

function hint(code: ErrorCode, message: string): string {
  switch (code) {
    case 'UNAUTHENTICATED':
      return `${message}; check the connection string, AZURE_STORAGE_KEY or the identity credential`;
    case 'PERMISSION_DENIED':
      return `${message}; the credential lacks a role or permission for this operation (e.g. Storage Blob Data Contributor)`;
    case 'THROTTLED':
      return `${message}; the account is over its request rate, retry with backoff`;
    default:
      return message;
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const first = err.message.split('\n').find((l) => l.trim().length > 0);
    return (first ?? err.name).trim().slice(0, 300);
  }
  return String(err).slice(0, 300);
}

/** Runs `fn`, mapping anything it throws. */
export async function guard<T>(ctx: AzureErrorContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw mapAzureError(err, ctx);
  }
}
