import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createDynamoClient } from '@polycloud/aws/dynamodb';
import { createS3Client } from '@polycloud/aws/s3';
import { createSqsClient } from '@polycloud/aws/sqs';
import { processSuite } from '@polycloud/conformance';
import { createKvTable } from './dynamodb-harness.js';
import { awsTarget, rand } from './emulator.js';

// S3, SQS and DynamoDB on moto, each opened by URL in the child with JSON-only options.
const s3 = awsTarget('moto', 'S3');
const sqs = awsTarget('moto', 'SQS');
const ddb = awsTarget('moto', 'DYNAMODB');
const table = `pc-proc-${rand()}`;
let clients: { s3: S3Client; sqs: SQSClient; ddb: DynamoDBClient } | undefined;

processSuite({
  adapter: 'aws',
  emulator: 'moto',
  notRun: s3.notRun ?? sqs.notRun ?? ddb.notRun,
  async beforeAll() {
    if (!s3.target || !sqs.target || !ddb.target) return;
    const cfg = (t: NonNullable<typeof s3.target>) => ({
      endpoint: t.endpoint,
      region: t.region,
      clientConfig: { credentials: t.credentials },
    });
    clients = {
      s3: createS3Client(cfg(s3.target)),
      sqs: createSqsClient(cfg(sqs.target)),
      ddb: createDynamoClient(cfg(ddb.target)),
    };
    await createKvTable(clients.ddb, table);
  },
  async afterAll() {
    clients?.s3.destroy();
    clients?.sqs.destroy();
    clients?.ddb.destroy();
  },
  async open() {
    if (!clients || !s3.target || !sqs.target || !ddb.target) throw new Error('moto is not available');
    const name = `pc-${rand()}`;
    await clients.s3.send(new CreateBucketCommand({ Bucket: name }));
    await clients.sqs.send(new CreateQueueCommand({ QueueName: name }));
    const q = (t: NonNullable<typeof s3.target>) =>
      `endpoint=${encodeURIComponent(t.endpoint)}&region=${t.region}`;
    const options = { driverOptions: { clientConfig: { credentials: s3.target.credentials } } };
    return {
      bucket: { url: `s3://${name}?${q(s3.target)}`, options },
      queue: { url: `sqs://${name}?${q(sqs.target)}`, options },
      kv: { url: `dynamodb://${table}?namespace=${name}&${q(ddb.target)}`, options },
    };
  },
  async openVia(hostPort) {
    if (!s3.target) throw new Error('moto is not available');
    const q = `endpoint=${encodeURIComponent(`http://${hostPort}`)}&region=${s3.target.region}`;
    const options = { driverOptions: { clientConfig: { credentials: s3.target.credentials } } };
    return {
      bucket: { url: `s3://pc-hole?${q}`, options },
      queue: { url: `sqs://pc-hole?${q}`, options },
      kv: { url: `dynamodb://pc-hole?namespace=n&${q}`, options },
    };
  },
});
