import { type ClientRequest, request } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { MemoryBucketDriver, MemoryBucketStore } from '@polycloud/memory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { remainingMs } from '../src/driver/index.js';
import { Bucket, type BucketDriver, isPolycloudError } from '../src/index.js';
import { abortHttpOn } from '../src/internal/http-abort.js';

// A driver whose SDK ignores the signal (as the Cloud Storage client does): its request to a
// server that never answers must still end when the call times out, or it keeps the process
// alive. Judged from the server side: the connection closes.
let server: Server;
let port = 0;
const accepted: Socket[] = [];
const closed: Promise<void>[] = [];

beforeAll(async () => {
  server = createServer((s) => {
    accepted.push(s);
    closed.push(new Promise((r) => s.once('close', () => r())));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  port = typeof a === 'object' && a ? a.port : 0;
});
afterAll(async () => {
  for (const s of accepted) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

/** Whether `p` (a server-side close) settles within `ms`: a bound for a hang, not a speed check. */
async function closedWithin(p: Promise<void> | undefined, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    (p ?? new Promise<void>(() => {})).then(() => true),
    new Promise<boolean>((res) => {
      timer = setTimeout(() => res(false), ms);
    }),
  ]);
  clearTimeout(timer);
  return r;
}

/** A memory driver whose head() sends a request that ignores the signal and never settles. */
function deafDriver(seen: { deadline?: number | undefined; req?: ClientRequest }): BucketDriver {
  const inner = new MemoryBucketDriver(new MemoryBucketStore('deaf'));
  const d: BucketDriver = Object.create(inner);
  // A remote provider's name: in-process providers (memory, local) run without the safety net.
  Object.defineProperty(d, 'provider', { value: 'deaf-sdk' });
  d.head = (_key, opts) => {
    seen.deadline = remainingMs(opts.signal);
    const req = request({ host: '127.0.0.1', port, path: '/' });
    req.on('error', () => {});
    req.end();
    seen.req = req;
    return new Promise(() => {});
  };
  return d;
}

describe('requests of an SDK that ignores the signal', () => {
  it('end when the call times out', async () => {
    const seen: { deadline?: number; req?: ClientRequest } = {};
    const b = new Bucket(deafDriver(seen), { timeoutMs: 300, retry: { maxAttempts: 1 } });
    const err = await b.head('k').catch((e: unknown) => e);
    expect(isPolycloudError(err, 'TIMEOUT'), String(err)).toBe(true);
    // The deadline a driver can hand to an SDK that takes deadlines, not signals (gax).
    expect(seen.deadline).toBeGreaterThan(0);
    expect(seen.deadline).toBeLessThanOrEqual(300);
    // The request and its socket are destroyed by the abort: no handle is left to keep the
    // process alive.
    expect(seen.req?.destroyed).toBe(true);
    expect(seen.req?.socket?.destroyed ?? true).toBe(true);
  }, 30_000);

  it('requests started after the abort (a driver cleaning up) are left alone', async () => {
    const c = new AbortController();
    c.abort();
    const before = accepted.length;
    const late = abortHttpOn(c.signal, () => request({ host: '127.0.0.1', port, path: '/cleanup' }));
    late.on('error', () => {});
    late.end();
    await new Promise<void>((r) => late.once('socket', (s) => s.once('connect', () => r())));
    expect(late.destroyed).toBe(false);
    expect(await closedWithin(closed[before], 300)).toBe(false);
    late.destroy();
  });

  it('remainingMs is undefined for a signal without timers', () => {
    expect(remainingMs(undefined)).toBeUndefined();
    expect(remainingMs(new AbortController().signal)).toBeUndefined();
  });
});
