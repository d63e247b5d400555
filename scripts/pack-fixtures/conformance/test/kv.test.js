import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { createDynamoClient, kvTableDefinition } from '@polycloud/aws/dynamodb';
import { kvSuite } from '@polycloud/conformance';
import { emulatorNotRunReason, useEmulator } from '@polycloud/conformance/emulators';
import { openKv } from '@polycloud/core';

// The reference adapter, as a third-party adapter author would run it.
kvSuite({
  adapter: 'memory',
  emulator: null,
  async open() {
    const kv = await openKv(`mem://t-${randomUUID()}`);
    return { kv, cleanup: () => kv.close() };
  },
});

// A provided endpoint: DynamoDB on dynalite, started by the installed harness.
const e = useEmulator('dynalite');
const table = `pc-${randomUUID().slice(0, 8)}`;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
let admin;
kvSuite({
  adapter: 'aws',
  emulator: 'dynalite',
  reportName: 'aws-kv-dynalite',
  notRun: e ? undefined : emulatorNotRunReason('dynalite'),
  async beforeAll() {
    admin = createDynamoClient({
      endpoint: e.env.AWS_ENDPOINT_URL_DYNAMODB ?? e.env.AWS_ENDPOINT_URL,
      region: 'us-east-1',
      clientConfig: { credentials },
    });
    await admin.send(new CreateTableCommand(kvTableDefinition(table)));
    await waitUntilTableExists({ client: admin, maxWaitTime: 60 }, { TableName: table });
  },
  async afterAll() {
    await admin?.send(new DeleteTableCommand({ TableName: table })).catch(() => {});
  },
  async open(namespace) {
    const endpoint = e.env.AWS_ENDPOINT_URL_DYNAMODB ?? e.env.AWS_ENDPOINT_URL;
    const kv = await openKv(
      `dynamodb://${table}?namespace=${encodeURIComponent(namespace)}&endpoint=${encodeURIComponent(endpoint)}&region=us-east-1`,
      { driverOptions: { clientConfig: { credentials } } },
    );
    return { kv, cleanup: () => kv.close() };
  },
});
