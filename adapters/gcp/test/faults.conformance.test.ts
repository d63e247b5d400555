import { Bigtable } from '@google-cloud/bigtable';
import { PubSub } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import { faultSuite } from '@polycloud/conformance';
import { openBucket, openKv, openQueue } from '@polycloud/core';
import { storageClient } from '@polycloud/gcp/storage';
import { fakeServiceAccount, gcpTarget, PROJECT, rand } from './emulator.js';

// Cloud Storage, Pub/Sub and Bigtable emulators behind the fault proxy; resources are created
// directly, the portable objects talk through the proxy.
const gcs = gcpTarget('fake-gcs-server');
const ps = gcpTarget('pstest');
const bt = gcpTarget('bigtable-emulator');
const INSTANCE = 'polycloud';
const TABLE = `faults-${rand()}`;
const credentials = fakeServiceAccount();
let admin: { storage: Storage; pubsub: PubSub; bigtable: Bigtable } | undefined;
const hostPort = (v: string) => (v.includes('://') ? new URL(v).host : v);

faultSuite({
  adapter: 'gcp',
  emulator: 'fake-gcs-server+pstest+bigtable-emulator',
  notRun: gcs.notRun ?? ps.notRun ?? bt.notRun,
  secrets: [credentials.private_key.split('\n')[1] ?? ''],
  async beforeAll() {
    if (!gcs.endpoint || !ps.endpoint || !bt.endpoint) return;
    admin = {
      storage: storageClient({ apiEndpoint: gcs.endpoint.env.STORAGE_EMULATOR_HOST!, projectId: PROJECT }),
      pubsub: new PubSub({ projectId: PROJECT, apiEndpoint: ps.endpoint.env.PUBSUB_EMULATOR_HOST! }),
      bigtable: new Bigtable({
        projectId: PROJECT,
        apiEndpoint: bt.endpoint.env.BIGTABLE_EMULATOR_HOST!,
        metricsEnabled: false,
      }),
    };
    await admin.bigtable
      .instance(INSTANCE)
      .createTable(TABLE, { families: [{ name: 'kv', rule: { versions: 1 } }] });
  },
  async afterAll() {
    await admin?.pubsub.close();
    await admin?.bigtable.close();
  },
  ...(gcs.endpoint && ps.endpoint && bt.endpoint
    ? {
        blob: {
          upstream: hostPort(gcs.endpoint.env.STORAGE_EMULATOR_HOST!),
          async open(endpoint, opts) {
            const name = `pc-${rand()}`;
            await admin!.storage.createBucket(name);
            const url = `gs://${name}?projectId=${PROJECT}&endpoint=${encodeURIComponent(`http://${endpoint}`)}`;
            const resource = await openBucket(url, { ...opts, driverOptions: { credentials } });
            return { resource, cleanup: () => resource.close() };
          },
        },
        queue: {
          upstream: hostPort(ps.endpoint.env.PUBSUB_EMULATOR_HOST!),
          async open(endpoint, opts) {
            const id = `pc-${rand()}`;
            const [topic] = await admin!.pubsub.createTopic(id);
            await topic.createSubscription(id, { ackDeadlineSeconds: 30 });
            const resource = await openQueue(
              `gcppubsub://projects/${PROJECT}/topics/${id}?subscription=${id}`,
              {
                ...opts,
                driverOptions: { apiEndpoint: endpoint },
              },
            );
            return { resource, cleanup: () => resource.close() };
          },
        },
        kv: {
          upstream: hostPort(bt.endpoint.env.BIGTABLE_EMULATOR_HOST!),
          async open(endpoint, opts) {
            const resource = await openKv(
              `bigtable://projects/${PROJECT}/instances/${INSTANCE}/tables/${TABLE}?namespace=${rand()}`,
              { ...opts, driverOptions: { apiEndpoint: endpoint } },
            );
            return { resource, cleanup: () => resource.close() };
          },
        },
      }
    : {}),
});
