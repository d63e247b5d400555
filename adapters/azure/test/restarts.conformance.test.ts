import { TableServiceClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { restartSuite } from '@polycloud/conformance';
import { openBucket, openKv, openQueue } from '@polycloud/core';
import { rand } from './emulator.js';

// Azurite started with --location: blobs, messages and entities are on disk and must all
// survive the restart.
const cs = (env: Readonly<Record<string, string>>) => env.AZURE_STORAGE_CONNECTION_STRING!;

restartSuite({
  adapter: 'azure',
  targets: [
    {
      emulator: 'azurite',
      durable: true,
      blob: {
        async open(env, opts) {
          const name = `pc-${rand()}`;
          const admin = BlobServiceClient.fromConnectionString(cs(env));
          const recreate = async () => void (await admin.getContainerClient(name).createIfNotExists());
          await recreate();
          const resource = await openBucket(`azblob://${name}`, {
            ...opts,
            driverOptions: { connectionString: cs(env) },
          });
          return { resource, recreate };
        },
      },
      queue: {
        async open(env, opts) {
          const name = `pc-${rand()}`;
          const admin = QueueServiceClient.fromConnectionString(cs(env));
          const recreate = async () => void (await admin.getQueueClient(name).createIfNotExists());
          await recreate();
          const resource = await openQueue(`azqueue://${name}`, {
            ...opts,
            driverOptions: { connectionString: cs(env) },
          });
          return { resource, recreate };
        },
      },
      kv: {
        async open(env, opts) {
          const table = `restart${rand().replace(/-/g, '')}`;
          const admin = TableServiceClient.fromConnectionString(cs(env), { allowInsecureConnection: true });
          const recreate = async () => void (await admin.createTable(table).catch(() => {}));
          await recreate();
          const resource = await openKv(`aztable://${table}?namespace=${rand()}`, {
            ...opts,
            driverOptions: { connectionString: cs(env) },
          });
          return { resource, recreate };
        },
      },
    },
  ],
});
