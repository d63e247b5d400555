import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createDynamoClient } from '@polycloud/aws/dynamodb';
import { createS3Client } from '@polycloud/aws/s3';
import { createSqsClient } from '@polycloud/aws/sqs';
import { faultSuite } from '@polycloud/conformance';
import { openBucket, openKv, openQueue } from '@polycloud/core';
import { createKvTable } from './dynamodb-harness.js';
import { awsTarget, rand } from './emulator.js';

// S3 and DynamoDB on moto, SQS on ElasticMQ (moto's SQS is too slow for 5,000 messages under
// faults in CI's time), reached through the fault proxy; resources are created directly.
const s3 = awsTarget('moto', 'S3');
const sqs = awsTarget('elasticmq', 'SQS');
const ddb = awsTarget('moto', 'DYNAMODB');
const table = `pc-faults-${rand()}`;
let admin: { s3: S3Client; sqs: SQSClient; ddb: DynamoDBClient } | undefined;
const hostOf = (endpoint: string) => new URL(endpoint).host;

faultSuite({
  adapter: 'aws',
  emulator: 'moto+elasticmq',
  notRun: s3.notRun ?? sqs.notRun ?? ddb.notRun,
  async beforeAll() {
    if (!s3.target || !sqs.target || !ddb.target) return;
    const cfg = (t: NonNullable<typeof s3.target>) => ({
      endpoint: t.endpoint,
      region: t.region,
      clientConfig: { credentials: t.credentials },
    });
    admin = {
      s3: createS3Client(cfg(s3.target)),
      sqs: createSqsClient(cfg(sqs.target)),
      ddb: createDynamoClient(cfg(ddb.target)),
    };
    await createKvTable(admin.ddb, table);
  },
  async afterAll() {
    admin?.s3.destroy();
    admin?.sqs.destroy();
    admin?.ddb.destroy();
  },
  ...(s3.target && sqs.target && ddb.target
    ? {
        blob: {
          upstream: hostOf(s3.target.endpoint),
          async open(endpoint, opts) {
            const name = `pc-${rand()}`;
            await admin!.s3.send(new CreateBucketCommand({ Bucket: name }));
            const url = `s3://${name}?endpoint=${encodeURIComponent(`http://${endpoint}`)}&region=${s3.target!.region}`;
            const resource = await openBucket(url, {
              ...opts,
              driverOptions: { clientConfig: { credentials: s3.target!.credentials } },
            });
            return { resource, cleanup: () => resource.close() };
          },
        },
        queue: {
          upstream: hostOf(sqs.target.endpoint),
          async open(endpoint, opts) {
            const name = `pc-${rand()}`;
            await admin!.sqs.send(new CreateQueueCommand({ QueueName: name }));
            const url = `sqs://${name}?endpoint=${encodeURIComponent(`http://${endpoint}`)}&region=${sqs.target!.region}`;
            const resource = await openQueue(url, {
              ...opts,
              driverOptions: { clientConfig: { credentials: sqs.target!.credentials } },
            });
            return { resource, cleanup: () => resource.close() };
          },
        },
        kv: {
          upstream: hostOf(ddb.target.endpoint),
          async open(endpoint, opts) {
            const url = `dynamodb://${table}?namespace=${rand()}&endpoint=${encodeURIComponent(`http://${endpoint}`)}&region=${ddb.target!.region}`;
            const resource = await openKv(url, {
              ...opts,
              driverOptions: { clientConfig: { credentials: ddb.target!.credentials } },
            });
            return { resource, cleanup: () => resource.close() };
          },
        },
      }
    : {}),
});
