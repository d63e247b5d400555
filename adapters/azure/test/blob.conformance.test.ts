import { BlobServiceClient } from '@azure/storage-blob';
import { azureBucket } from '@polycloud/azure/blob';
import { bucketSuite } from '@polycloud/conformance';
import { openBucket } from '@polycloud/core';
import { azuriteTarget, rand } from './emulator.js';

const { connectionString, notRun } = azuriteTarget();
let n = 0;

bucketSuite({
  adapter: 'azure',
  emulator: 'azurite',
  reportName: 'azure-blob',
  notRun,
  async open() {
    if (!connectionString) throw new Error('azurite is not available');
    const admin = BlobServiceClient.fromConnectionString(connectionString);
    const name = `pc-${rand()}`;
    await admin.getContainerClient(name).create();
    // Alternate between opening by URL and the typed constructor, so both paths are exercised.
    const bucket =
      n++ % 2 === 0
        ? await openBucket(`azblob://${name}`, { driverOptions: { connectionString } })
        : azureBucket({ container: name, connectionString });
    return {
      bucket,
      cleanup: async () => {
        await bucket.close();
        await admin.getContainerClient(name).deleteIfExists();
      },
    };
  },
});
