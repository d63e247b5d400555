import { TableServiceClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { faultSuite, startPrivateEmulator } from '@polycloud/conformance';
import { openBucket, openKv, openQueue } from '@polycloud/core';
import { azuriteTarget, rand } from './emulator.js';

// Azurite's three services behind fault proxies: the connection string's endpoint for the
// service under test is pointed at the proxy; resources are created directly.
const { connectionString, notRun } = azuriteTarget();
const TABLE = `faults${rand().replace(/-/g, '')}`;

function endpointOf(cs: string, service: 'Blob' | 'Queue' | 'Table'): URL {
  const m = new RegExp(`${service}Endpoint=([^;]+)`).exec(cs);
  if (!m) throw new Error(`no ${service}Endpoint in the Azurite connection string`);
  return new URL(m[1]!);
}
function via(cs: string, service: 'Blob' | 'Queue' | 'Table', hostPort: string): string {
  const u = endpointOf(cs, service);
  u.host = hostPort;
  return cs.replace(
    new RegExp(`${service}Endpoint=[^;]+`),
    `${service}Endpoint=${u.href.replace(/\/$/, '')}`,
  );
}
const accountKey = connectionString ? (/AccountKey=([^;]+)/.exec(connectionString)?.[1] ?? '') : '';
// ~1 GiB of uploads: on a private Azurite keeping blobs on disk, not in the shared instance's
// 512 MiB in-memory extent store that other test files use.
let blobCs = connectionString;
let privateAzurite: { stop(): Promise<void> } | undefined;

faultSuite({
  adapter: 'azure',
  emulator: 'azurite',
  notRun,
  secrets: [accountKey],
  async beforeAll() {
    if (!connectionString) return;
    const own = await startPrivateEmulator('azurite', { persistent: true });
    privateAzurite = own;
    blobCs = own.env.AZURE_STORAGE_CONNECTION_STRING!;
    await TableServiceClient.fromConnectionString(connectionString, { allowInsecureConnection: true })
      .createTable(TABLE)
      .catch(() => {});
  },
  async afterAll() {
    await privateAzurite?.stop();
  },
  ...(connectionString
    ? {
        blob: {
          get upstream() {
            return endpointOf(blobCs!, 'Blob').host;
          },
          async open(endpoint, opts) {
            const name = `pc-${rand()}`;
            await BlobServiceClient.fromConnectionString(blobCs!).createContainer(name);
            const resource = await openBucket(`azblob://${name}`, {
              ...opts,
              driverOptions: { connectionString: via(blobCs!, 'Blob', endpoint) },
            });
            return { resource, cleanup: () => resource.close() };
          },
        },
        queue: {
          upstream: endpointOf(connectionString, 'Queue').host,
          async open(endpoint, opts) {
            const name = `pc-${rand()}`;
            await QueueServiceClient.fromConnectionString(connectionString).createQueue(name);
            const resource = await openQueue(`azqueue://${name}`, {
              ...opts,
              driverOptions: { connectionString: via(connectionString, 'Queue', endpoint) },
            });
            return { resource, cleanup: () => resource.close() };
          },
        },
        kv: {
          upstream: endpointOf(connectionString, 'Table').host,
          async open(endpoint, opts) {
            const resource = await openKv(`aztable://${TABLE}?namespace=${rand()}`, {
              ...opts,
              driverOptions: { connectionString: via(connectionString, 'Table', endpoint) },
            });
            return { resource, cleanup: () => resource.close() };
          },
        },
      }
    : {}),
});
