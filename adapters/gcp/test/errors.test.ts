import { isPolycloudError } from '@polycloud/core';
import { gcsBucket } from '@polycloud/gcp/storage';
import { describe, expect, it } from 'vitest';
import { gcpError } from '../src/errors.js';

const ctx = { service: 'blob' as const, operation: 'get', name: 'bucket', key: 'k' };

/** Errors shaped as the SDKs raise them: ApiError (HTTP `code`), gRPC ServiceError (numeric `code`). */
function httpError(status: number, message = `HTTP ${status}`) {
  return Object.assign(new Error(message), { code: status, errors: [] });
}
function grpcError(code: number, details = 'details') {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
}

describe('gcpError: HTTP statuses (Cloud Storage)', () => {
  const cases: [number, string, boolean][] = [
    [400, 'INVALID_ARGUMENT', false],
    [401, 'UNAUTHENTICATED', false],
    [403, 'PERMISSION_DENIED', false],
    [404, 'NOT_FOUND', false],
    [409, 'ALREADY_EXISTS', false],
    [412, 'PRECONDITION_FAILED', false],
    [413, 'PAYLOAD_TOO_LARGE', false],
    [416, 'INVALID_ARGUMENT', false],
    [429, 'THROTTLED', true],
    [500, 'INTERNAL', true],
    [502, 'UNAVAILABLE', true],
    [503, 'UNAVAILABLE', true],
    [504, 'TIMEOUT', true],
  ];
  for (const [status, code, retryable] of cases) {
    it(`${status} → ${code}${retryable ? ' (retryable)' : ''}`, () => {
      const native = httpError(status);
      const e = gcpError(native, ctx, 'http');
      expect(isPolycloudError(e, code as never)).toBe(true);
      expect(e.retryable).toBe(retryable);
      expect(e.cause).toBe(native);
      expect(e.provider).toBe('gcp');
      expect(e.service).toBe('blob');
      expect(e.operation).toBe('get');
      expect(e.resource).toEqual({ name: 'bucket', key: 'k' });
      expect(e.message).toContain('get on blob "bucket" key "k"');
    });
  }
  it('reads the status of gaxios-style errors (response.status)', () => {
    const native = Object.assign(new Error('nope'), { response: { status: 403 } });
    expect(gcpError(native, ctx, 'http').code).toBe('PERMISSION_DENIED');
  });
});

describe('gcpError: gRPC statuses (Pub/Sub, Bigtable)', () => {
  const cases: [number, string, boolean][] = [
    [1, 'CANCELLED', false],
    [3, 'INVALID_ARGUMENT', false],
    [4, 'TIMEOUT', true],
    [5, 'NOT_FOUND', false],
    [6, 'ALREADY_EXISTS', false],
    [7, 'PERMISSION_DENIED', false],
    [8, 'THROTTLED', true],
    [9, 'PRECONDITION_FAILED', false],
    [10, 'UNAVAILABLE', true],
    [12, 'UNSUPPORTED', false],
    [13, 'INTERNAL', true],
    [14, 'UNAVAILABLE', true],
    [16, 'UNAUTHENTICATED', false],
  ];
  for (const [status, code, retryable] of cases) {
    it(`${status} → ${code}${retryable ? ' (retryable)' : ''}`, () => {
      const native = grpcError(status);
      const e = gcpError(native, { service: 'queue', operation: 'send', name: 'q' }, 'grpc');
      expect(e.code).toBe(code);
      expect(e.retryable).toBe(retryable);
      expect(e.cause).toBe(native);
    });
  }
  it('RESOURCE_EXHAUSTED about message size → PAYLOAD_TOO_LARGE, not retryable', () => {
    const e = gcpError(grpcError(8, 'grpc: received message larger than max (5 vs. 4)'), ctx, 'grpc');
    expect(e.code).toBe('PAYLOAD_TOO_LARGE');
    expect(e.retryable).toBe(false);
  });
  it('a retry-loop timeout wrapping a size error is PAYLOAD_TOO_LARGE', () => {
    const native = grpcError(
      4,
      'Total timeout exceeded retrying error: 8 RESOURCE_EXHAUSTED: grpc: received message larger than max',
    );
    expect(gcpError(native, ctx, 'grpc').code).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('gcpError: other failures', () => {
  it('network errors are UNAVAILABLE and retryable', () => {
    const native = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const e = gcpError(native, ctx, 'http');
    expect(e.code).toBe('UNAVAILABLE');
    expect(e.retryable).toBe(true);
  });
  it('a network error nested as cause is found', () => {
    const native = new Error('request failed', {
      cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }),
    });
    expect(gcpError(native, ctx, 'http').code).toBe('UNAVAILABLE');
  });
  it('an AbortError the caller did not ask for is UNAVAILABLE (the runner maps the caller abort)', () => {
    const native = Object.assign(new Error('aborted'), { name: 'AbortError' });
    expect(gcpError(native, ctx, 'grpc').code).toBe('UNAVAILABLE');
  });
  it('unknown errors are UNKNOWN, not retryable, with the native error as cause', () => {
    const e = gcpError('weird', ctx, 'grpc');
    expect(e.code).toBe('UNKNOWN');
    expect(e.retryable).toBe(false);
    expect(e.cause).toBe('weird');
  });
  it('a PolycloudError passes through with context filled in', () => {
    const inner = gcpError(httpError(404), ctx, 'http');
    expect(gcpError(inner, { ...ctx, operation: 'head' }, 'http')).toMatchObject({
      code: 'NOT_FOUND',
      operation: 'get',
    });
  });
});

describe('Cloud Storage: an etag that is not a generation', () => {
  it('is quoted once in the message, given quoted or bare (checked before any request)', async () => {
    const b = gcsBucket({ bucket: 'etag-msg', apiEndpoint: 'http://127.0.0.1:9' });
    for (const etag of ['"nope"', 'nope']) {
      const err = await b.put('k', 'x', { ifMatch: etag }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'PRECONDITION_FAILED', resource: { name: 'etag-msg', key: 'k' } });
      expect((err as Error).message).toContain(' "nope" is not an etag of this bucket');
      expect((err as Error).message).not.toContain('""');
    }
    await b.close();
  });
});
