/**
 * The moto and ElasticMQ differences listed in conformance/src/emulators/gaps.ts, shown with the
 * native AWS SDK alone (no polycloud code involved). Each test asserts the emulator's current
 * behaviour; if one starts failing, the emulator was fixed and its gap entry should go.
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
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createS3Client } from '@polycloud/aws/s3';
import { createSqsClient } from '@polycloud/aws/sqs';
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
    // S3 lets exactly one win (the other gets 412 or 409 ConditionalRequestConflict). moto's
    // check-then-complete is a race, which a loaded machine does not always hit: try a few rounds
    // (a fresh key each) and expect both completions to succeed in at least one of them.
    const race = async (Key: string) => {
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
      return results.map((r) => r.status);
    };
    const rounds: string[][] = [];
    let Key = 'race';
    for (let i = 0; i < 8; i++) {
      Key = `race-${i}`;
      const statuses = await race(Key);
      rounds.push(statuses);
      if (statuses.every((s) => s === 'fulfilled')) break;
    }
    expect(
      rounds.some((r) => r.every((s) => s === 'fulfilled')),
      `both completions never succeeded together: ${JSON.stringify(rounds)}`,
    ).toBe(true);
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

/** An SQS client for an emulator, and the queues it created (deleted after the block). */
function sqsFor(emulator: 'moto' | 'elasticmq') {
  const { target, notRun } = awsTarget(emulator, 'SQS');
  let client: SQSClient | undefined;
  const created: string[] = [];
  return {
    notRun,
    setup() {
      client = createSqsClient({
        endpoint: target!.endpoint,
        region: target!.region,
        clientConfig: { credentials: target!.credentials },
      });
    },
    async teardown() {
      for (const QueueUrl of created)
        await client?.send(new DeleteQueueCommand({ QueueUrl })).catch(() => {});
      client?.destroy();
    },
    get client(): SQSClient {
      return client!;
    },
    async fifo(attributes: Record<string, string> = {}): Promise<string> {
      const out = await client!.send(
        new CreateQueueCommand({
          QueueName: `gap-${rand()}.fifo`,
          Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false', ...attributes },
        }),
      );
      created.push(out.QueueUrl!);
      return out.QueueUrl!;
    },
    async standard(): Promise<string> {
      const out = await client!.send(new CreateQueueCommand({ QueueName: `gap-${rand()}` }));
      created.push(out.QueueUrl!);
      return out.QueueUrl!;
    },
  };
}

const motoSqs = sqsFor('moto');

describe.skipIf(motoSqs.notRun !== undefined)('moto differences from Amazon SQS (FIFO)', () => {
  beforeAll(() => motoSqs.setup());
  afterAll(() => motoSqs.teardown());

  it('moto-sqs-fifo-blocked-group-long-poll: a long poll does not return when the group is released', async () => {
    const sqs = motoSqs.client;
    const QueueUrl = await motoSqs.fifo();
    for (const id of ['A0', 'A1']) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl,
          MessageBody: id,
          MessageGroupId: 'A',
          MessageDeduplicationId: id,
        }),
      );
    }
    const first = await sqs.send(new ReceiveMessageCommand({ QueueUrl, VisibilityTimeout: 60 }));
    expect(first.Messages?.map((m) => m.Body)).toEqual(['A0']);
    // A1 waits for A0. Deleting A0 half a second into a 4 s long poll releases the group: SQS (and
    // ElasticMQ) return A1 then; moto keeps the group blocked for the rest of the call.
    const started = Date.now();
    const poll = sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 4, VisibilityTimeout: 60 }));
    await new Promise((r) => setTimeout(r, 500));
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: first.Messages![0]!.ReceiptHandle }));
    const polled = await poll;
    expect(polled.Messages ?? []).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3500);
    // The next call sees the group released.
    const next = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
    expect(next.Messages?.map((m) => m.Body)).toEqual(['A1']);
  });

  it('moto-sqs-fifo-dedup-after-delete: a deduplication id is forgotten once its message is deleted', async () => {
    const sqs = motoSqs.client;
    const QueueUrl = await motoSqs.fifo();
    const send = (MessageBody: string) =>
      sqs.send(
        new SendMessageCommand({
          QueueUrl,
          MessageBody,
          MessageGroupId: 'g',
          MessageDeduplicationId: 'same',
        }),
      );
    await send('first');
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
    expect(got.Messages?.map((m) => m.Body)).toEqual(['first']);
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: got.Messages![0]!.ReceiptHandle }));
    // Within SQS's 5-minute deduplication interval: SQS accepts the send but does not deliver it.
    await send('second');
    const again = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
    expect(again.Messages?.map((m) => m.Body)).toEqual(['second']);
  });
});

const elasticmqSqs = sqsFor('elasticmq');

describe.skipIf(elasticmqSqs.notRun !== undefined)('ElasticMQ differences from Amazon SQS (FIFO)', () => {
  beforeAll(() => elasticmqSqs.setup());
  afterAll(() => elasticmqSqs.teardown());

  it('elasticmq-fifo-standard-dead-letter-queue: a FIFO queue accepts a standard dead-letter queue', async () => {
    const standard = await elasticmqSqs.standard();
    const arn = await elasticmqSqs.client.send(
      new GetQueueAttributesCommand({ QueueUrl: standard, AttributeNames: ['QueueArn'] }),
    );
    // SQS rejects this (the dead-letter queue of a FIFO queue must be FIFO); so does moto.
    const fifo = await elasticmqSqs.fifo({
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn.Attributes!.QueueArn, maxReceiveCount: 2 }),
    });
    expect(fifo).toMatch(/\.fifo$/);
  });
});
