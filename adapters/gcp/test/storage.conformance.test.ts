import type { Storage } from '@google-cloud/storage';
import { bucketSuite } from '@polycloud/conformance';
import { openBucket } from '@polycloud/core';
import { storageClient } from '@polycloud/gcp/storage';
import { fakeServiceAccount, gcpTarget, PROJECT, rand } from './emulator.js';

const { endpoint, notRun } = gcpTarget('fake-gcs-server');
let admin: Storage | undefined;
let credentials: { client_email: string; private_key: string } | undefined;

bucketSuite({
  adapter: 'gcp',
  emulator: 'fake-gcs-server',
  reportName: 'gcp-blob',
  notRun,
  async beforeAll() {
    if (!endpoint) return;
    credentials = fakeServiceAccount();
    admin = storageClient({ apiEndpoint: endpoint.env.STORAGE_EMULATOR_HOST!, projectId: PROJECT });
  },
  async open() {
    if (!endpoint || !admin || !credentials) throw new Error('fake-gcs-server is not available');
    const name = `pc-${rand()}`;
    await admin.createBucket(name);
    // Opened by URL, so URL parsing and the driver options path are exercised too.
    const url = `gs://${name}?projectId=${PROJECT}&endpoint=${encodeURIComponent(endpoint.env.STORAGE_EMULATOR_HOST!)}`;
    const bucket = await openBucket(url, { driverOptions: { credentials } });
    const client = admin;
    return {
      bucket,
      cleanup: async () => {
        await client.bucket(name).deleteFiles({ force: true });
        await client.bucket(name).delete();
      },
    };
  },
});
