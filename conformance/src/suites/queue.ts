import {
  bytesCodec,
  isPolycloudError,
  type Message,
  type Queue,
  type ReceiveOptions,
  type SendOptions,
} from '@polycloud/core';
import type { QueueHarness } from '../harness.js';
import { type RegisterTest, runSuite, type TestCtx } from './framework.js';
import {
  check,
  checkBytes,
  describeError,
  expectCode,
  expectPolycloudError,
  expectUnsupported,
  MiB,
  randomData,
  sleep,
} from './helpers.js';

type Opened = { queue: Queue<unknown>; deadLetter?: Queue<unknown> };
type OpenOpts = Parameters<QueueHarness['open']>[0];

/** A short visibility timeout for redelivery tests (seconds). */
const SHORT_VISIBILITY = 2;

/** JSON bodies of every shape that must round-trip through the default codec. */
export const QUEUE_JSON_CASES: readonly (readonly [string, unknown])[] = [
  ['null', null],
  ['boolean', false],
  ['integer zero', 0],
  ['negative float', -12.5e-7],
  ['empty string', ''],
  ['string with unicode and escapes', '😀 日本語 \u2028\u2029 \u0000 "quoted" \\ back\nslash'],
  ['empty array', []],
  ['nested arrays', [1, [2, [3, ['four']]], null, true]],
  ['empty object', {}],
  [
    'object with unicode keys and values',
    { ключ: 'значение', '😀': { 'a b': [1, 2], '': 'empty key' }, n: 1.5 },
  ],
];

/**
 * The queue conformance suite. Every test opens a fresh queue with `h.open()`.
 *
 * @example
 * queueSuite({ adapter: 'memory', emulator: null, open: async () => ({ queue: memoryQueue() }) });
 */
export function queueSuite(h: QueueHarness): void {
  runSuite(h, 'queue', (test) => registerQueueTests(h, test));
}

function registerQueueTests(h: QueueHarness, test: RegisterTest): void {
  const open = async (t: TestCtx, opts?: OpenOpts): Promise<Opened> => {
    const r = await h.open(opts);
    t.defer(async () => {
      try {
        await r.cleanup?.();
      } finally {
        await r.queue.close();
        await r.deadLetter?.close();
      }
    });
    return r;
  };
  /** A fresh queue whose messages come back SHORT_VISIBILITY seconds after a receive. */
  const openShort = (t: TestCtx, extra: OpenOpts = {}) =>
    open(t, { ...extra, visibilityTimeoutSeconds: SHORT_VISIBILITY });
  /** Receive options asking for a short visibility where the queue can take it per receive. */
  const shortVis = (q: Queue<unknown>): Pick<ReceiveOptions, 'visibilityTimeoutSeconds'> =>
    q.capabilities.visibilityTimeout ? { visibilityTimeoutSeconds: SHORT_VISIBILITY } : {};
  const longVis = (q: Queue<unknown>): Pick<ReceiveOptions, 'visibilityTimeoutSeconds'> =>
    q.capabilities.visibilityTimeout
      ? { visibilityTimeoutSeconds: Math.min(60, q.capabilities.maxVisibilitySeconds) }
      : {};

  // ---------------------------------------------------------------- basics

  test('basics: send, receive and ack a JSON message', async (t) => {
    const { queue } = await open(t);
    const before = Date.now();
    const { id } = await queue.send({ hello: 'world', n: 1 });
    check(typeof id === 'string' && id.length > 0, 'send returned no id');
    const [m] = await receiveSome(queue, { timeoutMs: 15_000, ...longVis(queue) });
    check(m !== undefined, 'the message was not received');
    check(
      JSON.stringify(m.body) === JSON.stringify({ hello: 'world', n: 1 }),
      `received body ${JSON.stringify(m.body)}`,
    );
    check(m.id === id, `received id ${m.id}, send returned ${id}`);
    if (queue.capabilities.deliveryCount)
      check(m.deliveryCount === 1, `first delivery has deliveryCount ${m.deliveryCount}`);
    check(
      m.enqueuedAt instanceof Date && Math.abs(m.enqueuedAt.getTime() - before) < 5 * 60_000,
      'enqueuedAt is not close to now',
    );
    await queue.ack(m);
    await expectEmpty(queue, 2);
  });

  test('bodies: an empty body round-trips', async (t) => {
    const { queue } = await open(t);
    const q = queue.withCodec(bytesCodec);
    await q.send(new Uint8Array(0));
    const [m] = await receiveSome(q, { timeoutMs: 15_000 });
    check(m !== undefined, 'the message was not received');
    checkBytes(m.body, new Uint8Array(0), 'empty body');
    await q.ack(m);
  });

  test('bodies: all 256 byte values round-trip', async (t) => {
    const { queue } = await open(t);
    const q = queue.withCodec(bytesCodec);
    const body = Uint8Array.from({ length: 512 }, (_, i) => i % 256);
    await q.send(body);
    const [m] = await receiveSome(q, { timeoutMs: 15_000 });
    check(m !== undefined, 'the message was not received');
    checkBytes(m.body, body, 'binary body');
    checkBytes(m.bytes, body, 'message.bytes');
    await q.ack(m);
  });

  test('bodies: non-UTF-8 bytes round-trip', async (t) => {
    const { queue } = await open(t);
    const q = queue.withCodec(bytesCodec);
    // Invalid lead bytes, a lone continuation byte, an encoded surrogate, an overlong NUL.
    const body = new Uint8Array([0xff, 0xfe, 0x80, 0x41, 0xed, 0xa0, 0x80, 0xc0, 0x80, 0xf5, 0x00, 0x0a]);
    await q.send(body);
    const [m] = await receiveSome(q, { timeoutMs: 15_000 });
    check(m !== undefined, 'the message was not received');
    checkBytes(m.body, body, 'non-UTF-8 body');
    await q.ack(m);
  });

  for (const [label, value] of QUEUE_JSON_CASES) {
    test(`bodies: JSON ${label} round-trips`, async (t) => {
      const { queue } = await open(t);
      await queue.send(value);
      const [m] = await receiveSome(queue, { timeoutMs: 15_000 });
      check(m !== undefined, 'the message was not received');
      check(
        JSON.stringify(m.body) === JSON.stringify(value),
        `received ${JSON.stringify(m.body)}, sent ${JSON.stringify(value)}`,
      );
      await queue.ack(m);
    });
  }

  test('bodies: the JSON codec sends UTF-8 JSON text', async (t) => {
    const { queue } = await open(t);
    const value = { text: 'ünï 😀', list: [1, 2] };
    await queue.send(value);
    const raw = queue.withCodec(bytesCodec);
    const [m] = await receiveSome(raw, { timeoutMs: 15_000 });
    check(m !== undefined, 'the message was not received');
    checkBytes(m.body, new TextEncoder().encode(JSON.stringify(value)), 'bytes of a JSON message');
    await raw.ack(m);
  });

  test('bodies: a body the codec cannot decode fails on access and stays readable as bytes', async (t) => {
    const { queue } = await open(t);
    const bad = new Uint8Array([0x7b, 0xff, 0x7d]);
    await queue.withCodec(bytesCodec).send(bad);
    const [m] = await receiveSome(queue, { timeoutMs: 15_000 });
    check(m !== undefined, 'the message was not received');
    await expectCode('INVALID_ARGUMENT', () => m.body, 'decoding a non-JSON body with the JSON codec');
    checkBytes(m.bytes, bad, 'message.bytes of an undecodable body');
    await queue.ack(m);
  });

  test(
    'bodies: a message of the largest allowed size round-trips',
    async (t) => {
      const { queue } = await open(t);
      const q = queue.withCodec(bytesCodec);
      const size = Math.min(queue.capabilities.maxMessageBytes, 4 * MiB);
      const body = randomData(size);
      await q.send(body);
      const [m] = await receiveSome(q, { timeoutMs: 20_000 });
      check(m !== undefined, 'the message was not received');
      checkBytes(m.body, body, `${size}-byte body`);
      await q.ack(m);
    },
    { timeout: 90_000 },
  );

  test('bodies: a body over maxMessageBytes fails with PAYLOAD_TOO_LARGE before sending', async (t) => {
    const { queue } = await open(t);
    const q = queue.withCodec(bytesCodec);
    const max = queue.capabilities.maxMessageBytes;
    check(
      Number.isSafeInteger(max) && max > 0 && max <= 256 * MiB,
      `maxMessageBytes ${max} is not a usable limit`,
    );
    const big = new Uint8Array(max + 1);
    // An aborted signal: any I/O would fail with CANCELLED, so PAYLOAD_TOO_LARGE proves none happened.
    await expectCode(
      'PAYLOAD_TOO_LARGE',
      () => q.send(big, { signal: AbortSignal.abort() }),
      'send over maxMessageBytes',
    );
    const results = await q.sendBatch([
      { body: new Uint8Array([1]) },
      { body: big },
      { body: new Uint8Array([3]) },
    ]);
    check(
      results[0]?.ok === true && results[2]?.ok === true,
      'the small messages of the batch were not sent',
    );
    check(
      results[1]?.ok === false && isPolycloudError(results[1].error, 'PAYLOAD_TOO_LARGE'),
      `the oversized batch item did not fail with PAYLOAD_TOO_LARGE: ${JSON.stringify(results[1])}`,
    );
    if (queue.capabilities.attributes) {
      // Attributes count towards the limit.
      await expectCode(
        'PAYLOAD_TOO_LARGE',
        () => q.send(new Uint8Array(max - 4), { attributes: { name: 'a long attribute value' } }),
        'send whose body fits but body + attributes do not',
      );
    }
    const got = await drain(q, 2, 20_000);
    check(got.length === 2, `received ${got.length} messages, expected the 2 small ones`);
    check(
      got.every((m) => m.body.byteLength === 1),
      'an oversized message was delivered',
    );
  });

  // ---------------------------------------------------------------- attributes

  test('attributes: string attributes with unicode values round-trip', async (t) => {
    const { queue } = await open(t);
    const attributes = {
      kind: 'order',
      'trace-id': 'abc-123',
      note: 'Zoë 😀 日本',
      under_score: 'x',
      'dot.name': 'v',
    };
    if (!queue.capabilities.attributes) {
      await expectUnsupported(t, 'attributes', (signal) => queue.send({ a: 1 }, { attributes, signal }));
      await expectEmpty(queue, 1);
      return;
    }
    await queue.send({ a: 1 }, { attributes });
    const [m] = await receiveSome(queue, { timeoutMs: 15_000 });
    check(m !== undefined, 'the message was not received');
    const got = JSON.stringify(Object.entries(m.attributes).sort());
    const want = JSON.stringify(Object.entries(attributes).sort());
    check(got === want, `received attributes ${got}, sent ${want}`);
    await queue.ack(m);
  });

  test('attributes: reserved, malformed or too many names are rejected with INVALID_ARGUMENT', async (t) => {
    const { queue } = await open(t);
    if (!queue.capabilities.attributes) {
      await expectUnsupported(t, 'attributes', (signal) => queue.send(1, { attributes: { a: 'b' }, signal }));
      return;
    }
    for (const name of [
      'polycloud-x',
      'aws.thing',
      'AMAZON.x',
      'goog-x',
      '',
      'has space',
      'a/b',
      'x'.repeat(129),
    ]) {
      await expectCode(
        'INVALID_ARGUMENT',
        () => queue.send(1, { attributes: { [name]: 'v' } }),
        `attribute name ${JSON.stringify(name)}`,
      );
    }
    const tooMany = Object.fromEntries(
      Array.from({ length: queue.capabilities.maxAttributes + 1 }, (_, i) => [`a${i}`, 'v'] as const),
    );
    await expectCode(
      'INVALID_ARGUMENT',
      () => queue.send(1, { attributes: tooMany }),
      'more than maxAttributes attributes',
    );
    await expectCode(
      'INVALID_ARGUMENT',
      () => queue.send(1, { attributes: { a: 42 as unknown as string } }),
      'a non-string attribute value',
    );
    await expectEmpty(queue, 1);
  });

  // ---------------------------------------------------------------- batches

  test('sendBatch: per-item results, an invalid item fails alone', async (t) => {
    const { queue } = await open(t);
    const results = await queue.sendBatch([
      { body: { i: 0 } },
      { body: undefined },
      { body: { i: 2 } },
      { body: { i: 3 } },
    ]);
    check(results.length === 4, `sendBatch returned ${results.length} results for 4 messages`);
    check(
      results[0]?.ok && results[2]?.ok && results[3]?.ok,
      `valid items failed: ${JSON.stringify(results)}`,
    );
    const bad = results[1];
    check(
      bad !== undefined && !bad.ok && isPolycloudError(bad.error, 'INVALID_ARGUMENT'),
      `the invalid item did not fail with INVALID_ARGUMENT: ${JSON.stringify(bad)}`,
    );
    const ids = results.flatMap((r) => (r.ok ? [r.id] : []));
    check(new Set(ids).size === 3, 'the ids of the sent messages are not distinct');
    const got = await drain(queue, 3, 20_000);
    const seen = got.map((m) => (m.body as { i: number }).i).sort();
    check(JSON.stringify(seen) === '[0,2,3]', `received ${JSON.stringify(seen)}, expected [0,2,3]`);
    check(
      got.every((m) => ids.includes(m.id)),
      'received ids differ from the ids sendBatch returned',
    );
  });

  test('sendBatch: more messages than maxBatchSize are all sent', async (t) => {
    const { queue } = await open(t);
    const n = Math.min(queue.capabilities.maxBatchSize * 2 + 3, 103);
    const results = await queue.sendBatch(Array.from({ length: n }, (_, i) => ({ body: { i } })));
    check(
      results.length === n && results.every((r) => r.ok),
      `not every item was sent: ${results.filter((r) => !r.ok).length} failed`,
    );
    const got = await drain(queue, n, 60_000);
    const seen = new Set(got.map((m) => (m.body as { i: number }).i));
    check(seen.size === n, `received ${seen.size} distinct messages, expected ${n}`);
  });

  test('sendBatch: an empty batch returns no results', async (t) => {
    const { queue } = await open(t);
    const results = await queue.sendBatch([]);
    check(results.length === 0, 'an empty batch returned results');
  });

  // ---------------------------------------------------------------- receive

  test('receive: an empty queue returns no messages', async (t) => {
    const { queue } = await open(t);
    check((await queue.receive()).length === 0, 'receive on an empty queue returned messages');
    check(
      (await queue.receive({ waitSeconds: Math.min(1, queue.capabilities.maxWaitSeconds) })).length === 0,
      'long-poll on an empty queue returned messages',
    );
  });

  test('receive: maxMessages bounds the batch', async (t) => {
    const { queue } = await open(t);
    await queue.sendBatch(Array.from({ length: 5 }, (_, i) => ({ body: i })));
    const max = Math.min(2, queue.capabilities.maxReceiveMessages);
    const got = await receiveSome(queue, { timeoutMs: 15_000, max });
    check(got.length >= 1 && got.length <= max, `receive with maxMessages ${max} returned ${got.length}`);
  });

  test('receive: waitSeconds long-polls until a message arrives', async (t) => {
    const { queue } = await open(t);
    const wait = Math.min(10, queue.capabilities.maxWaitSeconds);
    check(
      wait >= 1,
      `maxWaitSeconds is ${queue.capabilities.maxWaitSeconds}; long polling is part of the contract`,
    );
    const started = Date.now();
    const pending = queue.receive({ waitSeconds: wait });
    await sleep(1000);
    await queue.send({ late: true });
    const got = await pending;
    const took = Date.now() - started;
    check(got.length === 1, `a long poll of ${wait}s returned ${got.length} messages for one sent after 1s`);
    check(took < wait * 1000 + 1500, `the long poll returned after ${took} ms, not when the message arrived`);
  });

  test('receive: out-of-range options are rejected with INVALID_ARGUMENT', async (t) => {
    const { queue } = await open(t);
    const c = queue.capabilities;
    await expectCode('INVALID_ARGUMENT', () => queue.receive({ maxMessages: 0 }), 'maxMessages 0');
    await expectCode(
      'INVALID_ARGUMENT',
      () => queue.receive({ maxMessages: c.maxReceiveMessages + 1 }),
      'maxMessages over the maximum',
    );
    await expectCode(
      'INVALID_ARGUMENT',
      () => queue.receive({ waitSeconds: c.maxWaitSeconds + 1 }),
      'waitSeconds over the maximum',
    );
    await expectCode('INVALID_ARGUMENT', () => queue.receive({ waitSeconds: -1 }), 'negative waitSeconds');
    if (c.visibilityTimeout) {
      await expectCode(
        'INVALID_ARGUMENT',
        () => queue.receive({ visibilityTimeoutSeconds: c.maxVisibilitySeconds + 1 }),
        'visibilityTimeoutSeconds over the maximum',
      );
    }
  });

  // ---------------------------------------------------------------- visibility

  test('visibility: a received message is hidden from other receivers', async (t) => {
    const { queue } = await open(t);
    await queue.send({ once: true });
    const [m] = await receiveSome(queue, { timeoutMs: 15_000, ...longVis(queue) });
    check(m !== undefined, 'the message was not received');
    await expectEmpty(queue, 1);
    await queue.ack(m);
  });

  test(
    'visibility: an unacked message is redelivered after the timeout with deliveryCount rising',
    async (t) => {
      const { queue } = await openShort(t);
      await queue.send({ redeliver: 'me' });
      const [first] = await receiveSome(queue, { timeoutMs: 15_000, ...shortVis(queue) });
      check(first !== undefined, 'the message was not received');
      const [second] = await receiveSome(queue, { timeoutMs: 45_000, ...shortVis(queue) });
      check(second !== undefined, 'the unacked message was not redelivered');
      check(second.id === first.id, `redelivered id ${second.id}, first id ${first.id}`);
      check(
        JSON.stringify(second.body) === JSON.stringify({ redeliver: 'me' }),
        'the redelivered body differs',
      );
      if (queue.capabilities.deliveryCount) {
        check(
          first.deliveryCount === 1 && second.deliveryCount === 2,
          `deliveryCounts ${first.deliveryCount}, ${second.deliveryCount}`,
        );
      }
      await queue.ack(second);
    },
    { timeout: 90_000 },
  );

  test('visibility: visibilityTimeoutSeconds applies per receive', async (t) => {
    const { queue } = await open(t);
    if (!queue.capabilities.visibilityTimeout) {
      await expectUnsupported(t, 'visibilityTimeout', (signal) =>
        queue.receive({ visibilityTimeoutSeconds: 5, signal }),
      );
      return;
    }
    await queue.send('v');
    const [m] = await receiveSome(queue, { timeoutMs: 15_000, visibilityTimeoutSeconds: SHORT_VISIBILITY });
    check(m !== undefined, 'the message was not received');
    const startedWaiting = Date.now();
    const [again] = await receiveSome(queue, { timeoutMs: 20_000, visibilityTimeoutSeconds: 30 });
    check(again?.id === m.id, 'the message did not come back after its per-receive visibility timeout');
    check(Date.now() - startedWaiting >= 1000, 'the message came back before its visibility timeout');
    await expectEmpty(queue, 1);
    await queue.ack(again);
  });

  test(
    'deliveryCount: counts every delivery',
    async (t) => {
      const { queue } = await openShort(t);
      if (!queue.capabilities.deliveryCount) {
        await expectUnsupported(t, 'deliveryCount', () =>
          queue.consume(() => {}, { maxDeliveries: 2, deadLetter: queue }),
        );
        return;
      }
      await queue.send('count me');
      const counts: number[] = [];
      for (let i = 0; i < 3; i++) {
        const [m] = await receiveSome(queue, { timeoutMs: 45_000, ...shortVis(queue) });
        check(m !== undefined, `delivery ${i + 1} did not happen`);
        counts.push(m.deliveryCount);
        if (i < 2 && queue.capabilities.nack) await queue.nack(m);
        if (i === 2) await queue.ack(m);
      }
      check(
        JSON.stringify(counts) === '[1,2,3]',
        `deliveryCounts ${JSON.stringify(counts)}, expected [1,2,3]`,
      );
    },
    { timeout: 120_000 },
  );

  // ---------------------------------------------------------------- nack, extend, delay

  test('nack: the message is redelivered at once', async (t) => {
    const { queue } = await open(t);
    await queue.send({ nack: 1 });
    const [m] = await receiveSome(queue, { timeoutMs: 15_000, ...longVis(queue) });
    check(m !== undefined, 'the message was not received');
    if (!queue.capabilities.nack) {
      await expectUnsupported(t, 'nack', (signal) => queue.nack(m, { signal }));
      return;
    }
    await queue.nack(m);
    const [again] = await receiveSome(queue, { timeoutMs: 10_000, ...longVis(queue) });
    check(again?.id === m.id, 'a nacked message was not redelivered within 10 s');
    if (queue.capabilities.deliveryCount)
      check(again.deliveryCount === 2, `deliveryCount after nack is ${again.deliveryCount}`);
    await queue.ack(again);
  });

  test('nack: with a delay the message stays hidden until the delay passes', async (t) => {
    const { queue } = await open(t);
    await queue.send({ nack: 'later' });
    const [m] = await receiveSome(queue, { timeoutMs: 15_000, ...longVis(queue) });
    check(m !== undefined, 'the message was not received');
    if (!queue.capabilities.nackDelay) {
      await expectUnsupported(t, 'nackDelay', (signal) => queue.nack(m, { delaySeconds: 3, signal }));
      return;
    }
    const nackedAt = Date.now();
    await queue.nack(m, { delaySeconds: 4 });
    await expectEmpty(queue, 1);
    const [again] = await receiveSome(queue, { timeoutMs: 20_000, ...longVis(queue) });
    check(again?.id === m.id, 'a message nacked with a delay was not redelivered');
    check(Date.now() - nackedAt >= 3000, `redelivered ${Date.now() - nackedAt} ms after a 4 s nack delay`);
    await queue.ack(again);
  });

  test(
    'extend: an extended message stays hidden past the original timeout',
    async (t) => {
      const { queue } = await openShort(t);
      await queue.send({ extend: true });
      const [m] = await receiveSome(queue, { timeoutMs: 15_000, ...shortVis(queue) });
      check(m !== undefined, 'the message was not received');
      if (!queue.capabilities.extend) {
        await expectUnsupported(t, 'extend', (signal) => queue.extend(m, 10, { signal }));
        return;
      }
      await queue.extend(m, 12);
      await sleep(SHORT_VISIBILITY * 1000 + 1500, t.signal);
      await expectEmpty(queue, 1);
      await queue.ack(m);
      await expectEmpty(queue, 1);
    },
    { timeout: 60_000 },
  );

  test('delay: a delayed message is invisible until the delay passes', async (t) => {
    const { queue } = await open(t);
    if (!queue.capabilities.delay) {
      await expectUnsupported(t, 'delay', (signal) => queue.send({ d: 1 }, { delaySeconds: 2, signal }));
      await expectEmpty(queue, 1);
      return;
    }
    const sentAt = Date.now();
    await queue.send({ d: 1 }, { delaySeconds: 4 });
    await queue.send({ d: 0 });
    const [now] = await receiveSome(queue, { timeoutMs: 10_000 });
    check(
      now !== undefined && (now.body as { d: number }).d === 0,
      'the undelayed message was not received first',
    );
    await queue.ack(now);
    if (Date.now() - sentAt < 2000) await expectEmpty(queue, 1);
    const [later] = await receiveSome(queue, { timeoutMs: 20_000 });
    check(later !== undefined && (later.body as { d: number }).d === 1, 'the delayed message never arrived');
    check(
      Date.now() - sentAt >= 3000,
      `the delayed message arrived ${Date.now() - sentAt} ms after a 4 s delay`,
    );
    await queue.ack(later);
    await expectCode(
      'INVALID_ARGUMENT',
      () => queue.send(1, { delaySeconds: queue.capabilities.maxDelaySeconds + 1 }),
      'delaySeconds over maxDelaySeconds',
    );
  });

  test('groupId: order is kept within each group', async (t) => {
    const { queue } = await open(t);
    if (!queue.capabilities.groupId) {
      await expectUnsupported(t, 'groupId', (signal) => queue.send({ g: 1 }, { groupId: 'g', signal }));
      return;
    }
    const dedup = queue.capabilities.deduplicationId;
    const sent: { g: string; seq: number }[] = [];
    for (let seq = 0; seq < 6; seq++) for (const g of ['A', 'B']) sent.push({ g, seq });
    for (const body of sent) {
      await queue.send(body, {
        groupId: body.g,
        ...(dedup ? { deduplicationId: `${body.g}-${body.seq}` } : {}),
      });
    }
    const got: { g: string; seq: number; groupId: string | undefined }[] = [];
    const deadline = Date.now() + 60_000;
    while (got.length < sent.length && Date.now() < deadline) {
      const batch = await queue.receive({
        maxMessages: Math.min(3, queue.capabilities.maxReceiveMessages),
        waitSeconds: Math.min(1, queue.capabilities.maxWaitSeconds),
      });
      for (const m of batch) got.push({ ...(m.body as { g: string; seq: number }), groupId: m.groupId });
      if (batch.length > 0) await queue.ack(batch);
    }
    check(got.length === sent.length, `received ${got.length} of ${sent.length} grouped messages`);
    for (const g of ['A', 'B']) {
      const seqs = got.filter((x) => x.g === g).map((x) => x.seq);
      check(JSON.stringify(seqs) === '[0,1,2,3,4,5]', `group ${g} arrived in order ${JSON.stringify(seqs)}`);
      check(
        got.filter((x) => x.g === g).every((x) => x.groupId === g),
        `received messages of group ${g} do not carry groupId ${g}`,
      );
    }
  });

  test('deduplicationId: a duplicate within the window is delivered once', async (t) => {
    const { queue } = await open(t);
    if (!queue.capabilities.deduplicationId) {
      await expectUnsupported(t, 'deduplicationId', (signal) =>
        queue.send({ x: 1 }, { deduplicationId: 'd', signal }),
      );
      return;
    }
    const group: Pick<SendOptions, 'groupId'> = queue.capabilities.groupId ? { groupId: 'g' } : {};
    await queue.send({ copy: 1 }, { deduplicationId: 'same', ...group });
    await queue.send({ copy: 2 }, { deduplicationId: 'same', ...group });
    await queue.send({ copy: 3 }, { deduplicationId: 'other', ...group });
    const got = await drain(queue, 3, 8_000);
    const copies = got.map((m) => (m.body as { copy: number }).copy).sort();
    check(JSON.stringify(copies) === '[1,3]', `received copies ${JSON.stringify(copies)}, expected [1,3]`);
  });

  // ---------------------------------------------------------------- ack

  test('ack: acking twice is not an error', async (t) => {
    const { queue } = await open(t);
    await queue.send('twice');
    const [m] = await receiveSome(queue, { timeoutMs: 15_000 });
    check(m !== undefined, 'the message was not received');
    await queue.ack(m);
    await queue.ack(m);
    const results = await queue.ack([m]);
    check(results.length === 1 && results[0]?.ok === true, `a third ack failed: ${JSON.stringify(results)}`);
  });

  test('ack: many messages at once returns a result per message', async (t) => {
    const { queue } = await open(t);
    await queue.sendBatch([{ body: 1 }, { body: 2 }, { body: 3 }]);
    const got = await drain(queue, 3, 20_000, { ack: false, ...longVis(queue) });
    check(got.length === 3, `received ${got.length} of 3 messages`);
    const results = await queue.ack(got);
    check(results.length === 3, `ack of 3 messages returned ${results.length} results`);
    results.forEach((r, i) => {
      check(r.id === got[i]!.id, `ack result ${i} is for ${r.id}, expected ${got[i]!.id}`);
      check(r.ok, `ack of ${r.id} failed: ${r.ok ? '' : describeError(r.error)}`);
    });
    await expectEmpty(queue, 1);
  });

  test(
    'ack: an acked message is not redelivered',
    async (t) => {
      const { queue } = await openShort(t);
      await queue.send('done');
      const [m] = await receiveSome(queue, { timeoutMs: 15_000, ...shortVis(queue) });
      check(m !== undefined, 'the message was not received');
      await queue.ack(m);
      await sleep(SHORT_VISIBILITY * 1000 + 1500, t.signal);
      await expectEmpty(queue, 1);
    },
    { timeout: 60_000 },
  );

  test('ack: a message received from another queue is rejected with INVALID_ARGUMENT', async (t) => {
    const a = await open(t);
    const b = await open(t);
    await a.queue.send('mine');
    const [m] = await receiveSome(a.queue, { timeoutMs: 15_000 });
    check(m !== undefined, 'the message was not received');
    if (a.queue.name !== b.queue.name) {
      await expectCode('INVALID_ARGUMENT', () => b.queue.ack(m), 'ack on the wrong queue');
    }
    await a.queue.ack(m);
  });

  // ---------------------------------------------------------------- consume

  test(
    'consume: 500 messages with concurrency 8 are each handled and acked',
    async (t) => {
      const { queue } = await open(t);
      const n = 500;
      const sent = await queue.sendBatch(Array.from({ length: n }, (_, i) => ({ body: { i } })));
      check(
        sent.every((r) => r.ok),
        `${sent.filter((r) => !r.ok).length} of ${n} sends failed`,
      );
      const seen = new Map<number, number>();
      let inFlight = 0;
      let maxInFlight = 0;
      let allSeen!: () => void;
      const everyOne = new Promise<void>((r) => {
        allSeen = r;
      });
      const errors: unknown[] = [];
      const consumer = queue.consume(
        async (m) => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          try {
            await sleep(Math.floor(Math.random() * 5));
            const i = (m.body as { i: number }).i;
            seen.set(i, (seen.get(i) ?? 0) + 1);
            if (seen.size === n) allSeen();
          } finally {
            inFlight--;
          }
        },
        {
          concurrency: 8,
          waitSeconds: Math.min(2, queue.capabilities.maxWaitSeconds),
          onError: (e) => errors.push(e),
        },
      );
      try {
        await Promise.race([everyOne, sleep(150_000, t.signal)]);
      } finally {
        await consumer.stop();
      }
      check(
        seen.size === n,
        `handled ${seen.size} of ${n} messages (errors: ${errors.map(describeError).slice(0, 3).join('; ')})`,
      );
      check(maxInFlight <= 8, `${maxInFlight} handlers ran at once with concurrency 8`);
      check(maxInFlight >= 2, 'handlers never ran concurrently with concurrency 8');
      check(consumer.stats.acked >= n, `the consumer acked ${consumer.stats.acked} of ${n}`);
      await expectEmpty(queue, 2);
    },
    { timeout: 200_000 },
  );

  test(
    'consume: stop() lets in-flight handlers finish and ack',
    async (t) => {
      const { queue } = await open(t);
      await queue.send({ slow: true });
      let started!: () => void;
      const startedP = new Promise<void>((r) => {
        started = r;
      });
      let finishedAt = 0;
      const consumer = queue.consume(
        async () => {
          started();
          await sleep(1500);
          finishedAt = Date.now();
        },
        { concurrency: 2, waitSeconds: Math.min(1, queue.capabilities.maxWaitSeconds) },
      );
      await Promise.race([
        startedP,
        sleep(20_000).then(() => Promise.reject(new Error('the handler never started'))),
      ]);
      await consumer.stop();
      const stoppedAt = Date.now();
      check(
        finishedAt > 0 && finishedAt <= stoppedAt,
        'stop() resolved before the in-flight handler finished',
      );
      check(consumer.stats.acked === 1, `the consumer acked ${consumer.stats.acked} messages, expected 1`);
      await queue.send({ after: true });
      const [m] = await receiveSome(queue, { timeoutMs: 15_000 });
      check(
        m !== undefined && (m.body as { after?: boolean }).after === true,
        'a message sent after stop() was not left for other receivers',
      );
      await queue.ack(m);
      await expectEmpty(queue, 1);
    },
    { timeout: 60_000 },
  );

  test(
    'consume: a failing handler is retried until it succeeds',
    async (t) => {
      const { queue } = await openShort(t);
      await queue.send({ flaky: true });
      let calls = 0;
      let succeeded!: () => void;
      const done = new Promise<void>((r) => {
        succeeded = r;
      });
      const consumer = queue.consume(
        async () => {
          calls++;
          if (calls < 3) throw new Error(`conformance: transient failure ${calls}`);
          succeeded();
        },
        {
          concurrency: 1,
          waitSeconds: Math.min(1, queue.capabilities.maxWaitSeconds),
          retryDelaySeconds: () => 1,
          ...(queue.capabilities.visibilityTimeout ? { visibilityTimeoutSeconds: SHORT_VISIBILITY } : {}),
          onError: () => {},
        },
      );
      try {
        await Promise.race([done, sleep(60_000, t.signal)]);
      } finally {
        await consumer.stop();
      }
      check(calls === 3, `the handler ran ${calls} times, expected 3`);
      check(
        consumer.stats.failed === 2 && consumer.stats.acked === 1,
        `stats ${JSON.stringify(consumer.stats)}`,
      );
      await expectEmpty(queue, 1);
    },
    { timeout: 90_000 },
  );

  test(
    'consume: a poison message reaches the dead-letter queue after maxDeliveries',
    async (t) => {
      const maxDeliveries = 3;
      const { queue, deadLetter } = await openShort(t, { deadLetter: { maxDeliveries } });
      check(deadLetter !== undefined, 'the harness returned no dead-letter queue for open({ deadLetter })');
      const native = queue.capabilities.nativeDeadLetter;
      if (!native && !queue.capabilities.deliveryCount) {
        await expectUnsupported(t, 'deliveryCount', () =>
          queue.consume(() => {}, { maxDeliveries, deadLetter }),
        );
        return;
      }
      const attributes = queue.capabilities.attributes ? { kind: 'poison' } : undefined;
      await queue.send({ poison: true }, attributes ? { attributes } : {});
      await queue.send({ poison: false });
      const poisonCounts: number[] = [];
      let good = 0;
      const consumer = queue.consume(
        async (m) => {
          if ((m.body as { poison: boolean }).poison) {
            poisonCounts.push(m.deliveryCount);
            throw new Error('conformance: poison');
          }
          good++;
        },
        {
          concurrency: 2,
          waitSeconds: Math.min(1, queue.capabilities.maxWaitSeconds),
          maxDeliveries,
          ...(native ? {} : { deadLetter }),
          retryDelaySeconds: () => 1,
          ...(queue.capabilities.visibilityTimeout ? { visibilityTimeoutSeconds: SHORT_VISIBILITY } : {}),
          onError: () => {},
        },
      );
      let dead: Message<unknown> | undefined;
      try {
        [dead] = await receiveSome(deadLetter, { timeoutMs: 90_000 });
      } finally {
        await consumer.stop();
      }
      check(
        dead !== undefined,
        `the poison message did not reach the dead-letter queue (handled ${poisonCounts.length} times)`,
      );
      check(
        JSON.stringify(dead.body) === JSON.stringify({ poison: true }),
        `dead-lettered body ${JSON.stringify(dead.body)}`,
      );
      if (attributes)
        check(
          dead.attributes.kind === 'poison',
          `dead-lettered attributes ${JSON.stringify(dead.attributes)}`,
        );
      check(good === 1, `the good message was handled ${good} times`);
      if (native) {
        check(
          poisonCounts.length >= maxDeliveries,
          `the poison message was handled ${poisonCounts.length} times`,
        );
      } else {
        check(
          JSON.stringify(poisonCounts) === JSON.stringify([1, 2, 3]),
          `the poison message was handled with deliveryCounts ${JSON.stringify(poisonCounts)}, expected [1,2,3]`,
        );
        check(consumer.stats.deadLettered === 1, `stats.deadLettered is ${consumer.stats.deadLettered}`);
      }
      await deadLetter.ack(dead);
      await expectEmpty(queue, 1);
    },
    { timeout: 150_000 },
  );

  test(
    'consume: an AbortSignal stops the consumer',
    async (t) => {
      const { queue } = await open(t);
      const ac = new AbortController();
      let handled = 0;
      const consumer = queue.consume(
        async () => {
          handled++;
          ac.abort();
        },
        { signal: ac.signal, waitSeconds: Math.min(1, queue.capabilities.maxWaitSeconds) },
      );
      await queue.send('first');
      await Promise.race([
        consumer.done,
        sleep(30_000).then(() => Promise.reject(new Error('the consumer did not stop'))),
      ]);
      check(handled === 1, `handled ${handled} messages before stopping`);
      await queue.send('second');
      const [m] = await receiveSome(queue, { timeoutMs: 15_000 });
      check(m !== undefined && m.body === 'second', 'a stopped consumer still took messages');
      await queue.ack(m);
    },
    { timeout: 60_000 },
  );

  // ---------------------------------------------------------------- misc

  test('options: an unknown option is rejected with INVALID_ARGUMENT', async (t) => {
    const { queue } = await open(t);
    await expectCode(
      'INVALID_ARGUMENT',
      () => queue.send(1, { priority: 1 } as never),
      'send with an unknown option',
    );
    await expectCode(
      'INVALID_ARGUMENT',
      () => queue.receive({ max: 1 } as never),
      'receive with an unknown option',
    );
    await expectCode(
      'INVALID_ARGUMENT',
      () => queue.sendBatch([{ body: 1, ttl: 5 } as never]),
      'sendBatch item with an unknown option',
    );
    await expectEmpty(queue, 1);
  });

  test('close: operations after close() fail', async (t) => {
    const { queue } = await open(t);
    await queue.send('before');
    const [m] = await receiveSome(queue, { timeoutMs: 15_000 });
    check(m !== undefined, 'the message was not received');
    await queue.close();
    await expectPolycloudError(() => queue.send('after'), 'send after close');
    await expectPolycloudError(() => queue.receive(), 'receive after close');
    await expectPolycloudError(() => queue.ack(m), 'ack after close');
    await expectPolycloudError(() => queue.sendBatch([{ body: 1 }]), 'sendBatch after close');
    await expectPolycloudError(() => queue.consume(() => {}), 'consume after close');
    await queue.close();
  });

  test('capabilities: a frozen record with usable limits', async (t) => {
    const { queue } = await open(t);
    const c = queue.capabilities;
    check(Object.isFrozen(c), 'capabilities is not frozen');
    check(c.maxMessageBytes >= 1024, `maxMessageBytes ${c.maxMessageBytes} is under 1 KiB`);
    check(
      c.maxBatchSize >= 1 && c.maxReceiveMessages >= 1,
      'maxBatchSize and maxReceiveMessages must be at least 1',
    );
    if (c.delay) check(c.maxDelaySeconds >= 1, 'delay is declared but maxDelaySeconds is under 1');
    if (c.visibilityTimeout || c.extend)
      check(c.maxVisibilitySeconds >= 30, 'maxVisibilitySeconds is under 30');
    if (c.attributes) check(c.maxAttributes >= 1, 'attributes is declared but maxAttributes is 0');
    if (c.nackDelay) check(c.nack, 'nackDelay is declared without nack');
  });
}

/** Receives until at least one message arrives or `timeoutMs` passes (then returns []). */
async function receiveSome<T>(
  q: Queue<T>,
  opts: { timeoutMs: number; max?: number; visibilityTimeoutSeconds?: number },
): Promise<Message<T>[]> {
  const deadline = Date.now() + opts.timeoutMs;
  const maxWait = q.capabilities.maxWaitSeconds;
  for (;;) {
    const left = Math.max(0, Math.floor((deadline - Date.now()) / 1000));
    const wait = Math.min(maxWait, 2, left);
    const got = await q.receive({
      maxMessages: Math.min(opts.max ?? 1, q.capabilities.maxReceiveMessages),
      waitSeconds: wait,
      ...(opts.visibilityTimeoutSeconds !== undefined
        ? { visibilityTimeoutSeconds: opts.visibilityTimeoutSeconds }
        : {}),
    });
    if (got.length > 0) return got;
    if (Date.now() >= deadline) return [];
    if (wait === 0) await sleep(200);
  }
}

/**
 * Receives until `n` messages arrived or `timeoutMs` passed; returns what came. With `ack`
 * (the default) each batch is acked as it arrives, which FIFO groups need to release the next
 * message of a group.
 */
async function drain<T>(
  q: Queue<T>,
  n: number,
  timeoutMs: number,
  opts: { ack?: boolean; visibilityTimeoutSeconds?: number } = {},
): Promise<Message<T>[]> {
  const { ack = true, ...vis } = opts;
  const out: Message<T>[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < n && Date.now() < deadline) {
    const got = await receiveSome(q, {
      timeoutMs: Math.max(1000, deadline - Date.now()),
      max: q.capabilities.maxReceiveMessages,
      ...vis,
    });
    out.push(...got);
    if (ack && got.length > 0) await q.ack(got);
  }
  return out;
}

/** Fails if a message can be received within `seconds` (long poll). */
async function expectEmpty<T>(q: Queue<T>, seconds: number): Promise<void> {
  const got = await q.receive({
    maxMessages: q.capabilities.maxReceiveMessages,
    waitSeconds: Math.min(seconds, q.capabilities.maxWaitSeconds),
  });
  if (got.length === 0 && q.capabilities.maxWaitSeconds === 0) {
    await sleep(seconds * 1000);
    got.push(...(await q.receive({ maxMessages: q.capabilities.maxReceiveMessages })));
  }
  check(
    got.length === 0,
    `expected no message, received ${got.length}: ${got
      .slice(0, 3)
      .map((m) => `${m.id} (deliveryCount ${m.deliveryCount})`)
      .join(', ')}`,
  );
}
