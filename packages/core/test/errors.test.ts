import { describe, expect, it } from 'vitest';
import {
  codeFromGrpcStatus,
  codeFromHttpStatus,
  isPolycloudError,
  PolycloudError,
  pcError,
} from '../src/index.js';

describe('PolycloudError', () => {
  it('carries code, retryable default, context and cause', () => {
    const cause = new Error('native');
    const e = pcError('THROTTLED', 'slow down', {
      provider: 'aws',
      service: 'blob',
      resource: { name: 'b', key: 'k' },
      cause,
    });
    expect(e.code).toBe('THROTTLED');
    expect(e.retryable).toBe(true);
    expect(e.cause).toBe(cause);
    expect(e.resource).toEqual({ name: 'b', key: 'k' });
    expect(pcError('NOT_FOUND', 'x').retryable).toBe(false);
  });

  it('is recognised structurally across package copies', () => {
    const foreign = Object.assign(new Error('x'), { name: 'PolycloudError', code: 'NOT_FOUND' });
    expect(isPolycloudError(foreign)).toBe(true);
    expect(isPolycloudError(foreign, 'NOT_FOUND')).toBe(true);
    expect(isPolycloudError(foreign, 'INTERNAL')).toBe(false);
    expect(isPolycloudError(new Error('plain'))).toBe(false);
    expect(isPolycloudError(null)).toBe(false);
    expect(isPolycloudError(new PolycloudError({ code: 'INTERNAL', message: 'm' }), 'INTERNAL')).toBe(true);
  });

  it('keeps what the thrower knew when context is added', () => {
    const e = pcError('NOT_FOUND', 'm', { resource: { key: 'k' } }).withContext({
      provider: 'gcp',
      operation: 'get',
      resource: { name: 'bucket' },
    });
    expect(e.provider).toBe('gcp');
    expect(e.resource).toEqual({ name: 'bucket', key: 'k' });
  });

  it('maps HTTP and gRPC statuses', () => {
    expect(codeFromHttpStatus(404)).toBe('NOT_FOUND');
    expect(codeFromHttpStatus(412)).toBe('PRECONDITION_FAILED');
    expect(codeFromHttpStatus(429)).toBe('THROTTLED');
    expect(codeFromHttpStatus(503)).toBe('UNAVAILABLE');
    expect(codeFromHttpStatus(418)).toBe('UNKNOWN');
    expect(codeFromGrpcStatus(5)).toBe('NOT_FOUND');
    expect(codeFromGrpcStatus(6)).toBe('ALREADY_EXISTS');
    expect(codeFromGrpcStatus(9)).toBe('PRECONDITION_FAILED');
    expect(codeFromGrpcStatus(8)).toBe('THROTTLED');
    expect(codeFromGrpcStatus(14)).toBe('UNAVAILABLE');
  });
});
