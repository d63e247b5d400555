import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { lambda } from '@polycloud/aws/functions';
import { createSqsClient } from '@polycloud/aws/sqs';
import { fuzzSuite } from '@polycloud/conformance';
import {
  blobEventFunction,
  httpFunction,
  openBucket,
  openKv,
  openQueue,
  queueFunction,
  scheduleFunction,
} from '@polycloud/core';
import { awsTarget, rand } from './emulator.js';

// S3, SQS, DynamoDB and the Lambda binding fuzzed without I/O: calls that pass validation meet
// an aborted signal (or, at worst, a closed port with one attempt). Opening an SQS queue reads
// its attributes, so the queue is opened on ElasticMQ when it runs (and left out otherwise).
const sqs = awsTarget('elasticmq', 'SQS');
const endpoint = encodeURIComponent('http://127.0.0.1:1');
const opts = {
  retry: { maxAttempts: 1 },
  attemptTimeoutMs: 2000,
  driverOptions: { clientConfig: { credentials: { accessKeyId: 'fuzz', secretAccessKey: 'fuzz-secret' } } },
};
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const context = { awsRequestId: 'fuzz', getRemainingTimeInMillis: () => 30_000 };
const bind = (fn: Parameters<typeof lambda>[0]) => {
  const h = lambda(fn, { logger: quiet });
  return (event: unknown) => h(event as never, context);
};

fuzzSuite({
  adapter: 'aws',
  bucket: () => openBucket(`s3://fuzz?endpoint=${endpoint}&region=us-east-1`, opts),
  ...(sqs.target
    ? {
        queue: async () => {
          const t = sqs.target!;
          const name = `fuzz-${rand()}`;
          const admin = createSqsClient({
            endpoint: t.endpoint,
            region: t.region,
            clientConfig: { credentials: t.credentials },
          });
          await admin.send(new CreateQueueCommand({ QueueName: name }));
          admin.destroy();
          return openQueue(`sqs://${name}?endpoint=${encodeURIComponent(t.endpoint)}&region=${t.region}`, {
            ...opts,
            driverOptions: { clientConfig: { credentials: t.credentials } },
          });
        },
      }
    : {}),
  kv: () => openKv(`dynamodb://fuzz?endpoint=${endpoint}&region=us-east-1`, opts),
  events: {
    'lambda(httpFunction)': bind(httpFunction(() => new Response('ok'))),
    'lambda(queueFunction)': bind(queueFunction(async () => {})),
    'lambda(scheduleFunction)': bind(scheduleFunction('*/5 * * * *', async () => {})),
    'lambda(blobEventFunction)': bind(blobEventFunction(async () => {})),
  },
  eventSeeds: [
    {
      Records: [
        { eventSource: 'aws:sqs', messageId: 'm', body: '{}', attributes: {}, messageAttributes: {} },
      ],
    },
    {
      Records: [
        {
          eventSource: 'aws:s3',
          eventName: 'ObjectCreated:Put',
          s3: { bucket: { name: 'b' }, object: { key: 'a%ZZ' } },
        },
      ],
    },
    { version: '2.0', rawPath: '/', requestContext: { http: { method: 'GET' } }, headers: {} },
    { httpMethod: 'POST', path: '/', body: 'x', isBase64Encoded: true, headers: null },
    { 'detail-type': 'Scheduled Event', source: 'aws.events', time: 'not a time' },
  ],
});
