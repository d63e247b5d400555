/**
 * The moto differences listed in conformance/src/emulators/gaps.ts, shown with the native AWS
 * SDK alone (no polycloud code involved). Each test asserts moto's current behaviour; if one
 * starts failing, moto was fixed and its gap entry should go.
 */
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createS3Client } from '@polycloud/aws/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsTarget, rand } from './emulator.js';

const { target, notRun } = awsTarget('moto', 'S3');

describe.skipIf(notRun !== undefined)('moto differences from Amazon S3', () => {
  let client: S3Client;
  const Bucket = `gap-${rand()}`;

  beforeAll(async () => {
    client = createS3Client({
      endpoint: target!.endpoint,
      region: target!.region,
      clientConfig: { credentials: target!.credentials },
    });
    await client.send(new CreateBucketCommand({ Bucket }));
  });
  afterAll(() => client?.destroy());

  it('cannot route object keys containing a line feed (S3 stores any UTF-8 key)', async () => {
    // Every other control character works; U+000A alone makes moto answer with an HTML 404.
    await client.send(new PutObjectCommand({ Bucket, Key: 'tab\tcr\rx', Body: 'ok' }));
    const err = await client
      .send(new PutObjectCommand({ Bucket, Key: 'line\nfeed', Body: 'x' }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(404);
  });

  it('lets two concurrent CompleteMultipartUpload with If-None-Match: * both succeed', async () => {
    // S3 lets exactly one win (the other gets 412 or 409 ConditionalRequestConflict).
    const Key = 'race';
    const uploads = await Promise.all(
      [0, 1].map(async () => {
        const up = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
        const part = await client.send(
          new UploadPartCommand({
            Bucket,
            Key,
            UploadId: up.UploadId,
            PartNumber: 1,
            Body: new Uint8Array(5 << 20),
          }),
        );
        return { UploadId: up.UploadId, ETag: part.ETag };
      }),
    );
    const results = await Promise.allSettled(
      uploads.map((u) =>
        client.send(
          new CompleteMultipartUploadCommand({
            Bucket,
            Key,
            UploadId: u.UploadId,
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: u.ETag }] },
            IfNoneMatch: '*',
          }),
        ),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    // Sequentially, the condition is enforced: the gap is the missing atomicity.
    const up = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const part = await client.send(
      new UploadPartCommand({ Bucket, Key, UploadId: up.UploadId, PartNumber: 1, Body: 'x' }),
    );
    const late = await client
      .send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId: up.UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
          IfNoneMatch: '*',
        }),
      )
      .catch((e: unknown) => e);
    expect((late as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(412);
  });

  it('does not verify presigned URL signatures: a GET URL accepts a PUT', async () => {
    await client.send(new PutObjectCommand({ Bucket, Key: 'ro', Body: 'original' }));
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket, Key: 'ro' }), { expiresIn: 300 });
    const put = await fetch(url, { method: 'PUT', body: 'tampered' });
    expect(put.status).toBe(200);
    // Even a zeroed signature is accepted.
    const forged = url.replace(/X-Amz-Signature=[0-9a-f]+/, `X-Amz-Signature=${'0'.repeat(64)}`);
    expect((await fetch(forged)).status).toBe(200);
  });

  it('does not check presigned URL expiry', async () => {
    await client.send(new PutObjectCommand({ Bucket, Key: 'short', Body: 'x' }));
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket, Key: 'short' }), { expiresIn: 1 });
    await new Promise((r) => setTimeout(r, 2500));
    expect((await fetch(url)).status).toBe(200);
  });
});
