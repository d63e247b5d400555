import { RestError } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { mapAzureError } from '../src/errors.js';

const ctx = { service: 'blob' as const, operation: 'get', name: 'c', key: 'k' };

function rest(status: number, errorCode?: string): RestError {
  const e = new RestError(`status ${status}`, {
    statusCode: status,
    ...(errorCode ? { code: errorCode } : {}),
  });
  if (errorCode) (e as { details?: unknown }).details = { errorCode };
  return e;
}

describe('error mapping', () => {
  it.each([
    ['BlobNotFound', 404, 'NOT_FOUND'],
    ['ContainerNotFound', 404, 'NOT_FOUND'],
    ['ResourceNotFound', 404, 'NOT_FOUND'],
    ['QueueNotFound', 404, 'NOT_FOUND'],
    ['TableNotFound', 404, 'NOT_FOUND'],
    ['ConditionNotMet', 412, 'PRECONDITION_FAILED'],
    ['UpdateConditionNotSatisfied', 412, 'PRECONDITION_FAILED'],
    ['BlobAlreadyExists', 409, 'ALREADY_EXISTS'],
    ['EntityAlreadyExists', 409, 'ALREADY_EXISTS'],
    ['ServerBusy', 503, 'THROTTLED'],
    ['OperationTimedOut', 500, 'TIMEOUT'],
    ['InternalError', 500, 'UNAVAILABLE'],
    ['AuthorizationFailure', 403, 'UNAUTHENTICATED'],
    ['AuthorizationPermissionMismatch', 403, 'PERMISSION_DENIED'],
    ['AuthenticationFailed', 403, 'UNAUTHENTICATED'],
    ['RequestBodyTooLarge', 413, 'PAYLOAD_TOO_LARGE'],
    ['InvalidMetadata', 400, 'INVALID_ARGUMENT'],
  ] as const)('%s (HTTP %i) → %s', (code, status, expected) => {
    const native = rest(status, code);
    const e = mapAzureError(native, ctx);
    expect(e.code).toBe(expected);
    expect(e.cause).toBe(native);
    expect(e.provider).toBe('azure');
    expect(e.service).toBe('blob');
    expect(e.operation).toBe('get');
    expect(e.resource).toEqual({ name: 'c', key: 'k' });
    expect(e.retryable).toBe(['THROTTLED', 'UNAVAILABLE', 'TIMEOUT'].includes(expected));
  });

  it.each([
    [401, 'UNAUTHENTICATED'],
    [403, 'PERMISSION_DENIED'],
    [404, 'NOT_FOUND'],
    [409, 'ALREADY_EXISTS'],
    [412, 'PRECONDITION_FAILED'],
    [503, 'UNAVAILABLE'],
  ] as const)('HTTP %i without an error code → %s', (status, expected) => {
    expect(mapAzureError(rest(status), ctx).code).toBe(expected);
  });

  it('reads the OData error code of the Table service', () => {
    const e = new RestError('{"odata.error":{"code":"EntityTooLarge"}}', { statusCode: 400 });
    (e as { details?: unknown }).details = { odataError: { code: 'EntityTooLarge' } };
    expect(mapAzureError(e, { ...ctx, service: 'kv' }).code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('maps aborts and network failures', () => {
    const abort = Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' });
    // CANCELLED is for the caller's own abort (the call runner knows the signal); this one is the transport's.
    expect(mapAzureError(abort, ctx).code).toBe('UNAVAILABLE');
    const net = new RestError('connect ECONNREFUSED', { code: 'REQUEST_SEND_ERROR' });
    const e = mapAzureError(net, ctx);
    expect(e.code).toBe('UNAVAILABLE');
    expect(e.retryable).toBe(true);
  });
});
