import { Readable } from 'node:stream';
import {
  MemoryBucketDriver,
  MemoryBucketStore,
  MemoryQueueDriver,
  MemoryQueueStore,
} from '@polycloud/memory';
import { describe, expect, it } from 'vitest';
import {
  type Classify,
  isTransportError,
  mapLimit,
  resolveOutcome,
  transportFailure,
  wrapError,
} from '../src/driver/index.js';
import {
  Bucket,
  type DriverOutgoing,
  isPolycloudError,
  PolycloudError,
  pcError,
  Queue,
} from '../src/index.js';

const site = { provider: 'test', service: 'kv' as const, operation: 'set', name: 't', key: 'k' };
const classify: Classify = (e) => ({
  code: (e as { status?: number }).status === 404 ? 'NOT_FOUND' : 'UNKNOWN',
});
const sys = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('transport detection (one place, whole cause chain)', () => {
  it('finds a reset however deep the SDK wrapped it', () => {
    const deep = new Error('outer', {
      cause: new Error('mid', { cause: new Error('inner', { cause: sys('ECONNRESET') }) }),
    });
    expect(isTransportError(deep)).toBe(true);
    expect(isTransportError(new AggregateError([new Error('x'), sys('EPIPE')]))).toBe(true);
  });
  it('knows premature close, socket hang up and a cut-off Azure body', () => {
    expect(isTransportError(sys('ERR_STREAM_PREMATURE_CLOSE', 'Premature close'))).toBe(true);
    expect(isTransportError(new Error('socket hang up'))).toBe(true);
    expect(
      isTransportError(
        Object.assign(new Error('Error "Unexpected end" occurred while parsing'), {
          code: 'PARSE_ERROR',
          statusCode: 200,
        }),
      ),
    ).toBe(true);
  });
  it('does not read a service answer that mentions a reset as one', () => {
    expect(isTransportError(Object.assign(new Error('socket hang up'), { statusCode: 400 }))).toBe(false);
    expect(isTransportError(new Error('NoSuchKey'))).toBe(false);
  });
});

describe('wrapError', () => {
  it('maps a transport failure to UNAVAILABLE, retryable, outcome unknown once sent', () => {
    const e = wrapError(sys('ECONNRESET'), site, classify);
    expect([e.code, e.retryable, e.outcomeUnknown]).toEqual(['UNAVAILABLE', true, true]);
    expect(e.message).toContain('set on kv "t" key "k" (test)');
    expect(e.message).toContain('may have been applied');
    const refused = wrapError(sys('ECONNREFUSED'), site, classify);
    expect([refused.code, refused.outcomeUnknown]).toEqual(['UNAVAILABLE', false]);
  });
  it('an abort nobody asked for is a transport failure, not CANCELLED', () => {
    const e = wrapError(Object.assign(new Error('aborted'), { name: 'AbortError' }), site, classify);
    expect([e.code, e.retryable]).toEqual(['UNAVAILABLE', true]);
  });
  it('leaves the rest to the driver classifier, with cause and context', () => {
    const native = Object.assign(new Error('gone'), { status: 404 });
    const e = wrapError(native, site, classify);
    expect([e.code, e.retryable, e.provider, e.cause]).toEqual(['NOT_FOUND', false, 'test', native]);
    expect(e.resource).toEqual({ name: 't', key: 'k' });
    expect(wrapError(native, site, classify, { override: { code: 'PAYLOAD_TOO_LARGE' } }).code).toBe(
      'PAYLOAD_TOO_LARGE',
    );
  });
  it('a native error escaping a driver is classified by the runner the same way', () => {
    expect(transportFailure(sys('ECONNRESET'), 'get')?.code).toBe('UNAVAILABLE');
    expect(transportFailure(new Error('x'), 'get')).toBeUndefined();
  });
});

describe('resolveOutcome', () => {
  const lost = () => wrapError(sys('ECONNRESET'), site, classify);
  it('returns what the read-back proves landed', async () => {
    expect(await resolveOutcome(lost(), async () => ({ applied: 7 }))).toBe(7);
  });
  it('says plainly when the read-back proves nothing landed', async () => {
    const e = await resolveOutcome(lost(), async () => 'not-applied' as const).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PolycloudError);
    expect([
      (e as PolycloudError).code,
      (e as PolycloudError).outcomeUnknown,
      (e as PolycloudError).retryable,
    ]).toEqual(['UNAVAILABLE', false, true]);
  });
  it('keeps the outcome unknown when the read-back cannot tell or fails', async () => {
    const a = await resolveOutcome(lost(), async () => 'unknown' as const).catch((x: unknown) => x);
    const b = await resolveOutcome(lost(), async () => {
      throw new Error('down');
    }).catch((x: unknown) => x);
    expect((a as PolycloudError).outcomeUnknown).toBe(true);
    expect((b as PolycloudError).outcomeUnknown).toBe(true);
  });
  it('rethrows answers that are not ambiguous untouched', async () => {
    const conflict = pcError('PRECONDITION_FAILED', 'no');
    await expect(resolveOutcome(conflict, async () => ({ applied: 1 }))).rejects.toBe(conflict);
  });
});

describe('mapLimit', () => {
  it('keeps at most `limit` calls in flight and results in order', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit([5, 4, 3, 2, 1, 0], 2, async (n, i) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, n));
      inFlight--;
      return i * 10;
    });
    expect(out).toEqual([0, 10, 20, 30, 40, 50]);
    expect(peak).toBe(2);
  });
});

describe('core owns retries of per-item failures', () => {
  const unavailable = () => pcError('UNAVAILABLE', 'reset', { retryable: true });

  it('sendBatch re-sends only the items that failed retryably', async () => {
    const driver = new MemoryQueueDriver(new MemoryQueueStore(`q-${Math.random()}`));
    const calls: number[] = [];
    let failOnce = true;
    const send = driver.send.bind(driver);
    driver.send = async (msgs: readonly DriverOutgoing[], opts) => {
      calls.push(msgs.length);
      if (!failOnce) return send(msgs, opts);
      failOnce = false;
      const [first, ...rest] = await send(msgs.slice(1), opts).then((r) => [{ error: unavailable() }, ...r]);
      return [first!, ...rest];
    };
    const q = new Queue<number>(driver, { retry: { initialDelayMs: 1 } });
    const results = await q.sendBatch([{ body: 1 }, { body: 2 }, { body: 3 }]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(calls).toEqual([3, 1]);
    const got = await q.receive({ maxMessages: 10 });
    expect(got.map((m) => m.body).sort()).toEqual([1, 2, 3]);
  });

  it('ack retries a retryable per-item failure and a lost ack that landed counts as done', async () => {
    const driver = new MemoryQueueDriver(new MemoryQueueStore(`q-${Math.random()}`));
    const q = new Queue<number>(driver, { retry: { initialDelayMs: 1 } });
    await q.send(1);
    const [m] = await q.receive();
    const ack = driver.ack.bind(driver);
    let first = true;
    driver.ack = async (receipts, opts) => {
      // The first ack lands, then its answer is lost.
      const r = await ack(receipts, opts);
      if (!first) return r;
      first = false;
      return receipts.map(() => unavailable());
    };
    await q.ack(m!);
    expect(await q.receive()).toEqual([]);
  });

  it('gives up after the policy and reports the item, not the batch', async () => {
    const driver = new MemoryQueueDriver(new MemoryQueueStore(`q-${Math.random()}`));
    const send = driver.send.bind(driver);
    let calls = 0;
    // Message "2" always fails retryably; the rest go through.
    driver.send = async (msgs, opts) => {
      calls++;
      return Promise.all(
        msgs.map(async (m) =>
          new TextDecoder().decode(m.body) === '2' ? { error: unavailable() } : (await send([m], opts))[0]!,
        ),
      );
    };
    const q = new Queue<number>(driver, { retry: { maxAttempts: 3, initialDelayMs: 1 } });
    const [a, b] = await q.sendBatch([{ body: 1 }, { body: 2 }]);
    expect(a!.ok).toBe(true);
    expect(b!.ok).toBe(false);
    expect(isPolycloudError(!b!.ok ? b!.error : undefined, 'UNAVAILABLE')).toBe(true);
    expect(calls).toBe(3);
  });
});

describe('a body stream that breaks while read', () => {
  it('is UNAVAILABLE and retryable, not UNKNOWN', async () => {
    const driver = new MemoryBucketDriver(new MemoryBucketStore(`b-${Math.random()}`));
    const bucket = new Bucket(driver);
    await bucket.put('k', 'hello');
    const get = driver.get.bind(driver);
    const read = driver.read.bind(driver);
    for (const shape of ['web', 'node'] as const) {
      // A Web stream from get() (drivers without read), or a Node stream from read().
      (driver as { read?: unknown }).read =
        shape === 'web'
          ? undefined
          : async (key: string, opts: Parameters<typeof read>[1]) => {
              const r = await read(key, opts);
              const body = new Readable({
                read() {
                  this.destroy(sys('ECONNRESET', 'read ECONNRESET'));
                },
              });
              return { ...r, body };
            };
      driver.get = async (key, opts) => {
        const r = await get(key, opts);
        const body = new ReadableStream<Uint8Array>({
          pull(c) {
            c.error(sys('ECONNRESET', 'read ECONNRESET'));
          },
        });
        return { ...r, body };
      };
      const whole = await (await bucket.get('k')).bytes().catch((e: unknown) => e);
      expect([(whole as PolycloudError).code, (whole as PolycloudError).retryable]).toEqual([
        'UNAVAILABLE',
        true,
      ]);
      const reader = (await bucket.get('k')).body.getReader();
      const streamed = await reader.read().catch((e: unknown) => e);
      expect((streamed as PolycloudError).code).toBe('UNAVAILABLE');
    }
  });
});
