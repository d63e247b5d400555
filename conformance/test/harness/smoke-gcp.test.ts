// fake-gcs-server, pstest and the Bigtable emulator through Google's official Node.js clients.
// Pub/Sub and Bigtable clients get no endpoint option: PUBSUB_EMULATOR_HOST /
// BIGTABLE_EMULATOR_HOST and GOOGLE_CLOUD_PROJECT from the endpoint's env are enough. Cloud
// Storage needs apiEndpoint (see below).
import { Bigtable } from '@google-cloud/bigtable';
import { type Message, PubSub } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { describe, expect, it, vi } from 'vitest';
import { emulatorForBlock, uniqueName } from './smoke-helpers.js';

describe('fake-gcs-server', () => {
  const gcs = emulatorForBlock('fake-gcs-server');

  it('Cloud Storage: create a bucket, upload an object, download it', async (ctx) => {
    const { env } = gcs.endpoint(ctx);
    // The Node.js client is the odd one out: with STORAGE_EMULATOR_HOST set it sends JSON API
    // calls to `${STORAGE_EMULATOR_HOST}/b` (no /storage/v1) yet uploads to
    // `${STORAGE_EMULATOR_HOST}/upload/storage/v1`, so no value of the variable works with
    // fake-gcs-server. The variable's value is passed as apiEndpoint instead (as the adapter does).
    vi.stubEnv('STORAGE_EMULATOR_HOST', undefined);
    const storage = new Storage({ apiEndpoint: env.STORAGE_EMULATOR_HOST! });
    const [bucket] = await storage.createBucket(uniqueName('smoke-'));
    const file = bucket.file('a/b.txt');
    await file.save('hello bucket', { contentType: 'text/plain', resumable: false });
    const [contents] = await file.download();
    expect(contents.toString('utf8')).toBe('hello bucket');
    const [metadata] = await file.getMetadata();
    expect(metadata.contentType).toBe('text/plain');
  });
});

describe('pstest', () => {
  const pstest = emulatorForBlock('pstest');

  it('Pub/Sub: create a topic and subscription, publish, receive', async (ctx) => {
    pstest.endpoint(ctx);
    const pubsub = new PubSub();
    try {
      const [topic] = await pubsub.createTopic(uniqueName('smoke-'));
      const [subscription] = await topic.createSubscription(uniqueName('smoke-'));
      const received = new Promise<Message>((resolve, reject) => {
        subscription.on('message', (m: Message) => {
          m.ack();
          resolve(m);
        });
        subscription.on('error', reject);
      });
      await topic.publishMessage({ data: Buffer.from('hello topic'), attributes: { k: 'v' } });
      const message = await received;
      expect(message.data.toString('utf8')).toBe('hello topic');
      expect(message.attributes).toEqual({ k: 'v' });
      await subscription.close();
    } finally {
      await pubsub.close();
    }
  });
});

describe('bigtable-emulator', () => {
  const bigtable = emulatorForBlock('bigtable-emulator');

  it('Bigtable: create a table with the admin client, write a row, read it', async (ctx) => {
    bigtable.endpoint(ctx);
    const client = new Bigtable();
    try {
      const table = client.instance('smoke').table(uniqueName('smoke-'));
      await table.create({ families: ['cf'] });
      await table.insert([{ key: 'row1', data: { cf: { q: 'hello row' } } }]);
      const [row] = await table.row('row1').get();
      expect(row.data.cf.q[0].value).toBe('hello row');
      await table.delete();
    } finally {
      await client.close();
    }
  });
});
