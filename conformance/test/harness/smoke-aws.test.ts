// moto (S3, SQS, DynamoDB), ElasticMQ (SQS), dynalite (DynamoDB) and LocalStack (S3, SQS) through
// the official AWS SDK v3.
// Clients get no endpoint option: AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> from the
// endpoint's env must be enough (path-style S3 has no variable, so it is set explicitly).
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { emulatorForBlock, uniqueName } from './smoke-helpers.js';

async function sqsRoundTrip(): Promise<void> {
  const sqs = new SQSClient({});
  try {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('smoke-') }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'hello queue' }));
    const got = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 2, MaxNumberOfMessages: 1 }),
    );
    expect(got.Messages?.[0]?.Body).toBe('hello queue');
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
  } finally {
    sqs.destroy();
  }
}

async function dynamoRoundTrip(): Promise<void> {
  const ddb = new DynamoDBClient({});
  const TableName = uniqueName('smoke-');
  try {
    await ddb.send(
      new CreateTableCommand({
        TableName,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await waitUntilTableExists({ client: ddb, maxWaitTime: 30, minDelay: 1 }, { TableName });
    await ddb.send(new PutItemCommand({ TableName, Item: { pk: { S: 'k1' }, v: { S: 'hello table' } } }));
    const got = await ddb.send(
      new GetItemCommand({ TableName, Key: { pk: { S: 'k1' } }, ConsistentRead: true }),
    );
    expect(got.Item?.v?.S).toBe('hello table');
    await ddb.send(new DeleteTableCommand({ TableName }));
  } finally {
    ddb.destroy();
  }
}

describe('moto', () => {
  const moto = emulatorForBlock('moto');

  it('S3: create a bucket, put an object, read it back', async (ctx) => {
    moto.endpoint(ctx);
    const s3 = new S3Client({ forcePathStyle: true });
    try {
      const Bucket = uniqueName('smoke-');
      await s3.send(new CreateBucketCommand({ Bucket }));
      await s3.send(
        new PutObjectCommand({ Bucket, Key: 'a/b.txt', Body: 'hello bucket', ContentType: 'text/plain' }),
      );
      const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'a/b.txt' }));
      expect(await got.Body?.transformToString()).toBe('hello bucket');
      expect(got.ContentType).toBe('text/plain');
    } finally {
      s3.destroy();
    }
  });

  it('SQS: create a queue, send a message, receive it', async (ctx) => {
    moto.endpoint(ctx);
    await sqsRoundTrip();
  });

  it('DynamoDB: create a table, put an item, get it', async (ctx) => {
    moto.endpoint(ctx);
    await dynamoRoundTrip();
  });
});

describe('localstack', () => {
  const localstack = emulatorForBlock('localstack');

  it('S3: create a bucket, put an object, read it back', async (ctx) => {
    localstack.endpoint(ctx);
    const s3 = new S3Client({ forcePathStyle: true });
    try {
      const Bucket = uniqueName('smoke-');
      await s3.send(new CreateBucketCommand({ Bucket }));
      await s3.send(new PutObjectCommand({ Bucket, Key: 'a/b.txt', Body: 'hello bucket' }));
      const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'a/b.txt' }));
      expect(await got.Body?.transformToString()).toBe('hello bucket');
    } finally {
      s3.destroy();
    }
  });

  it('SQS: create a queue, send a message, receive it', async (ctx) => {
    localstack.endpoint(ctx);
    await sqsRoundTrip();
  });
});

describe('elasticmq', () => {
  const elasticmq = emulatorForBlock('elasticmq');

  it('SQS: create a queue, send a message, receive it', async (ctx) => {
    expect(elasticmq.endpoint(ctx).env.AWS_ENDPOINT_URL).toBeUndefined();
    await sqsRoundTrip();
  });
});

describe('dynalite', () => {
  const dynalite = emulatorForBlock('dynalite');

  it('DynamoDB: create a table, put an item, get it', async (ctx) => {
    expect(dynalite.endpoint(ctx).env.AWS_ENDPOINT_URL).toBeUndefined();
    await dynamoRoundTrip();
  });
});
