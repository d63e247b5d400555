import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  type DynamoDBClient,
  QueryCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { createDynamoClient, kvTableDefinition } from '@polycloud/aws/dynamodb';
import type { KvHarness } from '@polycloud/conformance';
import { openKv } from '@polycloud/core';
import { awsTarget, rand } from './emulator.js';

/** Creates a DynamoDB table with the adapter's layout (and TTL on `ttl` where the emulator has it). */
export async function createKvTable(client: DynamoDBClient, table: string): Promise<void> {
  await client.send(new CreateTableCommand(kvTableDefinition(table)));
  await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: table });
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: table,
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      }),
    );
  } catch {
    // dynalite has no TTL API; reads hide expired items either way.
  }
}

/** Deletes every item of one namespace with the native SDK. */
async function clearNamespace(client: DynamoDBClient, table: string, namespace: string): Promise<void> {
  let start: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :ns',
        ExpressionAttributeValues: { ':ns': { S: namespace } },
        ProjectionExpression: 'pk, sk',
        ExclusiveStartKey: start,
      }),
    );
    const items = page.Items ?? [];
    for (let i = 0; i < items.length; i += 25) {
      await client.send(
        new BatchWriteItemCommand({
          RequestItems: { [table]: items.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } })) },
        }),
      );
    }
    start = page.LastEvaluatedKey;
  } while (start);
}

/** A kv harness for one DynamoDB emulator: one table for the suite, a fresh namespace per test. */
export function dynamoHarness(emulator: 'moto' | 'dynalite', reportName: string): KvHarness {
  const { target, notRun } = awsTarget(emulator, 'DYNAMODB');
  const table = `pc-kv-${rand()}`;
  let admin: DynamoDBClient | undefined;
  return {
    adapter: 'aws',
    emulator,
    reportName,
    notRun,
    async beforeAll() {
      if (!target) return;
      admin = createDynamoClient({
        endpoint: target.endpoint,
        region: target.region,
        clientConfig: { credentials: target.credentials },
      });
      await createKvTable(admin, table);
    },
    async afterAll() {
      if (admin) await admin.send(new DeleteTableCommand({ TableName: table })).catch(() => {});
      admin?.destroy();
    },
    async open(namespace) {
      if (!target || !admin) throw new Error(`${emulator} is not available`);
      const client = admin;
      const url =
        `dynamodb://${table}?namespace=${encodeURIComponent(namespace)}` +
        `&endpoint=${encodeURIComponent(target.endpoint)}&region=${target.region}`;
      const kv = await openKv(url, { driverOptions: { clientConfig: { credentials: target.credentials } } });
      return {
        kv,
        cleanup: async () => {
          await kv.close();
          await clearNamespace(client, table, namespace);
        },
      };
    },
  };
}
