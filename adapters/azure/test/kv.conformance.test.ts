import { TableClient } from '@azure/data-tables';
import { azureKv } from '@polycloud/azure/table';
import { kvSuite } from '@polycloud/conformance';
import { openKv } from '@polycloud/core';
import { azuriteTarget, rand } from './emulator.js';

const { connectionString, notRun } = azuriteTarget();
// One table for the whole suite; every test gets its own namespace (PartitionKey).
const table = `pc${rand().replace(/-/g, '')}`;
let n = 0;

const admin = () =>
  TableClient.fromConnectionString(connectionString!, table, { allowInsecureConnection: true });

kvSuite({
  adapter: 'azure',
  emulator: 'azurite',
  reportName: 'azure-kv',
  notRun,
  async beforeAll() {
    if (connectionString) await admin().createTable();
  },
  async afterAll() {
    if (connectionString) await admin().deleteTable();
  },
  async open(namespace) {
    if (!connectionString) throw new Error('azurite is not available');
    // Alternate between opening by URL and the typed constructor, so both paths are exercised.
    const kv =
      n++ % 2 === 0
        ? await openKv(`aztable://${table}?namespace=${encodeURIComponent(namespace)}`, {
            driverOptions: { connectionString },
          })
        : azureKv({ table, namespace, connectionString });
    return { kv };
  },
});
