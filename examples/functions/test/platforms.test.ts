/**
 * The example app end to end under each platform binding: the upload endpoint stores the body
 * and sends a job with the provider's real queue; the worker is then triggered with the native
 * event for that very message and updates the counters.
 * - Lambda: the api function runs in a runtime child process under the Runtime Interface
 *   Emulator (moto S3 + SQS), with AWS's aws-lambda-ric client and with runLambdaRuntime; the
 *   worker gets the SQS event of the received message.
 * - Cloud Functions: functions-framework serves both over real HTTP (fake-gcs-server, pstest).
 * - Azure Functions: library-level, @azure/functions request and context types (azurite).
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import * as ff from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { PubSub } from '@google-cloud/pubsub';
import { lambda } from '@polycloud/aws/functions';
import { createS3Client } from '@polycloud/aws/s3';
import { createSqsClient } from '@polycloud/aws/sqs';
import { azureHttp, azureStorageQueue } from '@polycloud/azure/functions';
import { findLambdaRic, useEmulator } from '@polycloud/conformance/emulators';
import { type KvStore, openBucket, openKv, openQueue } from '@polycloud/core';
import { cloudFunctionsEvent, cloudFunctionsHttp } from '@polycloud/gcp/functions';
import { storageClient } from '@polycloud/gcp/storage';
import { describe, expect, it } from 'vitest';
import { startRie } from '../../../adapters/aws/test/lambda-rie.js';
import { api, type UploadJob, useResources, worker } from '../src/app.js';

const dir = fileURLToPath(new URL('..', import.meta.url));
const rand = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
const body = new TextEncoder().encode('example upload ✓');

async function counters(kv: KvStore<number>) {
  const [u, b] = await kv.getMany(['uploads', 'bytes']);
  return { uploads: u?.value ?? 0, bytes: b?.value ?? 0 };
}

const moto = useEmulator('moto');
/** Where the harness installed AWS's aws-lambda-ric client (`emulators:install -- lambda-ric`). */
const ricEntry = (() => {
  const dir = findLambdaRic();
  if (!dir) return undefined;
  try {
    return fileURLToPath(import.meta.resolve('aws-lambda-ric', pathToFileURL(`${dir}/`).href));
  } catch {
    return undefined;
  }
})();

/**
 * The api function in a runtime process started by RIE (`bootstrap`), then the worker with the
 * SQS event of the message it sent.
 */
async function lambdaFlow(bootstrap: string[], runtimeEnv: Record<string, string>) {
  {
    const env = moto!.env;
    const endpoint = env.AWS_ENDPOINT_URL!;
    const credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! };
    const region = env.AWS_REGION!;
    const name = `pc-ex-${rand()}`;
    const s3 = createS3Client({ endpoint, region, clientConfig: { credentials } });
    const sqs = createSqsClient({ endpoint, region, clientConfig: { credentials } });
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    const bucketUrl = `s3://${name}?endpoint=${encodeURIComponent(endpoint)}&region=${region}`;
    const queueUrl = `sqs://${name}?endpoint=${encodeURIComponent(endpoint)}&region=${region}`;
    const rie = await startRie({
      bootstrap,
      cwd: dir,
      env: {
        ...runtimeEnv,
        TSX_TSCONFIG_PATH: `${dir}tsconfig.dev.json`,
        BUCKET_URL: bucketUrl,
        QUEUE_URL: queueUrl,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_REGION: region,
      },
    });
    if ('notRun' in rie) {
      // emulators:install builds RIE in CI; a developer's partial install skips this part.
      if (process.env.CI === 'true') throw new Error(rie.notRun);
      console.warn(`not run: ${rie.notRun}`);
      return;
    }
    try {
      // A function URL event (payload 2.0) with a base64 body, as Lambda sends binary uploads.
      const result = (await rie.invoke({
        version: '2.0',
        routeKey: '$default',
        rawPath: '/uploads/photo.bin',
        rawQueryString: '',
        headers: { host: 'abc.lambda-url.us-east-1.on.aws', 'content-type': 'application/octet-stream' },
        requestContext: {
          requestId: randomUUID(),
          domainName: 'abc.lambda-url.us-east-1.on.aws',
          http: { method: 'PUT' },
        },
        body: Buffer.from(body).toString('base64'),
        isBase64Encoded: true,
      })) as { statusCode: number; body: string };
      expect(result.statusCode).toBe(201);
      expect(JSON.parse(result.body)).toEqual({ key: 'uploads/photo.bin', size: body.byteLength });

      const kv = (await openKv(`mem://counters-${rand()}`)) as KvStore<number>;
      const driverOptions = { clientConfig: { credentials } };
      useResources({
        bucket: await openBucket(bucketUrl, { driverOptions }),
        queue: await openQueue<UploadJob>(queueUrl, { driverOptions }),
        kv,
      });
      const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] })))
        .Attributes!.QueueArn!;
      const got = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 2,
          MessageAttributeNames: ['All'],
          AttributeNames: ['All'],
        }),
      );
      expect(got.Messages?.length).toBe(1);
      const m = got.Messages![0]!;
      const res = await lambda(worker)(
        {
          Records: [
            {
              messageId: m.MessageId,
              receiptHandle: m.ReceiptHandle,
              body: m.Body,
              attributes: m.Attributes,
              messageAttributes: Object.fromEntries(
                Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [
                  k,
                  { stringValue: v.StringValue, dataType: v.DataType },
                ]),
              ),
              eventSource: 'aws:sqs',
              eventSourceARN: arn,
            },
          ],
        },
        { awsRequestId: randomUUID(), getRemainingTimeInMillis: () => 30_000 },
      );
      expect(res).toEqual({ batchItemFailures: [] });
      expect(await counters(kv)).toEqual({ uploads: 1, bytes: body.byteLength });
    } finally {
      await rie.stop();
      s3.destroy();
      sqs.destroy();
    }
  }
}

describe.skipIf(!moto)('Lambda (Runtime Interface Emulator, moto)', () => {
  it('api under RIE with the aws-lambda-ric client, worker from the SQS event', async () => {
    if (!ricEntry)
      throw new Error('aws-lambda-ric is not installed: run npm run emulators:install -- lambda-ric');
    await lambdaFlow([process.execPath, '--import', 'tsx', ricEntry], {
      _HANDLER: 'lambda.api',
      LAMBDA_TASK_ROOT: `${dir}ric`,
    });
  });

  it('api under RIE with runLambdaRuntime (custom runtime bootstrap), worker from the SQS event', async () => {
    await lambdaFlow([process.execPath, '--import', 'tsx', 'src/lambda-bootstrap.ts'], {
      _HANDLER: 'lambda.api',
    });
  });
});

const pstest = useEmulator('pstest');
const gcs = useEmulator('fake-gcs-server');
describe.skipIf(!pstest || !gcs)('Cloud Functions (functions-framework, pstest, fake-gcs-server)', () => {
  it('api and worker served by functions-framework over HTTP', async () => {
    const project = 'polycloud-test';
    const id = `pc-ex-${rand()}`;
    const pubsub = new PubSub({ projectId: project, apiEndpoint: pstest!.env.PUBSUB_EMULATOR_HOST! });
    const storage = storageClient({ apiEndpoint: gcs!.env.STORAGE_EMULATOR_HOST!, projectId: project });
    await storage.createBucket(id);
    const [topic] = await pubsub.createTopic(id);
    await topic.createSubscription(id);
    const kv = (await openKv(`mem://counters-${rand()}`)) as KvStore<number>;
    useResources({
      bucket: await openBucket(
        `gs://${id}?projectId=${project}&endpoint=${encodeURIComponent(gcs!.env.STORAGE_EMULATOR_HOST!)}`,
      ),
      queue: await openQueue<UploadJob>(`gcppubsub://projects/${project}/topics/${id}?subscription=${id}`, {
        driverOptions: { client: pubsub },
      }),
      kv,
    });
    ff.http(`api-${id}`, cloudFunctionsHttp(api));
    ff.cloudEvent(`worker-${id}`, cloudFunctionsEvent(worker));
    const serveFn = async (name: string) => {
      const server = getTestServer(name);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
    };
    const a = await serveFn(`api-${id}`);
    const w = await serveFn(`worker-${id}`);
    try {
      const put = await fetch(`${a.url}/uploads/photo.bin`, { method: 'PUT', body });
      expect(put.status).toBe(201);
      const pulled = await new Promise<{
        receivedMessages?: {
          ackId: string;
          message: { data: Buffer; attributes: Record<string, string>; messageId: string };
        }[];
      }>((resolve, reject) =>
        pubsub.request(
          {
            client: 'SubscriberClient',
            method: 'pull',
            reqOpts: { subscription: `projects/${project}/subscriptions/${id}`, maxMessages: 10 },
          },
          (err, res) => (err ? reject(err) : resolve(res as never)),
        ),
      );
      const msg = pulled.receivedMessages![0]!.message;
      // Eventarc's messagePublished event, binary content mode.
      const res = await fetch(w.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'ce-specversion': '1.0',
          'ce-id': msg.messageId,
          'ce-type': 'google.cloud.pubsub.topic.v1.messagePublished',
          'ce-source': `//pubsub.googleapis.com/projects/${project}/topics/${id}`,
        },
        body: JSON.stringify({
          message: {
            data: Buffer.from(msg.data).toString('base64'),
            attributes: msg.attributes,
            messageId: msg.messageId,
          },
          subscription: `projects/${project}/subscriptions/${id}`,
        }),
      });
      expect(res.status).toBeLessThan(300);
      expect(await counters(kv)).toEqual({ uploads: 1, bytes: body.byteLength });
    } finally {
      a.server.close();
      w.server.close();
      await pubsub.close();
    }
  });
});

const azurite = useEmulator('azurite');
describe.skipIf(!azurite)('Azure Functions (library-level, azurite)', () => {
  it('api and worker through @azure/functions types', async () => {
    const connectionString = azurite!.env.AZURE_STORAGE_CONNECTION_STRING!;
    const name = `pc-ex-${rand()}`;
    await BlobServiceClient.fromConnectionString(connectionString).getContainerClient(name).create();
    const qc = QueueServiceClient.fromConnectionString(connectionString).getQueueClient(name);
    await qc.create();
    const kv = (await openKv(`mem://counters-${rand()}`)) as KvStore<number>;
    useResources({
      bucket: await openBucket(`azblob://${name}`, { driverOptions: { connectionString } }),
      queue: await openQueue<UploadJob>(`azqueue://${name}`, { driverOptions: { connectionString } }),
      kv,
    });
    const ctx = (meta: Record<string, unknown> = {}) =>
      new InvocationContext({
        invocationId: randomUUID(),
        functionName: 'x',
        triggerMetadata: meta,
        logHandler: () => {},
      });
    // host.json sets extensions.http.routePrefix to "" (DEPLOY.md), so paths match the other platforms.
    const res = await azureHttp(api)(
      new HttpRequest({
        method: 'PUT',
        url: 'http://localhost:7071/uploads/photo.bin',
        body: { bytes: body },
      }),
      ctx(),
    );
    expect(res.status).toBe(201);
    const { receivedMessageItems } = await qc.receiveMessages({ numberOfMessages: 1 });
    const m = receivedMessageItems[0]!;
    await azureStorageQueue(worker)(
      m.messageText,
      ctx({
        id: m.messageId,
        dequeueCount: m.dequeueCount,
        insertionTime: m.insertedOn.toISOString(),
        popReceipt: m.popReceipt,
      }),
    );
    expect(await counters(kv)).toEqual({ uploads: 1, bytes: body.byteLength });
  });
});
