import { Readable } from 'node:stream';
import {
  MemoryBucketDriver,
  MemoryBucketStore,
  memoryBucket,
  memoryKv,
  memoryQueue,
} from '@polycloud/memory';
import { describe, expect, it } from 'vitest';
import type { BucketDriver } from '../src/index.js';
import {
  Bucket,
  bytesCodec,
  isPolycloudError,
  jsonCodec,
  openBucket,
  openKv,
  openQueue,
  registerScheme,
} from '../src/index.js';

async function errorOf(p: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

function expectCode(err: unknown, code: string) {
  expect(isPolycloudError(err), String(err)).toBe(true);
  expect((err as { code: string }).code).toBe(code);
}

const notASignal = {} as AbortSignal;

describe('options are validated before any I/O (issue 18.4, 18.5)', () => {
  it('list({ cursor: garbage, signal: {} }) rejects INVALID_ARGUMENT and nothing throws later', async () => {
    const b = memoryBucket(`v-${crypto.randomUUID()}`);
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
    try {
      expectCode(await errorOf(b.list({ cursor: 'garbage', signal: notASignal })), 'INVALID_ARGUMENT');
      expectCode(await errorOf(b.head('k', { signal: notASignal })), 'INVALID_ARGUMENT');
      expectCode(await errorOf(b.getBytes('k', { signal: notASignal })), 'INVALID_ARGUMENT');
      expectCode(await errorOf(b.put('k', 'v', { signal: notASignal })), 'INVALID_ARGUMENT');
      expectCode(await errorOf(b.deleteMany(['k'], { signal: notASignal })), 'INVALID_ARGUMENT');
      // Past every retry backoff the default policy could schedule.
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      process.off('uncaughtException', onUncaught);
      process.off('unhandledRejection', onUncaught);
    }
    expect(uncaught).toEqual([]);
  });

  it('kv and queue calls reject a non-AbortSignal signal', async () => {
    const kv = memoryKv(`v-${crypto.randomUUID()}`);
    expectCode(await errorOf(kv.get('k', { signal: notASignal })), 'INVALID_ARGUMENT');
    expectCode(await errorOf(kv.getMany(['k'], { signal: notASignal })), 'INVALID_ARGUMENT');
    expectCode(await errorOf(kv.increment('k', 1, { signal: notASignal })), 'INVALID_ARGUMENT');
    const q = memoryQueue(`v-${crypto.randomUUID()}`);
    expectCode(await errorOf(q.send('x', { signal: notASignal })), 'INVALID_ARGUMENT');
    expectCode(await errorOf(q.receive({ signal: notASignal })), 'INVALID_ARGUMENT');
  });

  it('consume() rejects bad options with INVALID_ARGUMENT, never a raw TypeError', async () => {
    const q = memoryQueue(`v-${crypto.randomUUID()}`);
    const h = async () => {};
    const bad: Record<string, unknown>[] = [
      { signal: {} },
      { batchSize: 10n },
      { batchSize: 0 },
      { concurrency: 1.5 },
      { concurrency: '4' },
      { waitSeconds: -1 },
      { waitSeconds: 10_000 },
      { waitSeconds: Number.NaN },
      { visibilityTimeoutSeconds: 0 },
      { visibilityTimeoutSeconds: 'x' },
      { maxDeliveries: 0 },
      { onError: 'log' },
      { retryDelaySeconds: 5 },
      { deadLetter: {} },
      { nope: 1 },
    ];
    for (const opts of bad) {
      const err = await errorOf(() => q.consume(h, opts as never));
      expect(isPolycloudError(err, 'INVALID_ARGUMENT'), `${String(Object.keys(opts))}: ${String(err)}`).toBe(
        true,
      );
    }
    expectCode(await errorOf(() => q.consume(h, null as never)), 'INVALID_ARGUMENT');
    expectCode(await errorOf(() => q.consume('h' as never)), 'INVALID_ARGUMENT');
    await q.close();
  });

  it('openBucket/openQueue/openKv refuse non-URLs and bad percent-encoding with INVALID_ARGUMENT', async () => {
    for (const u of [null, undefined, 123, {}, ['mem://x']]) {
      expectCode(await errorOf(openBucket(u as never)), 'INVALID_ARGUMENT');
      expectCode(await errorOf(openQueue(u as never)), 'INVALID_ARGUMENT');
      expectCode(await errorOf(openKv(u as never)), 'INVALID_ARGUMENT');
    }
    expectCode(await errorOf(openBucket('s3://%zz')), 'INVALID_ARGUMENT');
    expectCode(await errorOf(openQueue('sqs://q/%E0%A4%A')), 'INVALID_ARGUMENT');
    expectCode(await errorOf(openBucket('mem://x', null as never)), 'INVALID_ARGUMENT');
    expectCode(await errorOf(openBucket('mem://x', { timeoutMs: -5 })), 'INVALID_ARGUMENT');
    expectCode(await errorOf(openBucket('mem://x', { attemptTimeoutMs: Number.NaN })), 'INVALID_ARGUMENT');
    expectCode(await errorOf(openBucket('mem://x', { retry: { maxAttempts: 0 } })), 'INVALID_ARGUMENT');
    // A misspelt retry setting is refused like any unknown option, not dropped.
    const misspelt = { retry: { attempts: 2 } as never };
    expectCode(await errorOf(openBucket('mem://x', misspelt)), 'INVALID_ARGUMENT');
    expectCode(await errorOf(openQueue('mem://x', misspelt)), 'INVALID_ARGUMENT');
    expectCode(await errorOf(openKv('mem://x', misspelt)), 'INVALID_ARGUMENT');
    const notACodec = { codec: { encode: 1 } as never };
    expectCode(await errorOf(openQueue('mem://x', notACodec)), 'INVALID_ARGUMENT');
    // ...and before the adapter opens anything (opening may be I/O: a subscription read).
    let opened = 0;
    registerScheme('probeopen', {
      openQueueDriver: async () => {
        opened++;
        throw new Error('the adapter was asked to open');
      },
      examples: { queue: 'probeopen://q' },
    });
    for (const bad of [misspelt, notACodec, { retry: { maxAttempts: 0 } }]) {
      expectCode(await errorOf(openQueue('probeopen://q', bad)), 'INVALID_ARGUMENT');
    }
    expect(opened).toBe(0);
  });
});

describe('content headers and metadata an HTTP header cannot carry (issue 17.1)', () => {
  it('are rejected before any I/O', async () => {
    const b = memoryBucket(`h-${crypto.randomUUID()}`);
    for (const o of [
      { contentType: 'text/plain\r\nx-injected: 1' },
      { contentType: 'text/plain\n' },
      { cacheControl: 'no-cache\u0000' },
      { contentDisposition: 'attachment; filename="ü.txt"' },
      { metadata: { a: 'x\r\ny' } },
      { metadata: { a: '\u0007' } },
    ]) {
      expectCode(await errorOf(b.put('k', 'v', o)), 'INVALID_ARGUMENT');
    }
    expect(await b.exists('k')).toBe(false);
    await b.put('k', 'v', { contentType: 'text/plain; charset=utf-8', metadata: { a: 'Zürich\ttab 😀' } });
  });
});

describe('the JSON codec and bytes (issue 16.1)', () => {
  it('refuses binary bodies with INVALID_ARGUMENT pointing at bytesCodec', async () => {
    for (const v of [
      new Uint8Array([1, 2, 3]),
      Buffer.from('abc'),
      new ArrayBuffer(2),
      new DataView(new ArrayBuffer(2)),
      { nested: [new Uint8Array(1)] },
      { b: Buffer.from('x') },
    ]) {
      const err = await errorOf(() => jsonCodec.encode(v));
      expectCode(err, 'INVALID_ARGUMENT');
      expect((err as Error).message).toContain('bytesCodec');
    }
    const q = memoryQueue(`c-${crypto.randomUUID()}`);
    expectCode(await errorOf(q.send(new Uint8Array([1, 2, 3]))), 'INVALID_ARGUMENT');
    const raw = q.withCodec(bytesCodec);
    await raw.send(new Uint8Array([1, 2, 3]));
    const [m] = await raw.receive({ waitSeconds: 1 });
    expect([...m!.body]).toEqual([1, 2, 3]);
    await q.close();
  });
});

describe('consume({ waitSeconds: 0 }) on an empty queue (issue 16.1)', () => {
  it('backs off: timers still fire and stop() returns', async () => {
    const q = memoryQueue(`e-${crypto.randomUUID()}`);
    let receives = 0;
    const real = q.receive.bind(q);
    q.receive = (o) => {
      receives++;
      return real(o);
    };
    const c = q.consume(async () => {}, { waitSeconds: 0 });
    // A starved event loop never gets here: the timer would not fire.
    await new Promise((r) => setTimeout(r, 500));
    await c.stop();
    expect(receives).toBeLessThan(40);
    await q.close();
  });
});

/**
 * A memory driver whose first body is cut after `cutAt` bytes, by error, early end or stall.
 * `shape` is the body the driver hands over: a Web stream from `get` (drivers without `read`),
 * or a Node stream from `read` (the SDK drivers' whole-body fast path).
 */
function cuttingDriver(
  store: MemoryBucketStore,
  cutAt: number,
  mode: 'error' | 'end' | 'stall',
  cuts = 1,
  shape: 'web' | 'node' = 'web',
) {
  const inner = new MemoryBucketDriver(store);
  let left = cuts;
  const gets: { offset: number | undefined; ifMatch: string | undefined }[] = [];
  const driver: BucketDriver = Object.create(inner);
  const reset = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
  if (shape === 'node') {
    driver.read = async (key, opts) => {
      gets.push({ offset: opts.range?.offset, ifMatch: opts.ifMatch });
      const r = await inner.read(key, opts);
      if (left <= 0) return r;
      left--;
      const bytes = r.body;
      let sent = 0;
      const body = new Readable({
        read() {
          if (sent >= cutAt) {
            if (mode === 'error') this.destroy(reset());
            else if (mode === 'end') this.push(null);
            return; // stall: a socket that went silent
          }
          const n = Math.min(64 * 1024, cutAt - sent, bytes.byteLength - sent);
          if (n <= 0) {
            this.push(null);
            return;
          }
          this.push(bytes.subarray(sent, sent + n));
          sent += n;
        },
      });
      // A reset that arrives before anyone reads (an 'error' event with no reader yet).
      if (cutAt === 0 && mode === 'error') setTimeout(() => body.destroy(reset()), 5);
      return { info: r.info, body };
    };
    return { driver, gets };
  }
  (driver as { read?: unknown }).read = undefined;
  driver.get = async (key, opts) => {
    gets.push({ offset: opts.range?.offset, ifMatch: opts.ifMatch });
    const r = await inner.get(key, opts);
    if (left <= 0) return r;
    left--;
    const reader = r.body.getReader();
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (sent >= cutAt) {
          if (mode === 'error') c.error(reset());
          else if (mode === 'end') c.close();
          else await new Promise(() => {}); // a socket that went silent
          return;
        }
        const { done, value } = await reader.read();
        if (done) return c.close();
        const part = value.subarray(0, Math.min(value.byteLength, cutAt - sent));
        sent += part.byteLength;
        c.enqueue(part);
      },
    });
    return { info: r.info, body };
  };
  return { driver, gets };
}

for (const shape of ['web', 'node'] as const) {
  describe(`a read cut mid-body resumes from the last byte (issue 16.1), ${shape} body`, () => {
    const data = new Uint8Array(2 * 1024 * 1024).map((_, i) => (i * 7) & 0xff);
    const fast = { retry: { maxAttempts: 4, initialDelayMs: 1, maxDelayMs: 5 } };

    for (const mode of ['error', 'end', 'stall'] as const) {
      it(`after a connection ${mode === 'error' ? 'reset' : mode === 'end' ? 'that ends the body early' : 'that stalls'}`, async () => {
        const store = new MemoryBucketStore(`r-${crypto.randomUUID()}`);
        const { driver, gets } = cuttingDriver(store, 1024 * 1024 + 3, mode, 1, shape);
        const b = new Bucket(driver, { ...fast, idleTimeoutMs: 200 });
        const info = await b.put('big', data);
        const got = await b.getBytes('big');
        expect(got.byteLength).toBe(data.byteLength);
        expect(Buffer.compare(got, data)).toBe(0);
        expect(gets[1]).toEqual({ offset: 1024 * 1024 + 3, ifMatch: info.etag });
        // The stream form resumes too, and ranges keep their bounds.
        const { driver: d2 } = cuttingDriver(store, 100, mode, 1, shape);
        const b2 = new Bucket(d2, { ...fast, idleTimeoutMs: 200 });
        const r = await b2.get('big', { range: { offset: 10, length: 1000 } });
        const chunks: Uint8Array[] = [];
        const reader = r.body.getReader();
        for (let x = await reader.read(); !x.done; x = await reader.read()) chunks.push(x.value);
        expect(Buffer.compare(Buffer.concat(chunks), data.subarray(10, 1010))).toBe(0);
      });
    }

    it('fails UNAVAILABLE and retryable when cuts outlast the retry budget', async () => {
      const store = new MemoryBucketStore(`r-${crypto.randomUUID()}`);
      const { driver } = cuttingDriver(store, 1000, 'error', 100, shape);
      const b = new Bucket(driver, fast);
      await b.put('big', data);
      const err = await errorOf(b.getBytes('big'));
      expectCode(err, 'UNAVAILABLE');
      expect((err as { retryable: boolean }).retryable).toBe(true);
    });

    it('fails UNAVAILABLE when the object changed between the cut and the resume', async () => {
      const store = new MemoryBucketStore(`r-${crypto.randomUUID()}`);
      const { driver } = cuttingDriver(store, 1000, 'error', 1, shape);
      const b = new Bucket(driver, fast);
      await b.put('big', data);
      const r = await b.get('big');
      await new Bucket(new MemoryBucketDriver(store)).put('big', 'replaced');
      const err = await errorOf(r.bytes());
      expectCode(err, 'UNAVAILABLE');
      expect((err as Error).message).toContain('changed');
    });

    it('CANCELLED only when the caller aborted, TIMEOUT when the deadline passed', async () => {
      const store = new MemoryBucketStore(`r-${crypto.randomUUID()}`);
      const { driver } = cuttingDriver(store, 1000, 'stall', 1, shape);
      const b = new Bucket(driver, { ...fast, idleTimeoutMs: 0 });
      await b.put('big', data);
      const ac = new AbortController();
      const r = await b.get('big', { signal: ac.signal });
      const p = errorOf(r.bytes());
      setTimeout(() => ac.abort(), 20);
      expectCode(await p, 'CANCELLED');
      const { driver: d2 } = cuttingDriver(store, 1000, 'stall', 1, shape);
      const timed = new Bucket(d2, { ...fast, idleTimeoutMs: 0, timeoutMs: 100 });
      expectCode(await errorOf(timed.getBytes('big')), 'TIMEOUT');
      // The stream form too: a stalled chunk-wise read ends with the caller's abort.
      const { driver: d3 } = cuttingDriver(store, 1000, 'stall', 1, shape);
      const ac3 = new AbortController();
      const r3 = await new Bucket(d3, { ...fast, idleTimeoutMs: 0 }).get('big', { signal: ac3.signal });
      const reader = r3.body.getReader();
      const drained = (async () => {
        for (let x = await reader.read(); !x.done; x = await reader.read());
      })();
      setTimeout(() => ac3.abort(), 20);
      expectCode(await errorOf(drained), 'CANCELLED');
    });

    it('a body cut while nobody reads it fails the read, not the process', async () => {
      const store = new MemoryBucketStore(`r-${crypto.randomUUID()}`);
      const { driver } = cuttingDriver(store, 0, 'error', 100, shape);
      const b = new Bucket(driver, { retry: { maxAttempts: 1 } });
      await b.put('big', data);
      const r = await b.get('big');
      await new Promise((done) => setTimeout(done, 20));
      expectCode(await errorOf(r.bytes()), 'UNAVAILABLE');
    });
  });
}

describe('timeouts (issue 17.2, 18.6)', () => {
  /** A driver whose every call hangs forever and ignores its signal, as a blackholed SDK may. */
  function blackhole(): BucketDriver {
    const inner = new MemoryBucketDriver(new MemoryBucketStore('bh'));
    const d: BucketDriver = Object.create(inner);
    d.head = () => new Promise(() => {});
    return d;
  }
  const once = { retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 1 } };

  it('attemptTimeoutMs ends each attempt with or without a caller signal, even if the driver ignores it', async () => {
    const b = new Bucket(blackhole(), { ...once, attemptTimeoutMs: 50 });
    expectCode(await errorOf(b.head('k')), 'TIMEOUT');
    expectCode(await errorOf(b.head('k', { signal: new AbortController().signal })), 'TIMEOUT');
    expectCode(await errorOf(b.head('k', { signal: AbortSignal.timeout(60_000) })), 'TIMEOUT');
  });

  it('timeoutMs bounds the whole call; a caller abort gives CANCELLED', async () => {
    const b = new Bucket(blackhole(), { retry: { maxAttempts: 1000 }, attemptTimeoutMs: 30, timeoutMs: 200 });
    const started = performance.now();
    expectCode(await errorOf(b.head('k')), 'TIMEOUT');
    // Not a timing assertion on speed: 1000 attempts of 30 ms would take 30 s.
    expect(performance.now() - started).toBeLessThan(20_000);
    const ac = new AbortController();
    const p = errorOf(new Bucket(blackhole(), { attemptTimeoutMs: 0 }).head('k', { signal: ac.signal }));
    ac.abort();
    expectCode(await p, 'CANCELLED');
  });
});
