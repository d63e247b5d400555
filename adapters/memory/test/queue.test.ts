import { bytesCodec, isPolycloudError, type Message, PolycloudError, type Queue } from '@polycloud/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type MemoryQueueStore, memoryBucket, memoryQueue, resetMemory } from '../src/index.js';

let queue: Queue<unknown>;
beforeEach(() => {
  queue = memoryQueue();
});
afterEach(() => {
  vi.useRealTimers();
  resetMemory();
});

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    if (isPolycloudError(err)) return err.code;
    throw err;
  }
}

const fake = () =>
  vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
const one = async (q: Queue<unknown> = queue, opts = {}) => (await q.receive(opts))[0];

describe('memory queue', () => {
  it('invalidates receipts on redelivery: an old receipt acks nothing, like SQS', async () => {
    fake();
    await queue.send('m');
    const first = (await one(queue, { visibilityTimeoutSeconds: 1 }))!;
    expect(first.deliveryCount).toBe(1);
    await vi.advanceTimersByTimeAsync(1001);
    const second = (await one())!;
    expect(second.id).toBe(first.id);
    expect(second.deliveryCount).toBe(2);
    await queue.ack(first); // stale: succeeds, deletes nothing
    expect(await code(queue.nack(first))).toBe('PRECONDITION_FAILED');
    expect(await code(queue.extend(first, 10))).toBe('PRECONDITION_FAILED');
    await queue.nack(second);
    const third = (await one())!;
    expect(third.deliveryCount).toBe(3);
    await queue.ack(third);
    await queue.ack(third); // double ack succeeds
    expect(await queue.receive()).toEqual([]);
    expect(await code(queue.nack(third))).toBe('NOT_FOUND');
  });

  it('hides messages for the visibility timeout and honours extend and nack delays', async () => {
    fake();
    await queue.send('m');
    const m = (await one(queue, { visibilityTimeoutSeconds: 10 }))!;
    await vi.advanceTimersByTimeAsync(9000);
    await queue.extend(m, 10);
    await vi.advanceTimersByTimeAsync(9000);
    expect(await queue.receive()).toEqual([]);
    await queue.nack(m, { delaySeconds: 5 });
    await vi.advanceTimersByTimeAsync(4000);
    expect(await queue.receive()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1001);
    expect((await one())?.deliveryCount).toBe(2);
  });

  it('uses the queue default visibility (30 s, or the one it was opened with)', async () => {
    fake();
    await queue.send('m');
    await one();
    await vi.advanceTimersByTimeAsync(29_000);
    expect(await queue.receive()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1001);
    expect(await one()).toBeDefined();

    const short = memoryQueue(undefined, { visibilityTimeoutSeconds: 2 });
    await short.send('m');
    await one(short);
    await vi.advanceTimersByTimeAsync(2001);
    expect(await one(short)).toBeDefined();
  });

  it('delays delivery', async () => {
    fake();
    await queue.send('late', { delaySeconds: 3 });
    await queue.send('now');
    expect((await queue.receive({ maxMessages: 10 })).map((m) => m.body)).toEqual(['now']);
    await vi.advanceTimersByTimeAsync(3001);
    expect((await one())?.body).toBe('late');
  });

  it('long-polls: resolves as soon as a message arrives, and when one comes due', async () => {
    const started = Date.now();
    const p = queue.receive({ waitSeconds: 20 });
    setTimeout(() => void queue.send('hi'), 30);
    const got = await p;
    expect(got.map((m) => m.body)).toEqual(['hi']);
    expect(Date.now() - started).toBeLessThan(2000);

    fake();
    await queue.send('later', { delaySeconds: 2 });
    const waiting = queue.receive({ waitSeconds: 10 });
    await vi.advanceTimersByTimeAsync(2001);
    expect((await waiting).map((m) => m.body)).toEqual(['later']);

    const empty = queue.receive({ waitSeconds: 3 });
    await vi.advanceTimersByTimeAsync(3001);
    expect(await empty).toEqual([]);
  });

  it('wakes a long poll when a nack makes a message visible', async () => {
    await queue.send('m');
    const m = (await one())!;
    const p = queue.receive({ waitSeconds: 20 });
    setTimeout(() => void queue.nack(m), 20);
    expect((await p)[0]?.deliveryCount).toBe(2);
  });

  it('cancels a long poll on abort and ends it on close', async () => {
    const ac = new AbortController();
    const p = queue.receive({ waitSeconds: 20, signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    expect(await code(p)).toBe('CANCELLED');
    expect((queue.native() as MemoryQueueStore).waiters.size).toBe(0);

    const q2 = memoryQueue('closing');
    const started = Date.now();
    const waiting = q2.receive({ waitSeconds: 20 });
    setTimeout(() => void q2.close(), 20);
    expect(await waiting).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('delivers a group in order, one message in flight at a time', async () => {
    await queue.sendBatch([
      { body: 'a1', groupId: 'a' },
      { body: 'b1', groupId: 'b' },
      { body: 'a2', groupId: 'a' },
      { body: 'x' },
      { body: 'a3', groupId: 'a' },
    ]);
    const first = await queue.receive({ maxMessages: 10 });
    expect(first.map((m) => m.body)).toEqual(['a1', 'b1', 'x']);
    expect(await queue.receive({ maxMessages: 10 })).toEqual([]);
    const a1 = first[0]!;
    await queue.nack(a1);
    const again = await queue.receive({ maxMessages: 10 });
    expect(again.map((m) => m.body)).toEqual(['a1']);
    // Acking the head lets the next of its group through, and wakes a waiting receive.
    const waiting = queue.receive({ maxMessages: 10, waitSeconds: 20 });
    await queue.ack(again[0]!);
    expect((await waiting).map((m) => [m.body, m.groupId])).toEqual([['a2', 'a']]);
  });

  it('drops duplicates within the deduplication window', async () => {
    fake();
    const a = await queue.send('one', { deduplicationId: 'd' });
    const b = await queue.send('two', { deduplicationId: 'd' });
    expect(b.id).toBe(a.id);
    const m = (await one())!;
    await queue.ack(m);
    expect(await queue.send('three', { deduplicationId: 'd' })).toEqual(a);
    expect(await queue.receive()).toEqual([]);
    await vi.advanceTimersByTimeAsync(5 * 60 * 1000 + 1);
    const c = await queue.send('four', { deduplicationId: 'd' });
    expect(c.id).not.toBe(a.id);
    expect((await one())?.body).toBe('four');
  });

  it('carries attributes and bytes, and keeps stored bodies private', async () => {
    const raw = queue.withCodec(bytesCodec);
    const body = new Uint8Array([0, 255, 1]);
    await raw.send(body, { attributes: { kind: 'x' } });
    body[0] = 7;
    const m = (await raw.receive())[0]!;
    expect([...m.body]).toEqual([0, 255, 1]);
    expect(m.attributes).toEqual({ kind: 'x' });
    expect(m.enqueuedAt).toBeInstanceOf(Date);
    m.body[1] = 0;
    await raw.nack(m);
    expect([...(await raw.receive())[0]!.body]).toEqual([0, 255, 1]);
  });

  it('rejects oversized messages', async () => {
    expect(await code(queue.send('x'.repeat(256 * 1024)))).toBe('PAYLOAD_TOO_LARGE');
  });

  it('dead-letters through the portable consumer', async () => {
    const dlq = memoryQueue();
    await queue.send('poison');
    const seen: number[] = [];
    const c = queue.consume(
      (m: Message<unknown>) => {
        seen.push(m.deliveryCount);
        throw new Error('bad');
      },
      { maxDeliveries: 2, deadLetter: dlq, retryDelaySeconds: () => 0, waitSeconds: 1 },
    );
    const dead = await dlq.receive({ waitSeconds: 10 });
    await c.stop();
    expect(seen).toEqual([1, 2]);
    expect(dead.map((m) => m.body)).toEqual(['poison']);
    expect(c.stats.deadLettered).toBe(1);
    expect(await queue.receive()).toEqual([]);
  });

  it('consume acks in batches of at most maxBatchSize and flushes them before stop() resolves', async () => {
    const ack = vi.spyOn(queue, 'ack');
    for (let i = 0; i < 25; i++) await queue.send(`m${i}`);
    let handled = 0;
    const c = queue.consume(
      () => {
        handled++;
      },
      { concurrency: 16, waitSeconds: 1 },
    );
    while (handled < 25) await new Promise((r) => setTimeout(r, 5));
    await c.stop();
    expect(c.stats.acked).toBe(25);
    const sizes = ack.mock.calls.map(([arg]) => (Array.isArray(arg) ? arg.length : 1));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(25);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(queue.capabilities.maxBatchSize);
    expect(sizes.length).toBeLessThan(25);
    expect(await queue.receive({ visibilityTimeoutSeconds: 1 })).toEqual([]);
  });

  it('consume reports a failed ack of one message in a batch to onError with that message', async () => {
    const real = queue.ack.bind(queue);
    vi.spyOn(queue, 'ack').mockImplementation((async (
      input: Message<unknown> | readonly Message<unknown>[],
    ) => {
      const msgs = Array.isArray(input) ? input : [input];
      const results = await real(msgs);
      return results.map((r, i) =>
        msgs[i]!.body === 'bad'
          ? {
              id: r.id,
              ok: false,
              error: new PolycloudError({
                code: 'UNAVAILABLE',
                message: 'ack failed',
                provider: 'memory',
                service: 'queue',
                operation: 'ack',
                retryable: true,
              }),
            }
          : r,
      );
    }) as typeof queue.ack);
    await queue.sendBatch([{ body: 'ok1' }, { body: 'bad' }, { body: 'ok2' }]);
    const errors: [unknown, unknown][] = [];
    let handled = 0;
    const c = queue.consume(
      () => {
        handled++;
      },
      { concurrency: 4, waitSeconds: 1, onError: (e, m) => errors.push([e, m?.body]) },
    );
    while (handled < 3) await new Promise((r) => setTimeout(r, 5));
    await c.stop();
    expect(c.stats.acked).toBe(2);
    expect(errors).toHaveLength(1);
    expect(errors[0]![1]).toBe('bad');
    expect(isPolycloudError(errors[0]![0], 'UNAVAILABLE')).toBe(true);
  });

  it('consume drains a backlog with a second receive loop, never holding more than concurrency messages', async () => {
    const concurrency = 16;
    const real = queue.receive.bind(queue);
    let receiving = 0;
    let asked = 0;
    let running = 0;
    let overlap = 0;
    let over = 0;
    vi.spyOn(queue, 'receive').mockImplementation((async (opts: { maxMessages?: number } = {}) => {
      receiving++;
      asked += opts.maxMessages ?? 1;
      overlap = Math.max(overlap, receiving);
      if (asked + running > concurrency) over++;
      try {
        // A receive that takes a while, like a network call, so loops can overlap.
        await new Promise((r) => setTimeout(r, 5));
        return await real(opts);
      } finally {
        receiving--;
        asked -= opts.maxMessages ?? 1;
      }
    }) as typeof queue.receive);
    for (let i = 0; i < 10; i++)
      await queue.sendBatch(Array.from({ length: 10 }, (_, j) => ({ body: i * 10 + j })));
    let handled = 0;
    const c = queue.consume(
      async () => {
        running++;
        if (asked + running > concurrency) over++;
        await new Promise((r) => setTimeout(r, 1));
        running--;
        handled++;
      },
      { concurrency, waitSeconds: 1 },
    );
    while (handled < 100) await new Promise((r) => setTimeout(r, 5));
    // Drained: the extra loop ends on an empty answer; one long poll stays.
    await new Promise((r) => setTimeout(r, 100));
    const idleReceives = receiving;
    await c.stop();
    expect(c.stats.acked).toBe(100);
    expect(over).toBe(0);
    expect(overlap).toBeGreaterThanOrEqual(2);
    expect(idleReceives).toBe(1);
  });

  it('send encodes each message on its own: attributes stay per message, a claim-checked body keeps them', async () => {
    const bucket = memoryBucket();
    const q = memoryQueue<string>(undefined, { claimCheck: { bucket } });
    const big = 'x'.repeat(300 * 1024);
    const results = await q.sendBatch([
      { body: 'plain' },
      { body: 'tagged', attributes: { kind: 'a' } },
      { body: big, attributes: { kind: 'big' } },
      { body: 'plain again' },
    ]);
    expect(results.every((r) => r.ok)).toBe(true);
    const got = new Map<string, Message<string>>();
    for (let i = 0; i < 10 && got.size < 4; i++) {
      for (const m of await q.receive({ maxMessages: 10 })) got.set(m.body.slice(0, 12), m);
    }
    expect(got.get('plain')?.attributes).toEqual({});
    expect(got.get('plain again')?.attributes).toEqual({});
    expect(got.get('tagged')?.attributes).toEqual({ kind: 'a' });
    const claimed = got.get(big.slice(0, 12));
    expect(claimed?.body).toBe(big);
    expect(claimed?.attributes).toEqual({ kind: 'big' });
  });
});
