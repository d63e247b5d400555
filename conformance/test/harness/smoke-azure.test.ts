// Azurite through the official Azure SDKs, from AZURE_STORAGE_CONNECTION_STRING alone.
import { TableClient, TableServiceClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { describe, expect, it } from 'vitest';
import { emulatorForBlock, uniqueName } from './smoke-helpers.js';

describe('azurite', () => {
  const azurite = emulatorForBlock('azurite');
  const connectionString = (ctx: Parameters<typeof azurite.endpoint>[0]) =>
    azurite.endpoint(ctx).env.AZURE_STORAGE_CONNECTION_STRING!;

  it('Blob: create a container, upload a blob, download it', async (ctx) => {
    const service = BlobServiceClient.fromConnectionString(connectionString(ctx));
    const { containerClient } = await service.createContainer(uniqueName('smoke-'));
    const blob = containerClient.getBlockBlobClient('a/b.txt');
    await blob.upload('hello blob', 10, { blobHTTPHeaders: { blobContentType: 'text/plain' } });
    const body = await blob.downloadToBuffer();
    expect(body.toString('utf8')).toBe('hello blob');
    expect((await blob.getProperties()).contentType).toBe('text/plain');
    await containerClient.delete();
  });

  it('Queue: create a queue, send a message, receive it', async (ctx) => {
    const service = QueueServiceClient.fromConnectionString(connectionString(ctx));
    const queueClient = service.getQueueClient(uniqueName('smoke-'));
    await queueClient.create();
    await queueClient.sendMessage('hello queue');
    const got = await queueClient.receiveMessages({ numberOfMessages: 1 });
    expect(got.receivedMessageItems[0]?.messageText).toBe('hello queue');
    await queueClient.delete();
  });

  it('Table: create a table, insert an entity, get it', async (ctx) => {
    const cs = connectionString(ctx);
    const tableName = uniqueName('smoke');
    await TableServiceClient.fromConnectionString(cs, { allowInsecureConnection: true }).createTable(
      tableName,
    );
    const table = TableClient.fromConnectionString(cs, tableName, { allowInsecureConnection: true });
    await table.createEntity({ partitionKey: 'p', rowKey: 'r1', value: 'hello table' });
    const entity = await table.getEntity<{ value: string }>('p', 'r1');
    expect(entity.value).toBe('hello table');
    await table.deleteTable();
  });
});
