import { Bigtable } from '@google-cloud/bigtable';
import { PubSub } from '@google-cloud/pubsub';
import { restartSuite } from '@polycloud/conformance';
import { openBucket, openKv, openQueue } from '@polycloud/core';
import { storageClient } from '@polycloud/gcp/storage';
import { fakeServiceAccount, PROJECT, rand } from './emulator.js';

// fake-gcs-server, pstest and the Bigtable emulator all keep state in memory: the restart
// forgets it, the suite makes the resource again and checks the same objects work.
const credentials = fakeServiceAccount();

restartSuite({
  adapter: 'gcp',
  targets: [
    {
      emulator: 'fake-gcs-server',
      durable: false,
      blob: {
        async open(env, opts) {
          const endpoint = env.STORAGE_EMULATOR_HOST!;
          const name = `pc-${rand()}`;
          const admin = storageClient({ apiEndpoint: endpoint, projectId: PROJECT });
          const recreate = async () => void (await admin.createBucket(name));
          await recreate();
          const url = `gs://${name}?projectId=${PROJECT}&endpoint=${encodeURIComponent(endpoint)}`;
          return { resource: await openBucket(url, { ...opts, driverOptions: { credentials } }), recreate };
        },
      },
    },
    {
      emulator: 'pstest',
      durable: false,
      queue: {
        async open(env, opts) {
          const apiEndpoint = env.PUBSUB_EMULATOR_HOST!;
          const id = `pc-${rand()}`;
          const admin = new PubSub({ projectId: PROJECT, apiEndpoint });
          const recreate = async () => {
            const [topic] = await admin.createTopic(id);
            await topic.createSubscription(id, { ackDeadlineSeconds: 10 });
          };
          await recreate();
          const resource = await openQueue(
            `gcppubsub://projects/${PROJECT}/topics/${id}?subscription=${id}`,
            {
              ...opts,
              driverOptions: { apiEndpoint },
            },
          );
          return { resource, recreate };
        },
      },
    },
    {
      emulator: 'bigtable-emulator',
      durable: false,
      kv: {
        async open(env, opts) {
          const apiEndpoint = env.BIGTABLE_EMULATOR_HOST!;
          const table = `restart-${rand()}`;
          const admin = new Bigtable({ projectId: PROJECT, apiEndpoint, metricsEnabled: false });
          const recreate = async () =>
            void (await admin
              .instance('polycloud')
              .createTable(table, { families: [{ name: 'kv', rule: { versions: 1 } }] }));
          await recreate();
          const resource = await openKv(
            `bigtable://projects/${PROJECT}/instances/polycloud/tables/${table}?namespace=${rand()}`,
            { ...opts, driverOptions: { apiEndpoint } },
          );
          return { resource, recreate };
        },
      },
    },
  ],
});
