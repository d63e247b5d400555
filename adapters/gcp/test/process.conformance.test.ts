import { Bigtable } from '@google-cloud/bigtable';
import { PubSub } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import { processSuite } from '@polycloud/conformance';
import { storageClient } from '@polycloud/gcp/storage';
import { fakeServiceAccount, gcpTarget, PROJECT, rand } from './emulator.js';

// Cloud Storage (fake-gcs-server), Pub/Sub (pstest) and Bigtable, each opened by URL in the
// child with JSON-only options and the emulator variables the SDKs honour.
const gcs = gcpTarget('fake-gcs-server');
const ps = gcpTarget('pstest');
const bt = gcpTarget('bigtable-emulator');
const INSTANCE = 'polycloud';
const TABLE = `proc-${rand()}`;
let admin: { storage: Storage; pubsub: PubSub; bigtable: Bigtable } | undefined;
const credentials = fakeServiceAccount();

processSuite({
  adapter: 'gcp',
  emulator: 'pstest',
  notRun: gcs.notRun ?? ps.notRun ?? bt.notRun,
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
  async open() {
    if (!admin || !gcs.endpoint || !ps.endpoint || !bt.endpoint)
      throw new Error('GCP emulators are not available');
    const id = `pc-${rand()}`;
    await admin.storage.createBucket(id);
    const [topic] = await admin.pubsub.createTopic(id);
    await topic.createSubscription(id, { ackDeadlineSeconds: 30 });
    const storageHost = gcs.endpoint.env.STORAGE_EMULATOR_HOST!;
    return {
      bucket: {
        url: `gs://${id}?projectId=${PROJECT}&endpoint=${encodeURIComponent(storageHost)}`,
        options: { driverOptions: { credentials } },
      },
      queue: {
        url: `gcppubsub://projects/${PROJECT}/topics/${id}?subscription=${id}`,
        options: { driverOptions: { apiEndpoint: ps.endpoint.env.PUBSUB_EMULATOR_HOST! } },
      },
      kv: {
        url: `bigtable://projects/${PROJECT}/instances/${INSTANCE}/tables/${TABLE}?namespace=${id}`,
        options: { driverOptions: { apiEndpoint: bt.endpoint.env.BIGTABLE_EMULATOR_HOST! } },
      },
      env: {
        STORAGE_EMULATOR_HOST: storageHost,
        PUBSUB_EMULATOR_HOST: ps.endpoint.env.PUBSUB_EMULATOR_HOST!,
        BIGTABLE_EMULATOR_HOST: bt.endpoint.env.BIGTABLE_EMULATOR_HOST!,
        PUBSUB_PROJECT_ID: PROJECT,
        GOOGLE_CLOUD_PROJECT: PROJECT,
      },
    };
  },
  async openVia(hostPort) {
    // Endpoints in the SDKs' emulator variables too, as a user's environment would have them.
    return {
      bucket: {
        url: `gs://pc-hole?projectId=${PROJECT}&endpoint=${encodeURIComponent(`http://${hostPort}`)}`,
        options: { driverOptions: { credentials } },
      },
      // Opened without I/O (its configuration given), so send and receive reach the blackhole;
      // the subscription lookup of a plain open is probed on its own.
      queue: {
        url: `gcppubsub://projects/${PROJECT}/topics/pc-hole?subscription=pc-hole`,
        options: {
          driverOptions: {
            apiEndpoint: hostPort,
            subscriptionConfig: { deadLetter: false, messageOrdering: false, ackDeadlineSeconds: 10 },
          },
        },
      },
      queueOpens: [
        {
          url: `gcppubsub://projects/${PROJECT}/topics/pc-hole?subscription=pc-hole`,
          options: { driverOptions: { apiEndpoint: hostPort } },
        },
      ],
      kv: {
        url: `bigtable://projects/${PROJECT}/instances/${INSTANCE}/tables/pc-hole?namespace=n`,
        options: { driverOptions: { apiEndpoint: hostPort } },
      },
      env: {
        STORAGE_EMULATOR_HOST: `http://${hostPort}`,
        PUBSUB_EMULATOR_HOST: hostPort,
        BIGTABLE_EMULATOR_HOST: hostPort,
        PUBSUB_PROJECT_ID: PROJECT,
        GOOGLE_CLOUD_PROJECT: PROJECT,
      },
    };
  },
});
