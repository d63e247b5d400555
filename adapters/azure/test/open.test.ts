import { TableClient } from '@azure/data-tables';
import { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import { QueueClient, QueueServiceClient } from '@azure/storage-queue';
import { azureBucket } from '@polycloud/azure/blob';
import { azureQueue } from '@polycloud/azure/queue';
import { azureKv } from '@polycloud/azure/table';
import { isPolycloudError, openBucket, openKv, openQueue } from '@polycloud/core';
import { describe, expect, it } from 'vitest';
import {
  connectionStringAccount,
  connectionStringEndpoint,
  connectionStringKey,
} from '../src/credentials.js';
import { azuriteTarget, rand } from './emulator.js';

const invalid = (e: unknown) => isPolycloudError(e, 'INVALID_ARGUMENT');

describe('opening by URL: rejected forms', () => {
  it.each([
    ['an unknown parameter', 'azblob://ccc?account=a&region=x'],
    ['a path', 'azblob://ccc/sub?account=a'],
    ['a port', 'azblob://ccc:10000?account=a'],
    ['credentials', 'azblob://user:secret@ccc?account=a'],
  ])('azblob with %s', async (_, url) => {
    await expect(openBucket(url)).rejects.toSatisfy(invalid);
  });

  it.each([
    ['a container name that is too short', 'blob', 'azblob://c1?account=a', 'container names are 3 to 63'],
    ['an upper-case container name', 'blob', 'azblob://Uploads?account=a', 'lowercase'],
    ['a double hyphen in a queue name', 'queue', 'azqueue://my--jobs?account=a', 'single hyphens'],
    ['an underscore in a queue name', 'queue', 'azqueue://my_jobs?account=a', 'queue names'],
    [
      'a hyphen in a table name',
      'kv',
      'aztable://my-table?account=a',
      'table names are 3 to 63 letters and digits',
    ],
    ['a table name starting with a digit', 'kv', 'aztable://1table?account=a', 'starting with a letter'],
  ] as const)('rejects %s with the naming rule', async (_, service, url, rule) => {
    const open = { blob: openBucket, queue: openQueue, kv: openKv }[service];
    const err = await (open as (u: string) => Promise<unknown>)(url).catch((e: unknown) => e);
    expect(isPolycloudError(err, 'INVALID_ARGUMENT')).toBe(true);
    expect((err as Error).message).toContain(rule);
  });

  it('accepts valid names, the special containers and mixed-case table names', async () => {
    for (const url of ['azblob://my-uploads-1?account=a', 'azblob://$web?account=a']) {
      await (await openBucket(url)).close();
    }
    await (await openQueue('azqueue://jobs-dlq?account=a')).close();
    await (await openKv('aztable://Counters2?account=a')).close();
  });

  it('a connection string without an account names itself, not a missing account= parameter', async () => {
    const err = await openKv('aztable://counters', { driverOptions: { connectionString: 'garbage' } }).catch(
      (e: unknown) => e,
    );
    expect(isPolycloudError(err, 'INVALID_ARGUMENT')).toBe(true);
    expect((err as Error).message).toContain('the connectionString option names no account');
    expect((err as Error).message).not.toContain('garbage');
  });

  it('rejects a bad queue visibilityTimeout and a kv namespace over the limit', async () => {
    await expect(openQueue('azqueue://qqq?account=a&visibilityTimeout=0')).rejects.toSatisfy(invalid);
    await expect(openQueue('azqueue://qqq?account=a&visibilityTimeout=x')).rejects.toSatisfy(invalid);
    await expect(openKv(`aztable://ttt?account=a&namespace=${'n'.repeat(385)}`)).rejects.toSatisfy(invalid);
    await expect(openKv('aztable://ttt?account=a&ttl=1')).rejects.toSatisfy(invalid);
  });
});

const { connectionString, notRun } = azuriteTarget();

describe.skipIf(notRun !== undefined)('credentials and endpoints against Azurite', () => {
  // The describe body runs even when skipped: derive nothing from a connection string not given.
  const cs = connectionString ?? '';
  const account = connectionStringAccount(cs) ?? '';
  const accountKey = connectionStringKey(cs) ?? '';

  it('account + shared key + endpoint= work for all three services', async () => {
    const container = `pc-open-${rand()}`;
    const queue = `pc-open-${rand()}`;
    const table = `pcopen${rand().replace(/-/g, '')}`;
    await BlobServiceClient.fromConnectionString(cs).getContainerClient(container).create();
    await QueueServiceClient.fromConnectionString(cs).getQueueClient(queue).create();
    await TableClient.fromConnectionString(cs, table, { allowInsecureConnection: true }).createTable();
    try {
      const endpoint = (s: 'blob' | 'queue' | 'table') =>
        encodeURIComponent(connectionStringEndpoint(cs, s)!);
      const driverOptions = { accountKey };
      const bucket = await openBucket(
        `azblob://${container}?account=${account}&endpoint=${endpoint('blob')}`,
        { driverOptions },
      );
      await bucket.put('k', 'v');
      expect(await bucket.getText('k')).toBe('v');
      const q = await openQueue(`azqueue://${queue}?account=${account}&endpoint=${endpoint('queue')}`, {
        driverOptions,
      });
      await q.send({ a: 1 });
      expect((await q.receive({ waitSeconds: 5 }))[0]?.body).toEqual({ a: 1 });
      const kv = await openKv(
        `aztable://${table}?account=${account}&endpoint=${endpoint('table')}&namespace=n`,
        { driverOptions },
      );
      await kv.set('k', 1);
      expect((await kv.get('k'))?.value).toBe(1);
    } finally {
      await BlobServiceClient.fromConnectionString(cs).getContainerClient(container).deleteIfExists();
      await QueueServiceClient.fromConnectionString(cs).getQueueClient(queue).deleteIfExists();
      await TableClient.fromConnectionString(cs, table, { allowInsecureConnection: true }).deleteTable();
    }
  });

  it('typed constructors adopt a native client and native() returns it', async () => {
    const containerClient = BlobServiceClient.fromConnectionString(cs).getContainerClient(
      `pc-native-${rand()}`,
    );
    const bucket = azureBucket({ client: containerClient });
    expect(bucket.native()).toBe(containerClient);
    expect(bucket.native()).toBeInstanceOf(ContainerClient);
    expect(bucket.name).toBe(containerClient.containerName);

    const queueClient = QueueServiceClient.fromConnectionString(cs).getQueueClient('pc-native');
    const q = azureQueue({ client: queueClient });
    expect(q.native()).toBe(queueClient);
    expect(q.native()).toBeInstanceOf(QueueClient);

    const tableClient = TableClient.fromConnectionString(cs, 'pcnative', { allowInsecureConnection: true });
    const kv = azureKv({ client: tableClient, namespace: 'ns' });
    expect(kv.native()).toBe(tableClient);
    expect(kv.namespace).toBe('ns');
  });

  it('a missing container is NOT_FOUND, never a native error', async () => {
    const bucket = azureBucket({ container: `pc-missing-${rand()}`, connectionString: cs });
    await expect(bucket.put('k', 'v')).rejects.toSatisfy((e) => isPolycloudError(e, 'NOT_FOUND'));
    await expect(bucket.list()).rejects.toSatisfy((e) => isPolycloudError(e, 'NOT_FOUND'));
    const q = azureQueue({ queue: `pc-missing-${rand()}`, connectionString: cs });
    await expect(q.send(1)).rejects.toSatisfy((e) => isPolycloudError(e, 'NOT_FOUND'));
    const kv = azureKv({ table: `pcmissing${rand().replace(/-/g, '')}`, connectionString: cs });
    await expect(kv.set('k', 1)).rejects.toSatisfy((e) => isPolycloudError(e, 'NOT_FOUND'));
  });

  it('a wrong key is UNAUTHENTICATED or PERMISSION_DENIED', async () => {
    const bucket = azureBucket({
      container: 'pc-anything',
      account,
      accountKey: Buffer.from('not the key').toString('base64'),
      endpoint: connectionStringEndpoint(cs, 'blob')!,
    });
    await expect(bucket.head('k')).rejects.toSatisfy(
      (e) => isPolycloudError(e, 'UNAUTHENTICATED') || isPolycloudError(e, 'PERMISSION_DENIED'),
    );
  });
});
