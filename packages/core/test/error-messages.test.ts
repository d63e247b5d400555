import { isPolycloudError, openBucket, openKv, openQueue } from '@polycloud/core';
import { describe, expect, it } from 'vitest';

// Every validation error says what was called on which resource, like the rest: a user with
// three buckets and two queues must not have to guess which call "unsupported body type" is.
const located = async (call: () => Promise<unknown>, site: string, what: string) => {
  const err = await call().catch((e: unknown) => e);
  expect(isPolycloudError(err, 'INVALID_ARGUMENT')).toBe(true);
  const message = (err as Error).message;
  expect(message.startsWith(site)).toBe(true);
  expect(message).toContain(what);
};

describe('validation errors name the call and the resource', () => {
  it('blob: an unsupported body, a range without offset', async () => {
    await using b = await openBucket('mem://msg-bucket');
    await located(
      () => b.put('k', 42 as unknown as string),
      'put on blob "msg-bucket" key "k": ',
      'unsupported body type',
    );
    await b.put('k', 'v');
    await located(
      () => b.get('k', { range: { start: 1 } as unknown as { offset: number } }),
      'get on blob "msg-bucket" key "k": ',
      'range.offset is required',
    );
  });

  it('blob: a body stream of the caller that fails names the key too', async () => {
    await using b = await openBucket('mem://msg-bucket');
    for (const body of [
      new ReadableStream<Uint8Array>({
        pull(c) {
          c.error(new Error('source broke'));
        },
      }),
      (async function* () {
        yield new Uint8Array(1);
        throw new Error('source broke');
      })(),
    ]) {
      const err = await b.put('k2', body).catch((e: unknown) => e);
      expect(isPolycloudError(err)).toBe(true);
      expect((err as Error).message).toMatch(/^put on blob "msg-bucket" key "k2".*source broke/);
    }
    expect(await b.exists('k2')).toBe(false);
  });

  it('queue: a body the JSON codec cannot encode', async () => {
    await using q = await openQueue('mem://msg-queue');
    await located(() => q.send(undefined), 'send on queue "msg-queue": ', 'not JSON-serialisable');
    // sendBatch answers per message rather than throwing.
    await located(
      async () => {
        const [r] = await q.sendBatch([{ body: { n: 10n } }]);
        throw r?.ok === false ? r.error : new Error('sent');
      },
      'sendBatch on queue "msg-queue": ',
      'not JSON-serialisable',
    );
  });

  it('kv: a negative ttlSeconds', async () => {
    await using kv = await openKv('mem://msg-kv');
    await located(() => kv.set('k', 1, { ttlSeconds: -1 }), 'set on kv "msg-kv" key "k": ', 'ttlSeconds');
  });
});
