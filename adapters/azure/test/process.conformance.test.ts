import { TableServiceClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { processSuite } from '@polycloud/conformance';
import { azuriteTarget, rand } from './emulator.js';

// Blob, Queue and Table on Azurite, opened by URL in the child with the connection string.
const { connectionString, notRun } = azuriteTarget();
const TABLE = `proc${rand().replace(/-/g, '')}`;

processSuite({
  adapter: 'azure',
  emulator: 'azurite',
  notRun,
  async beforeAll() {
    if (!connectionString) return;
    await TableServiceClient.fromConnectionString(connectionString, { allowInsecureConnection: true })
      .createTable(TABLE)
      .catch(() => {});
  },
  async open() {
    if (!connectionString) throw new Error('azurite is not available');
    const name = `pc-${rand()}`;
    await BlobServiceClient.fromConnectionString(connectionString).createContainer(name);
    await QueueServiceClient.fromConnectionString(connectionString).createQueue(name);
    const options = { driverOptions: { connectionString } };
    return {
      bucket: { url: `azblob://${name}`, options },
      queue: { url: `azqueue://${name}`, options },
      kv: { url: `aztable://${TABLE}?namespace=${name}`, options },
    };
  },
  async openVia(hostPort) {
    const key = /AccountKey=([^;]+)/.exec(connectionString ?? '')?.[1] ?? '';
    const at = (port: string) =>
      `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${key};` +
      `BlobEndpoint=http://${port}/devstoreaccount1;QueueEndpoint=http://${port}/devstoreaccount1;` +
      `TableEndpoint=http://${port}/devstoreaccount1;`;
    const options = { driverOptions: { connectionString: at(hostPort) } };
    return {
      bucket: { url: 'azblob://pc-hole', options },
      queue: { url: 'azqueue://pc-hole', options },
      kv: { url: 'aztable://pchole?namespace=n', options },
    };
  },
});
