import { randomUUID } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  HeadObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type LambdaContext, lambda } from '@polycloud/aws/functions';
import { createS3Client } from '@polycloud/aws/s3';
import { createSqsClient } from '@polycloud/aws/sqs';
import type { FunctionsHarness } from '@polycloud/conformance';
import { isPolycloudError, openBucket, openQueue, type PortableFunction } from '@polycloud/core';
import '@polycloud/memory';
import { awsTarget, rand } from './emulator.js';
import { type HttpFormat, requestToEvent, resultToResponse } from './lambda-http-fixtures.js';

/** Runs a bound function for one event: in this process, or through a Lambda runtime. */
export type Invoke = (fn: PortableFunction, event: unknown) => Promise<unknown>;

/** Calls the Lambda handler directly with a Lambda-shaped context (15 min timeout). */
export const invokeInProcess: Invoke = async (fn, event) => {
  const deadline = Date.now() + 900_000;
  const context: LambdaContext = {
    awsRequestId: randomUUID(),
    functionName: 'polycloud-test',
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
  return lambda(fn)(event, context);
};

/** S3 event keys: URL-encoded per path segment, spaces as '+' (as S3 writes them). */
export function s3EventKey(key: string): string {
  return key
    .split('/')
    .map((s) => encodeURIComponent(s).replace(/%20/g, '+'))
    .join('/');
}

/**
 * The Lambda functions harness against moto: SQS messages are sent with the adapter's real
 * Queue.send, received raw as Lambda's event source mapping does, and handed over as an SQS
 * event (fixture: Lambda developer guide, "Using Lambda with Amazon SQS", example event); S3
 * objects are written for real and their notification built from HeadObject (fixture: "Using
 * Lambda with Amazon S3", example event).
 */
export function lambdaHarness(opts: {
  reportName: string;
  httpFormat: HttpFormat;
  runtime: string;
  invoke: () => Invoke;
  before?: () => Promise<void>;
  after?: () => Promise<void>;
  /** Why the runtime itself is not available (then every test is not-run). */
  notRun?: string | undefined;
}): FunctionsHarness {
  const sqsT = awsTarget('moto', 'SQS');
  const s3T = awsTarget('moto', 'S3');
  let sqs: SQSClient | undefined;
  let s3: S3Client | undefined;
  const call = (fn: PortableFunction, event: unknown) => opts.invoke()(fn, event);
  return {
    adapter: 'aws',
    emulator: 'moto',
    reportName: opts.reportName,
    runtime: opts.runtime,
    notRun: opts.notRun ?? sqsT.notRun ?? s3T.notRun,
    binding: '@polycloud/aws/functions',
    provider: 'aws',
    hasDeadline: true,
    async beforeAll() {
      if (sqsT.target) {
        const t = sqsT.target;
        sqs = createSqsClient({
          endpoint: t.endpoint,
          region: t.region,
          clientConfig: { credentials: t.credentials },
        });
      }
      if (s3T.target) {
        const t = s3T.target;
        s3 = createS3Client({
          endpoint: t.endpoint,
          region: t.region,
          clientConfig: { credentials: t.credentials },
        });
      }
      await opts.before?.();
    },
    async afterAll() {
      sqs?.destroy();
      s3?.destroy();
      await opts.after?.();
    },
    async http(fn) {
      return {
        async fetch(req) {
          const event = await requestToEvent(req, opts.httpFormat, randomUUID());
          return resultToResponse(await call(fn, event));
        },
        async close() {},
      };
    },
    async queue() {
      const t = sqsT.target!;
      const client = sqs!;
      const name = `pc-fn-${rand()}`;
      const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name }));
      const attrs = await client.send(
        new GetQueueAttributesCommand({ QueueUrl: QueueUrl!, AttributeNames: ['QueueArn'] }),
      );
      const arn = attrs.Attributes!.QueueArn!;
      const claimCheck = await openBucket(`mem://claims-${rand()}`);
      const queue = await openQueue(
        `sqs://${name}?endpoint=${encodeURIComponent(t.endpoint)}&region=${t.region}`,
        {
          driverOptions: { clientConfig: { credentials: t.credentials } },
          claimCheck: { bucket: claimCheck },
        },
      );
      return {
        queue,
        claimCheck,
        async deliver(fn) {
          const out = await client.send(
            new ReceiveMessageCommand({
              QueueUrl: QueueUrl!,
              MaxNumberOfMessages: 10,
              WaitTimeSeconds: 1,
              VisibilityTimeout: 30,
              MessageAttributeNames: ['All'],
              MessageSystemAttributeNames: ['All'],
              AttributeNames: ['All'],
            }),
          );
          const msgs = out.Messages ?? [];
          if (msgs.length === 0) return {};
          const event = {
            Records: msgs.map((m) => ({
              messageId: m.MessageId!,
              receiptHandle: m.ReceiptHandle!,
              body: m.Body ?? '',
              attributes: m.Attributes ?? {},
              messageAttributes: Object.fromEntries(
                Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [
                  k,
                  {
                    stringValue: v.StringValue ?? null,
                    binaryValue: v.BinaryValue ? Buffer.from(v.BinaryValue).toString('base64') : null,
                    stringListValues: [],
                    binaryListValues: [],
                    dataType: v.DataType!,
                  },
                ]),
              ),
              md5OfBody: m.MD5OfBody ?? '',
              eventSource: 'aws:sqs',
              eventSourceARN: arn,
              awsRegion: t.region,
            })),
          };
          const res = (await call(fn, event)) as { batchItemFailures: { itemIdentifier: string }[] };
          const failed = res.batchItemFailures.map((f) => f.itemIdentifier);
          // What the event source mapping does with a partial batch response.
          for (const m of msgs) {
            if (failed.includes(m.MessageId!)) {
              await client.send(
                new ChangeMessageVisibilityCommand({
                  QueueUrl: QueueUrl!,
                  ReceiptHandle: m.ReceiptHandle!,
                  VisibilityTimeout: 0,
                }),
              );
            } else {
              await client.send(
                new DeleteMessageCommand({ QueueUrl: QueueUrl!, ReceiptHandle: m.ReceiptHandle! }),
              );
            }
          }
          return { failed };
        },
        async cleanup() {
          await queue.close();
          await claimCheck.close();
          await client.send(new DeleteQueueCommand({ QueueUrl: QueueUrl! })).catch(() => {});
        },
      };
    },
    async schedule(fn) {
      // Fixture: EventBridge "Scheduled Event" (EventBridge user guide, scheduled rule event).
      await call(fn, {
        version: '0',
        id: randomUUID(),
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: '123456789012',
        time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        region: 'us-east-1',
        resources: ['arn:aws:events:us-east-1:123456789012:rule/polycloud-test'],
        detail: {},
      });
    },
    async blob(fn) {
      const t = s3T.target!;
      const client = s3!;
      const name = `pc-fn-${rand()}`;
      await client.send(new CreateBucketCommand({ Bucket: name }));
      const bucket = await openBucket(
        `s3://${name}?endpoint=${encodeURIComponent(t.endpoint)}&region=${t.region}`,
        {
          driverOptions: { clientConfig: { credentials: t.credentials } },
        },
      );
      const record = (eventName: string, key: string, object: Record<string, unknown>) => ({
        Records: [
          {
            eventVersion: '2.1',
            eventSource: 'aws:s3',
            awsRegion: t.region,
            eventTime: new Date().toISOString(),
            eventName,
            s3: {
              s3SchemaVersion: '1.0',
              configurationId: 'polycloud-test',
              bucket: { name, arn: `arn:aws:s3:::${name}` },
              object: { key: s3EventKey(key), sequencer: '0055AED6DCD90281E5', ...object },
            },
          },
        ],
      });
      return {
        bucket,
        async put(key, body) {
          await bucket.put(key, body);
          const head = await client.send(new HeadObjectCommand({ Bucket: name, Key: key }));
          await call(
            fn,
            record('ObjectCreated:Put', key, {
              size: head.ContentLength,
              eTag: head.ETag?.replace(/"/g, ''),
            }),
          );
        },
        async remove(key) {
          await bucket.delete(key);
          await call(fn, record('ObjectRemoved:Delete', key, {}));
        },
        async cleanup() {
          await bucket.close();
          await client.send(new DeleteBucketCommand({ Bucket: name })).catch(() => {});
        },
      };
    },
    async malformed(fn) {
      try {
        await call(fn, { hello: 'world' });
        return undefined;
      } catch (err) {
        return isPolycloudError(err) ? err : err;
      }
    },
  };
}
