import { PubSub } from '@google-cloud/pubsub';
import { bytesCodec, isPolycloudError, openQueue } from '@polycloud/core';
import { pubsubQueue } from '@polycloud/gcp/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gcpTarget, PROJECT, rand } from './emulator.js';

const { endpoint, notRun } = gcpTarget('pstest');

describe.skipIf(!endpoint)(`Pub/Sub adapter on pstest${notRun ? ` (${notRun})` : ''}`, () => {
  let admin: PubSub;
  const created: { topics: string[]; subs: string[] } = { topics: [], subs: [] };

  async function topicWithSub(
    sub: {
      enableMessageOrdering?: boolean;
      deadLetterTopic?: string;
      maxDeliveryAttempts?: number;
      ackDeadlineSeconds?: number;
    } = {},
  ) {
    const id = `pc-${rand()}`;
    const [topic] = await admin.createTopic(id);
    created.topics.push(id);
    await topic.createSubscription(id, {
      ackDeadlineSeconds: sub.ackDeadlineSeconds ?? 10,
      ...(sub.enableMessageOrdering ? { enableMessageOrdering: true } : {}),
      ...(sub.deadLetterTopic
        ? {
            deadLetterPolicy: {
              deadLetterTopic: sub.deadLetterTopic,
              maxDeliveryAttempts: sub.maxDeliveryAttempts ?? 5,
            },
          }
        : {}),
    });
    created.subs.push(id);
    return id;
  }

  beforeAll(() => {
    admin = new PubSub({ projectId: PROJECT, apiEndpoint: endpoint!.env.PUBSUB_EMULATOR_HOST! });
  });
  afterAll(async () => {
    for (const s of created.subs)
      await admin
        .subscription(s)
        .delete()
        .catch(() => {});
    for (const t of created.topics)
      await admin
        .topic(t)
        .delete()
        .catch(() => {});
    await admin.close();
  });

  it('ordering keys: each group arrives in publish order', async () => {
    const id = await topicWithSub({ enableMessageOrdering: true });
    const q = await pubsubQueue<{ g: string; n: number }>({
      topic: id,
      subscription: id,
      projectId: PROJECT,
      client: admin,
    });
    expect(q.capabilities.groupId).toBe(true);
    const sent = [];
    for (let n = 0; n < 15; n++) for (const g of ['x', 'y', 'z']) sent.push({ body: { g, n }, groupId: g });
    const results = await q.sendBatch(sent);
    expect(results.every((r) => r.ok)).toBe(true);
    const seen = new Map<string, number[]>();
    const deadline = Date.now() + 30_000;
    let total = 0;
    while (total < sent.length && Date.now() < deadline) {
      const batch = await q.receive({ maxMessages: 10, waitSeconds: 1 });
      for (const m of batch) {
        expect(m.groupId).toBe(m.body.g);
        seen.set(m.body.g, [...(seen.get(m.body.g) ?? []), m.body.n]);
        total++;
      }
      if (batch.length) await q.ack(batch);
    }
    for (const g of ['x', 'y', 'z']) expect(seen.get(g)).toEqual(Array.from({ length: 15 }, (_, i) => i));
    await q.close();
  });

  it('a subscription without message ordering does not declare groupId, and core rejects it', async () => {
    const id = await topicWithSub();
    const q = await pubsubQueue({
      topic: `projects/${PROJECT}/topics/${id}`,
      subscription: id,
      client: admin,
    });
    expect(q.capabilities.groupId).toBe(false);
    expect(q.capabilities.nativeDeadLetter).toBe(false);
    const err = await q.send(1, { groupId: 'g' }).catch((e: unknown) => e);
    expect(isPolycloudError(err, 'UNSUPPORTED')).toBe(true);
    await q.close();
  });

  it('with a dead-letter policy, deliveryCount is the service’s deliveryAttempt and dead-lettering is native', async () => {
    const dlq = `pc-${rand()}-dlq`;
    await admin.createTopic(dlq);
    created.topics.push(dlq);
    await admin.topic(dlq).createSubscription(dlq, { ackDeadlineSeconds: 10 });
    created.subs.push(dlq);
    const id = await topicWithSub({
      deadLetterTopic: `projects/${PROJECT}/topics/${dlq}`,
      maxDeliveryAttempts: 5,
    });
    const q = await pubsubQueue({ topic: id, subscription: id, projectId: PROJECT, client: admin });
    expect(q.capabilities.nativeDeadLetter).toBe(true);
    await q.send({ poison: true });
    const counts: number[] = [];
    while (counts.length < 5) {
      const [m] = await q.receive({ waitSeconds: 2 });
      if (!m) continue;
      counts.push(m.deliveryCount);
      await q.nack(m);
    }
    expect(counts).toEqual([1, 2, 3, 4, 5]);
    const dead = await pubsubQueue({ topic: dlq, subscription: dlq, projectId: PROJECT, client: admin });
    let got: unknown;
    for (let i = 0; i < 10 && got === undefined; i++) {
      await q.receive({ waitSeconds: 1 }); // the pull that finds the message exhausted moves it
      const [m] = await dead.receive({ waitSeconds: 1 });
      if (m) {
        got = m.body;
        await dead.ack(m);
      }
    }
    expect(got).toEqual({ poison: true });
    await q.close();
    await dead.close();
  });

  it('empty bodies are published with a marker attribute that receivers never see', async () => {
    const id = await topicWithSub();
    const q = (
      await pubsubQueue({ topic: id, subscription: id, projectId: PROJECT, client: admin })
    ).withCodec(bytesCodec);
    await q.send(new Uint8Array());
    const [m] = await q.receive({ waitSeconds: 5 });
    expect(m?.bytes.byteLength).toBe(0);
    expect(m?.attributes).toEqual({});
    await q.ack(m!);
    await q.close();
  });

  it('opening a missing subscription fails with NOT_FOUND', async () => {
    const id = await topicWithSub();
    const err = await openQueue(`gcppubsub://projects/${PROJECT}/topics/${id}?subscription=nope-${rand()}`, {
      driverOptions: { client: admin },
    }).catch((e: unknown) => e);
    expect(isPolycloudError(err, 'NOT_FOUND')).toBe(true);
  });

  it('rejects malformed gcppubsub:// URLs', async () => {
    for (const url of [
      'gcppubsub://projects/p/topics/t',
      'gcppubsub://topics/t?subscription=s',
      'gcppubsub://projects/p/topics/t?subscription=s&x=1',
      'gcppubsub://projects/p/topics/t?subscription=s&consumePull=push',
      'gcppubsub://projects/p/topics/t?subscription=s&pullStreams=0',
      'gcppubsub://projects/p/topics/t?subscription=s&pullStreams=1.5',
    ]) {
      const err = await openQueue(url, { driverOptions: { client: admin } }).catch((e: unknown) => e);
      expect(isPolycloudError(err, 'INVALID_ARGUMENT')).toBe(true);
    }
  });

  it('native() is the PubSub client; a driver-made client is closed with the queue', async () => {
    const id = await topicWithSub();
    const shared = await pubsubQueue({ topic: id, subscription: id, projectId: PROJECT, client: admin });
    expect(shared.native()).toBe(admin);
    await shared.close();
    const own = await pubsubQueue({
      topic: id,
      subscription: id,
      projectId: PROJECT,
      apiEndpoint: endpoint!.env.PUBSUB_EMULATOR_HOST!,
    });
    expect(own.native()).toBeInstanceOf(PubSub);
    await own.send('x');
    await own.close();
    expect(own.native().isOpen).toBe(false);
  });

  describe('consume() on streaming pull', () => {
    it('stop() gives back what the stream delivered but no handler took', async () => {
      // A 600 s ack deadline: a message kept and not given back would stay hidden past the test.
      const id = await topicWithSub({ ackDeadlineSeconds: 600 });
      const q = await pubsubQueue<number>({ topic: id, subscription: id, projectId: PROJECT, client: admin });
      const total = 40;
      await q.sendBatch(Array.from({ length: total }, (_, n) => ({ body: n })));
      const handled = new Set<number>();
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      let started!: () => void;
      const twoStarted = new Promise<void>((r) => {
        started = r;
      });
      const c = q.consume(
        async (m) => {
          handled.add(m.body);
          if (handled.size === 2) started();
          await gate;
        },
        { concurrency: 2, visibilityTimeoutSeconds: 600 },
      );
      await twoStarted;
      // Let the streams deliver past the two busy handlers (pstest sends one per stream per 10 ms).
      await new Promise((r) => setTimeout(r, 500));
      const stopping = c.stop();
      release();
      await stopping;
      expect(c.stats.acked).toBe(handled.size);
      const rest = new Set<number>();
      for (let i = 0; i < 40 && rest.size + handled.size < total; i++) {
        const got = await q.receive({ maxMessages: 100, waitSeconds: 1 });
        for (const m of got) rest.add(m.body);
        if (got.length) await q.ack(got);
      }
      for (const n of handled) rest.add(n);
      expect(rest.size).toBe(total);
      await q.close();
    });

    it('a stream failure reaches onError and the consumer keeps trying; consumePull=sync polls', async () => {
      const id = await topicWithSub();
      const missing = await pubsubQueue({
        topic: id,
        subscription: `${id}-gone`,
        projectId: PROJECT,
        client: admin,
        subscriptionConfig: { deadLetter: false, messageOrdering: false, ackDeadlineSeconds: 10 },
      });
      const errors: unknown[] = [];
      let twice!: () => void;
      const failedTwice = new Promise<void>((r) => {
        twice = r;
      });
      const c = missing.consume(async () => {}, {
        onError: (e) => {
          errors.push(e);
          if (errors.length === 2) twice();
        },
      });
      await failedTwice;
      await c.stop();
      expect(errors.every((e) => isPolycloudError(e, 'NOT_FOUND'))).toBe(true);
      await missing.close();

      const q = await openQueue<number>(
        `gcppubsub://projects/${PROJECT}/topics/${id}?subscription=${id}&consumePull=sync`,
        { driverOptions: { client: admin } },
      );
      await q.sendBatch(Array.from({ length: 20 }, (_, n) => ({ body: n })));
      const seen = new Set<number>();
      let all!: () => void;
      const done = new Promise<void>((r) => {
        all = r;
      });
      const pull = q.consume(
        async (m) => {
          seen.add(m.body);
          if (seen.size === 20) all();
        },
        { concurrency: 4 },
      );
      await done;
      await pull.stop();
      expect(pull.stats.acked).toBeGreaterThanOrEqual(20);
      await q.close();
    });
  });
});
