import { PubSub } from '@google-cloud/pubsub';
import { fuzzSuite } from '@polycloud/conformance';
import {
  blobEventFunction,
  openBucket,
  openKv,
  openQueue,
  queueFunction,
  scheduleFunction,
} from '@polycloud/core';
import { cloudFunctionsEvent } from '@polycloud/gcp/functions';
import { fakeServiceAccount, gcpTarget, PROJECT, rand } from './emulator.js';

// Cloud Storage, Pub/Sub, Bigtable and the CloudEvent binding fuzzed without I/O: calls that
// pass validation meet an aborted signal (or, at worst, a closed port with one attempt). Opening
// a Pub/Sub queue reads the subscription, so it is opened on pstest when it runs (else left out).
const ps = gcpTarget('pstest');
const opts = { retry: { maxAttempts: 1 }, attemptTimeoutMs: 2000 };
const closed = '127.0.0.1:1';
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const bind = (fn: Parameters<typeof cloudFunctionsEvent>[0]) => {
  const h = cloudFunctionsEvent(fn, { logger: quiet });
  return (event: unknown) => h(event as never);
};

fuzzSuite({
  adapter: 'gcp',
  bucket: () =>
    openBucket(`gs://fuzz?projectId=${PROJECT}&endpoint=${encodeURIComponent(`http://${closed}`)}`, {
      ...opts,
      driverOptions: { credentials: fakeServiceAccount() },
    }),
  ...(ps.endpoint
    ? {
        queue: async () => {
          const apiEndpoint = ps.endpoint!.env.PUBSUB_EMULATOR_HOST!;
          const id = `fuzz-${rand()}`;
          const admin = new PubSub({ projectId: PROJECT, apiEndpoint });
          const [topic] = await admin.createTopic(id);
          await topic.createSubscription(id);
          await admin.close();
          return openQueue(`gcppubsub://projects/${PROJECT}/topics/${id}?subscription=${id}`, {
            ...opts,
            driverOptions: { apiEndpoint },
          });
        },
      }
    : {}),
  kv: () =>
    openKv(`bigtable://projects/${PROJECT}/instances/fuzz/tables/fuzz`, {
      ...opts,
      driverOptions: { apiEndpoint: closed },
    }),
  events: {
    'cloudFunctionsEvent(queueFunction)': bind(queueFunction(async () => {})),
    'cloudFunctionsEvent(scheduleFunction)': bind(scheduleFunction('*/5 * * * *', async () => {})),
    'cloudFunctionsEvent(blobEventFunction)': bind(blobEventFunction(async () => {})),
  },
  eventSeeds: [
    {
      specversion: '1.0',
      type: 'google.cloud.pubsub.topic.v1.messagePublished',
      id: '1',
      source: 's',
      data: { message: { data: '%%%', messageId: 'm', attributes: { a: 1 } }, subscription: 'x' },
    },
    {
      specversion: '1.0',
      type: 'google.cloud.storage.object.v1.finalized',
      id: '1',
      source: 's',
      data: { bucket: 'b', name: '', generation: 'x', size: '-1' },
    },
    { specversion: '1.0', type: 'google.cloud.scheduler.job.v1.executed', id: '1', source: 's', time: 'x' },
  ],
});
