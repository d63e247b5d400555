import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { createDynamoClient } from '@polycloud/aws/dynamodb';
import { createS3Client } from '@polycloud/aws/s3';
import { createSqsClient } from '@polycloud/aws/sqs';
import { restartSuite } from '@polycloud/conformance';
import { openBucket, openKv, openQueue } from '@polycloud/core';
import { createKvTable } from './dynamodb-harness.js';
import { rand } from './emulator.js';

// S3 on moto and SQS on ElasticMQ keep state in memory (the restart forgets it); dynalite is
// started with --path, so DynamoDB data survives the restart.
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const region = 'us-east-1';
const clientOf = (endpoint: string) => ({ endpoint, region, clientConfig: { credentials } });
const driverOptions = { clientConfig: { credentials } };

restartSuite({
  adapter: 'aws',
  targets: [
    {
      emulator: 'moto',
      durable: false,
      blob: {
        async open(env, opts) {
          const endpoint = env.AWS_ENDPOINT_URL!;
          const name = `pc-${rand()}`;
          const admin = createS3Client(clientOf(endpoint));
          const recreate = async () => void (await admin.send(new CreateBucketCommand({ Bucket: name })));
          await recreate();
          const url = `s3://${name}?endpoint=${encodeURIComponent(endpoint)}&region=${region}`;
          return { resource: await openBucket(url, { ...opts, driverOptions }), recreate };
        },
      },
    },
    {
      emulator: 'elasticmq',
      durable: false,
      queue: {
        async open(env, opts) {
          const endpoint = env.AWS_ENDPOINT_URL_SQS!;
          const name = `pc-${rand()}`;
          const admin = createSqsClient(clientOf(endpoint));
          const recreate = async () => void (await admin.send(new CreateQueueCommand({ QueueName: name })));
          await recreate();
          const url = `sqs://${name}?endpoint=${encodeURIComponent(endpoint)}&region=${region}`;
          return { resource: await openQueue(url, { ...opts, driverOptions }), recreate };
        },
      },
    },
    {
      emulator: 'dynalite',
      durable: true,
      kv: {
        async open(env, opts) {
          const endpoint = env.AWS_ENDPOINT_URL_DYNAMODB!;
          const table = `pc-restart-${rand()}`;
          const admin = createDynamoClient(clientOf(endpoint));
          await createKvTable(admin, table);
          const url = `dynamodb://${table}?namespace=${rand()}&endpoint=${encodeURIComponent(endpoint)}&region=${region}`;
          return {
            resource: await openKv(url, { ...opts, driverOptions }),
            recreate: () => createKvTable(admin, table),
          };
        },
      },
    },
  ],
});
