import { PubSub } from '@google-cloud/pubsub';
import { queueSuite } from '@polycloud/conformance';
import { openQueue, type Queue } from '@polycloud/core';
import { gcpTarget, PROJECT, rand } from './emulator.js';

const { endpoint, notRun } = gcpTarget('pstest');
let admin: PubSub | undefined;

/** Pub/Sub's bounds on maxDeliveryAttempts (the service rejects values outside 5..100). */
const MIN_DELIVERY_ATTEMPTS = 5;

queueSuite({
  adapter: 'gcp',
  emulator: 'pstest',
  reportName: 'gcp-queue',
  notRun,
  async beforeAll() {
    if (!endpoint) return;
    admin = new PubSub({ projectId: PROJECT, apiEndpoint: endpoint.env.PUBSUB_EMULATOR_HOST! });
  },
  async afterAll() {
    await admin?.close();
  },
  async open(opts) {
    if (!endpoint || !admin) throw new Error('pstest is not available');
    const client = admin;
    const id = `pc-${rand()}`;
    const created: { topics: string[]; subs: string[] } = { topics: [], subs: [] };
    const vis = opts?.visibilityTimeoutSeconds;
    // Pub/Sub ack deadlines are 10..600 s; shorter visibilities are applied per receive by the driver.
    const ackDeadlineSeconds = Math.max(10, Math.min(600, vis ?? 30));
    const [topic] = await client.createTopic(id);
    created.topics.push(id);
    let deadLetter: Queue<unknown> | undefined;
    let deadLetterPolicy: { deadLetterTopic: string; maxDeliveryAttempts: number } | undefined;
    if (opts?.deadLetter) {
      const dlq = `${id}-dlq`;
      await client.createTopic(dlq);
      created.topics.push(dlq);
      await client.topic(dlq).createSubscription(dlq, { ackDeadlineSeconds: 30 });
      created.subs.push(dlq);
      deadLetterPolicy = {
        deadLetterTopic: `projects/${PROJECT}/topics/${dlq}`,
        maxDeliveryAttempts: Math.max(MIN_DELIVERY_ATTEMPTS, opts.deadLetter.maxDeliveries),
      };
      deadLetter = await openQueue(`gcppubsub://projects/${PROJECT}/topics/${dlq}?subscription=${dlq}`, {
        driverOptions: { client },
      });
    }
    await topic.createSubscription(id, {
      ackDeadlineSeconds,
      enableMessageOrdering: true,
      ...(deadLetterPolicy ? { deadLetterPolicy } : {}),
    });
    created.subs.push(id);
    // Opened by URL, so URL parsing, the subscription lookup and driver options are exercised.
    const queue = await openQueue(`gcppubsub://projects/${PROJECT}/topics/${id}?subscription=${id}`, {
      driverOptions: { client, ...(vis !== undefined ? { visibilityTimeoutSeconds: vis } : {}) },
    });
    return {
      queue,
      ...(deadLetter ? { deadLetter } : {}),
      cleanup: async () => {
        for (const s of created.subs)
          await client
            .subscription(s)
            .delete()
            .catch(() => {});
        for (const t of created.topics)
          await client
            .topic(t)
            .delete()
            .catch(() => {});
      },
    };
  },
});
