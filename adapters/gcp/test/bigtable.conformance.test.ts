import { Bigtable } from '@google-cloud/bigtable';
import { kvSuite } from '@polycloud/conformance';
import { openKv } from '@polycloud/core';
import { namespacePrefix } from '@polycloud/gcp/bigtable';
import { gcpTarget, PROJECT, rand } from './emulator.js';

const { endpoint, notRun } = gcpTarget('bigtable-emulator');
const INSTANCE = 'polycloud';
const TABLE = `kv-${rand()}`;
let admin: Bigtable | undefined;

kvSuite({
  adapter: 'gcp',
  emulator: 'bigtable-emulator',
  reportName: 'gcp-kv',
  notRun,
  async beforeAll() {
    if (!endpoint) return;
    admin = new Bigtable({
      projectId: PROJECT,
      apiEndpoint: endpoint.env.BIGTABLE_EMULATOR_HOST!,
      metricsEnabled: false,
    });
    // One table for the run; every test gets its own namespace (a row-key prefix).
    await admin.instance(INSTANCE).createTable(TABLE, { families: [{ name: 'kv', rule: { versions: 1 } }] });
  },
  async afterAll() {
    if (!admin) return;
    await admin
      .instance(INSTANCE)
      .table(TABLE)
      .delete()
      .catch(() => {});
    await admin.close();
  },
  async open(namespace) {
    if (!endpoint || !admin) throw new Error('the Bigtable emulator is not available');
    const client = admin;
    // Opened by URL, so URL parsing and the driver options path are exercised too.
    const kv = await openKv(
      `bigtable://projects/${PROJECT}/instances/${INSTANCE}/tables/${TABLE}?namespace=${encodeURIComponent(namespace)}`,
      { driverOptions: { client } },
    );
    return {
      kv,
      cleanup: async () => {
        await client
          .instance(INSTANCE)
          .table(TABLE)
          .deleteRows(namespacePrefix(namespace).toString('latin1'));
      },
    };
  },
});
