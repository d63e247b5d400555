import {
  ConditionalCheckFailedException,
  InternalServerError,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ResourceNotFoundException,
  ThrottlingException,
} from '@aws-sdk/client-dynamodb';
import { AccessDenied, NoSuchBucket, NoSuchKey, NotFound, S3ServiceException } from '@aws-sdk/client-s3';
import { QueueDoesNotExist, ReceiptHandleIsInvalid, SQSServiceException } from '@aws-sdk/client-sqs';
import { type ErrorCode, isPolycloudError, pcError } from '@polycloud/core';
import { describe, expect, it } from 'vitest';
import { mapAwsError } from '../src/errors.js';

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode }, message: 'native message' });
const ctx = { service: 'blob' as const, operation: 'get', name: 'bucket-1', key: 'a/b' };

function s3Error(
  name: string,
  status: number,
  fault: 'client' | 'server' = status >= 500 ? 'server' : 'client',
) {
  return new S3ServiceException({ name, $fault: fault, ...meta(status) });
}

describe('mapAwsError', () => {
  const cases: [string, unknown, ErrorCode, boolean][] = [
    ['S3 NoSuchKey', new NoSuchKey(meta(404)), 'NOT_FOUND', false],
    ['S3 NotFound (HEAD)', new NotFound(meta(404)), 'NOT_FOUND', false],
    ['S3 NoSuchBucket', new NoSuchBucket(meta(404)), 'NOT_FOUND', false],
    ['S3 AccessDenied', new AccessDenied(meta(403)), 'PERMISSION_DENIED', false],
    ['S3 PreconditionFailed', s3Error('PreconditionFailed', 412), 'PRECONDITION_FAILED', false],
    ['S3 412 without a code (HEAD)', s3Error('Unknown', 412), 'PRECONDITION_FAILED', false],
    ['S3 SlowDown', s3Error('SlowDown', 503), 'THROTTLED', true],
    ['S3 InternalError', s3Error('InternalError', 500), 'UNAVAILABLE', true],
    ['S3 unnamed 502', s3Error('Unknown', 502), 'UNAVAILABLE', true],
    ['S3 EntityTooLarge', s3Error('EntityTooLarge', 400), 'PAYLOAD_TOO_LARGE', false],
    ['S3 SignatureDoesNotMatch', s3Error('SignatureDoesNotMatch', 403), 'UNAUTHENTICATED', false],
    ['S3 RequestTimeout', s3Error('RequestTimeout', 400), 'TIMEOUT', true],
    ['SQS QueueDoesNotExist', new QueueDoesNotExist(meta(400)), 'NOT_FOUND', false],
    [
      'SQS legacy query code',
      Object.assign(new SQSServiceException({ name: 'QueueDoesNotExist', $fault: 'client', ...meta(400) }), {
        Code: 'AWS.SimpleQueueService.NonExistentQueue',
      }),
      'NOT_FOUND',
      false,
    ],
    [
      'SQS shape id as code (ElasticMQ)',
      Object.assign(new SQSServiceException({ name: 'Unknown', $fault: 'client', ...meta(400) }), {
        Code: 'com.amazonaws.sqs#QueueDoesNotExist',
      }),
      'NOT_FOUND',
      false,
    ],
    ['SQS ReceiptHandleIsInvalid', new ReceiptHandleIsInvalid(meta(400)), 'NOT_FOUND', false],
    [
      'SQS RequestThrottled',
      new SQSServiceException({ name: 'RequestThrottled', $fault: 'client', ...meta(400) }),
      'THROTTLED',
      true,
    ],
    ['DynamoDB ResourceNotFound', new ResourceNotFoundException(meta(400)), 'NOT_FOUND', false],
    [
      'DynamoDB ConditionalCheckFailed',
      new ConditionalCheckFailedException(meta(400)),
      'PRECONDITION_FAILED',
      false,
    ],
    [
      'DynamoDB ProvisionedThroughputExceeded',
      new ProvisionedThroughputExceededException(meta(400)),
      'THROTTLED',
      true,
    ],
    ['DynamoDB RequestLimitExceeded', new RequestLimitExceeded(meta(400)), 'THROTTLED', true],
    ['DynamoDB ThrottlingException', new ThrottlingException(meta(400)), 'THROTTLED', true],
    ['DynamoDB InternalServerError', new InternalServerError(meta(500)), 'UNAVAILABLE', true],
    [
      'connection refused',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }),
      'UNAVAILABLE',
      true,
    ],
    [
      'socket reset',
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      'UNAVAILABLE',
      true,
    ],
    ['socket hang up', new Error('socket hang up'), 'UNAVAILABLE', true],
    [
      'SDK TimeoutError',
      Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' }),
      'TIMEOUT',
      true,
    ],
    [
      // The caller's own abort becomes CANCELLED in the call runner, which knows the signal; an
      // abort nobody asked for (an SDK timer, a dropped socket) is a transport failure.
      'AbortError the caller did not ask for',
      Object.assign(new Error('The operation was aborted'), { name: 'AbortError' }),
      'UNAVAILABLE',
      true,
    ],
    [
      'CredentialsProviderError',
      Object.assign(new Error('Could not load credentials'), { name: 'CredentialsProviderError' }),
      'UNAUTHENTICATED',
      false,
    ],
    ['unknown 418', s3Error('Teapot', 418), 'UNKNOWN', false],
    ['not an error at all', 'boom', 'UNKNOWN', false],
  ];

  for (const [label, native, code, retryable] of cases) {
    it(`${label} → ${code}${retryable ? ' (retryable)' : ''}`, () => {
      const e = mapAwsError(native, ctx);
      expect(isPolycloudError(e, code)).toBe(true);
      expect(e.retryable).toBe(retryable);
      expect(e.cause).toBe(native);
      expect(e.provider).toBe('aws');
      expect(e.service).toBe('blob');
      expect(e.operation).toBe('get');
      expect(e.resource).toEqual({ name: 'bucket-1', key: 'a/b' });
      expect(e.message).toContain('get on blob "bucket-1" key "a/b" (aws)');
    });
  }

  it('a missing region (SDK config error, no request sent) is INVALID_ARGUMENT saying how to set one', () => {
    const e = mapAwsError(new Error('Region is missing'), ctx);
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.retryable).toBe(false);
    expect(e.message).toMatch(/no AWS region is configured; set AWS_REGION .*\?region=/);
  });

  it('passes PolycloudErrors through unchanged', () => {
    const original = pcError('PRECONDITION_FAILED', 'already mapped');
    expect(mapAwsError(original, ctx)).toBe(original);
  });

  it('an override code keeps the native cause and sets retryable by the new code', () => {
    const native = new S3ServiceException({ name: 'ValidationException', $fault: 'client', ...meta(400) });
    const e = mapAwsError(native, { service: 'kv', operation: 'set', name: 't' }, 'PAYLOAD_TOO_LARGE');
    expect(e.code).toBe('PAYLOAD_TOO_LARGE');
    expect(e.retryable).toBe(false);
    expect(e.cause).toBe(native);
    expect(e.resource).toEqual({ name: 't' });
  });
});
