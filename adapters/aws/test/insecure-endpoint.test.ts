import { createS3Client, s3Bucket } from '@polycloud/aws/s3';
import { createSqsClient } from '@polycloud/aws/sqs';
import { isPolycloudError, openBucket, openKv, openQueue } from '@polycloud/core';
import { afterEach, describe, expect, it } from 'vitest';

// No I/O happens in these opens: S3 and DynamoDB open without requests, and SQS's queue URL
// lookup is never reached when the endpoint is refused. Opens that are allowed are closed at once.
const REMOTE = 'http://10.9.8.7:4566';
const refused = (e: unknown) =>
  isPolycloudError(e, 'INVALID_ARGUMENT') &&
  e.message.includes('10.9.8.7:4566') &&
  e.message.includes('allowInsecureHttp');

describe('AWS: a plain-http endpoint off this machine is refused unless allowed', () => {
  afterEach(() => {
    delete process.env.AWS_ENDPOINT_URL;
    delete process.env.AWS_ENDPOINT_URL_S3;
  });

  it.each([
    ['s3', () => openBucket(`s3://b?endpoint=${encodeURIComponent(REMOTE)}&region=us-east-1`)],
    ['sqs', () => openQueue(`sqs://q?endpoint=${encodeURIComponent(REMOTE)}&region=us-east-1`)],
    ['dynamodb', () => openKv(`dynamodb://t?endpoint=${encodeURIComponent(REMOTE)}&region=us-east-1`)],
  ])('%s by URL', async (_, open) => {
    await expect(open()).rejects.toSatisfy(refused);
  });

  it('options, clientConfig.endpoint and AWS_ENDPOINT_URL* are checked the same way', async () => {
    expect(() => s3Bucket({ bucket: 'b', endpoint: REMOTE })).toThrow(/allowInsecureHttp/);
    expect(() => createSqsClient({ clientConfig: { endpoint: REMOTE } })).toThrow(/clientConfig\.endpoint/);
    process.env.AWS_ENDPOINT_URL_S3 = REMOTE;
    await expect(openBucket('s3://b?region=us-east-1')).rejects.toSatisfy(
      (e: unknown) => refused(e) && (e as Error).message.includes('AWS_ENDPOINT_URL_S3'),
    );
  });

  it('allowInsecureHttp (URL parameter, option, driverOptions), https and loopback open', async () => {
    const e = encodeURIComponent(REMOTE);
    for (const b of [
      await openBucket(`s3://b?endpoint=${e}&region=us-east-1&allowInsecureHttp=true`),
      await openBucket(`s3://b?endpoint=${e}&region=us-east-1`, {
        driverOptions: { allowInsecureHttp: true },
      }),
      await openBucket('s3://b?endpoint=https%3A%2F%2F10.9.8.7%3A4566&region=us-east-1'),
      await openBucket('s3://b?endpoint=http%3A%2F%2F127.0.0.1%3A4566&region=us-east-1'),
      s3Bucket({ bucket: 'b', endpoint: REMOTE, allowInsecureHttp: true }),
    ])
      await b.close();
    await (await openKv(`dynamodb://t?endpoint=${e}&region=us-east-1&allowInsecureHttp=1`)).close();
    createS3Client({ endpoint: 'http://localhost:9000' }).destroy();
    await expect(openBucket(`s3://b?endpoint=${e}&allowInsecureHttp=yes`)).rejects.toSatisfy((x: unknown) =>
      isPolycloudError(x, 'INVALID_ARGUMENT'),
    );
  });
});
