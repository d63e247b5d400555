import { isDeepStrictEqual } from 'node:util';
import {
  blobEventFunction,
  bytesCodec,
  type FunctionContext,
  httpFunction,
  isPolycloudError,
  type Message,
  type QueueFunction,
  queueFunction,
  type ScheduleEvent,
  scheduleFunction,
  utf8,
} from '@polycloud/core';
import type { FunctionsHarness } from '../functions-harness.js';
import { type RegisterTest, runSuite, type TestCtx } from './framework.js';
import { check, checkBytes, randomData } from './helpers.js';

const BASE = 'http://functions.test';

/** A secret the failing handler throws: it must never reach an HTTP response body. */
const SECRET = 'secret-detail-7f3a';

/** The test app: one HTTP function answering every HTTP test by path. */
export const testApp = httpFunction(async (req, ctx) => {
  const url = new URL(req.url);
  switch (url.pathname) {
    case '/echo': {
      const body = new Uint8Array(await req.arrayBuffer());
      return new Response(body, {
        status: 200,
        headers: { 'content-type': req.headers.get('content-type') ?? 'application/octet-stream' },
      });
    }
    case '/headers': {
      const h = new Headers({ 'content-type': 'application/json' });
      h.append('x-out', 'one');
      h.append('x-out', 'two');
      return new Response(JSON.stringify({ multi: req.headers.get('x-multi'), method: req.method }), {
        headers: h,
      });
    }
    case '/cookies': {
      const h = new Headers({ 'content-type': 'application/json' });
      h.append('set-cookie', 'a=1; Path=/; HttpOnly');
      h.append('set-cookie', 'b=two; Path=/; Secure; SameSite=Lax');
      return new Response(JSON.stringify({ cookie: req.headers.get('cookie') }), { headers: h });
    }
    case '/query':
      return Response.json({
        a: url.searchParams.getAll('a'),
        b: url.searchParams.get('b'),
        emoji: url.searchParams.get('e'),
      });
    case '/status':
      return new Response(null, { status: Number(url.searchParams.get('code') ?? '200') });
    case '/throw':
      throw new Error(`handler failure: ${SECRET}`);
    case '/context':
      return Response.json(contextFacts(ctx));
    default:
      return new Response('not found', { status: 404 });
  }
});

function contextFacts(ctx: FunctionContext) {
  return {
    requestId: ctx.requestId,
    provider: ctx.provider,
    aborted: ctx.signal.aborted,
    deadline: ctx.deadline?.toISOString() ?? null,
    hasLogger: typeof ctx.logger.info === 'function',
    hasNative: ctx.native() !== undefined,
  };
}

/**
 * The functions conformance suite: one test app through a binding (HTTP, queue, schedule,
 * blob events, bad input).
 *
 * @example
 * functionsSuite(lambdaHarness);
 */
export function functionsSuite(h: FunctionsHarness): void {
  runSuite(h, 'functions', (test) => registerFunctionsTests(h, test));
}

function registerFunctionsTests(h: FunctionsHarness, test: RegisterTest): void {
  const withHttp = async (t: TestCtx) => {
    const rig = await h.http(testApp);
    t.defer(() => rig.close());
    return rig;
  };

  test('http: binary body round trip (every byte value)', async (t) => {
    const rig = await withHttp(t);
    const bytes = new Uint8Array(512);
    for (let i = 0; i < bytes.length; i++) bytes[i] = i % 256;
    const res = await rig.fetch(
      new Request(`${BASE}/echo`, {
        method: 'POST',
        body: bytes,
        headers: { 'content-type': 'application/octet-stream' },
      }),
    );
    check(res.status === 200, `status ${res.status}`);
    checkBytes(new Uint8Array(await res.arrayBuffer()), bytes, 'echoed body');
  });

  test('http: text body keeps its UTF-8', async (t) => {
    const rig = await withHttp(t);
    const text = 'héllo 😀 \u2028 "json"';
    const res = await rig.fetch(
      new Request(`${BASE}/echo`, {
        method: 'PUT',
        body: text,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
      }),
    );
    check((await res.text()) === text, 'text body changed on the way');
  });

  test('http: repeated request and response headers', async (t) => {
    const rig = await withHttp(t);
    const headers = new Headers();
    headers.append('x-multi', 'a');
    headers.append('x-multi', 'b');
    const res = await rig.fetch(new Request(`${BASE}/headers`, { headers }));
    const json = (await res.json()) as { multi: string };
    // RFC 9110 §5.3: repeated fields are one comma-separated list; HTTP API v2 joins without a space.
    check(
      json.multi?.replace(/,\s*/g, ', ') === 'a, b',
      `request header x-multi arrived as ${JSON.stringify(json.multi)}`,
    );
    check(res.headers.get('x-out') === 'one, two', `response x-out is ${res.headers.get('x-out')}`);
  });

  test('http: cookies both ways', async (t) => {
    const rig = await withHttp(t);
    const res = await rig.fetch(new Request(`${BASE}/cookies`, { headers: { cookie: 'x=1; y=2' } }));
    const json = (await res.json()) as { cookie: string };
    check(json.cookie === 'x=1; y=2', `cookie header arrived as ${JSON.stringify(json.cookie)}`);
    const set = res.headers.getSetCookie();
    check(set.length === 2, `expected 2 Set-Cookie headers, got ${JSON.stringify(set)}`);
    check(set[0]!.startsWith('a=1') && set[1]!.startsWith('b=two'), `Set-Cookie: ${JSON.stringify(set)}`);
  });

  test('http: query string with repeated and encoded values', async (t) => {
    const rig = await withHttp(t);
    const res = await rig.fetch(new Request(`${BASE}/query?a=1&a=2&b=x%20y%2Bz%26&e=%F0%9F%98%80`));
    const json = (await res.json()) as { a: string[]; b: string; emoji: string };
    check(JSON.stringify(json.a) === '["1","2"]', `a = ${JSON.stringify(json.a)}`);
    check(json.b === 'x y+z&', `b = ${JSON.stringify(json.b)}`);
    check(json.emoji === '😀', `e = ${JSON.stringify(json.emoji)}`);
  });

  test('http: status codes pass through', async (t) => {
    const rig = await withHttp(t);
    for (const code of [201, 204, 302, 404, 418, 503]) {
      const res = await rig.fetch(new Request(`${BASE}/status?code=${code}`));
      check(res.status === code, `asked for ${code}, got ${res.status}`);
      await res.arrayBuffer();
    }
  });

  test('http: a thrown handler is a 500 without the error in the body', async (t) => {
    const rig = await withHttp(t);
    const res = await rig.fetch(new Request(`${BASE}/throw`, { method: 'POST', body: 'x' }));
    check(res.status === 500, `status ${res.status}`);
    const body = await res.text();
    check(
      !body.includes(SECRET) && !body.includes('    at '),
      `500 body leaks the error: ${body.slice(0, 200)}`,
    );
  });

  test('http: context (request id, provider, signal, deadline, native)', async (t) => {
    const rig = await withHttp(t);
    const res = await rig.fetch(new Request(`${BASE}/context`));
    const c = (await res.json()) as ReturnType<typeof contextFacts>;
    check(typeof c.requestId === 'string' && c.requestId.length > 0, 'empty requestId');
    check(c.provider === h.provider, `provider ${c.provider}, expected ${h.provider}`);
    check(c.aborted === false, 'signal already aborted');
    check(c.hasLogger && c.hasNative, 'logger or native() missing');
    if (h.hasDeadline)
      check(c.deadline !== null && Date.parse(c.deadline) > Date.now() - 60_000, 'no deadline');
  });

  test('queue: messages decode as consume() decodes them, failures are redelivered', async (t) => {
    const rig = await h.queue();
    t.defer(() => rig.cleanup());
    const seen: { id: string; body: unknown; attributes: Record<string, string>; deliveryCount: number }[] =
      [];
    const fn = queueFunction<unknown>(
      async (msg: Message<unknown>) => {
        seen.push({
          id: msg.id,
          body: msg.body,
          attributes: { ...msg.attributes },
          deliveryCount: msg.deliveryCount,
        });
        const b = msg.body as { fail?: boolean };
        if (b?.fail && msg.deliveryCount === 1) throw new Error('fails on first delivery');
      },
      { claimCheck: { bucket: rig.claimCheck } },
    );
    const bodies: unknown[] = [{ n: 1, text: 'héllo 😀' }, { n: 2, fail: true }, ['array', null, 3.5]];
    const ids: string[] = [];
    for (const [i, body] of bodies.entries()) {
      const { id } = await rig.queue.send(
        body,
        i === 0 ? { attributes: { kind: 'first', 'x-note': 'ünï ✓' } } : {},
      );
      ids.push(id);
    }
    const failedReported: string[] = [];
    for (let round = 0; round < 40; round++) {
      const r = await rig.deliver(fn);
      failedReported.push(...(r.failed ?? []));
      const done = seen.some((s) => (s.body as { fail?: boolean })?.fail && s.deliveryCount >= 2);
      if (done && seen.length >= 4) break;
      await new Promise((res) => setTimeout(res, 250));
    }
    for (const [i, body] of bodies.entries()) {
      const got = seen.find((s) => JSON.stringify(s.body) === JSON.stringify(body));
      check(got !== undefined, `body ${i} never reached the handler: ${JSON.stringify(seen)}`);
      check(got.id === ids[i], `message ${i} id ${got.id}, sent as ${ids[i]}`);
    }
    const first = seen.find((s) => (s.body as { n?: number })?.n === 1)!;
    // Attribute order is not part of the contract (Pub/Sub delivers a map): compare as a set.
    check(
      isDeepStrictEqual(first.attributes, { kind: 'first', 'x-note': 'ünï ✓' }),
      `attributes ${JSON.stringify(first.attributes)}`,
    );
    check(first.deliveryCount === 1, `first delivery count ${first.deliveryCount}`);
    const retried = seen.filter((s) => (s.body as { fail?: boolean })?.fail);
    check(retried.length >= 2, `the failed message was delivered ${retried.length} time(s)`);
    check(retried[1]!.deliveryCount >= 2, `redelivery count ${retried[1]!.deliveryCount}`);
    if (failedReported.length > 0) {
      check(
        failedReported.every((id) => id === ids[1]),
        `reported failures ${JSON.stringify(failedReported)}, only ${ids[1]} failed`,
      );
    }
    check(
      seen.filter((s) => !(s.body as { fail?: boolean })?.fail).length === 2,
      `successful messages were redelivered: ${JSON.stringify(seen)}`,
    );
  });

  test('queue: binary, empty and CR bodies arrive byte-exact (bytesCodec)', async (t) => {
    const rig = await h.queue();
    t.defer(() => rig.cleanup());
    const raw = rig.queue.withCodec(bytesCodec);
    const bodies = [
      Uint8Array.from([0xff, 0x00, 0x01, 0xfe, 0x80]),
      new Uint8Array(),
      utf8('line one\r\nline two\r'),
    ];
    const ids: string[] = [];
    for (const b of bodies) ids.push((await raw.send(b, { attributes: { empty: '' } })).id);
    const got = new Map<string, { bytes: Uint8Array; attributes: Record<string, string> }>();
    const fn = queueFunction<Uint8Array>(
      async (msg) => {
        got.set(msg.id, { bytes: msg.body, attributes: { ...msg.attributes } });
      },
      { codec: bytesCodec, claimCheck: { bucket: rig.claimCheck } },
    );
    for (let round = 0; round < 40 && got.size < bodies.length; round++) {
      await rig.deliver(fn as unknown as QueueFunction<unknown>);
      if (got.size < bodies.length) await new Promise((res) => setTimeout(res, 250));
    }
    for (const [i, b] of bodies.entries()) {
      const m = got.get(ids[i]!);
      check(m !== undefined, `message ${i} never arrived`);
      checkBytes(m.bytes, b, `body ${i}`);
      check(JSON.stringify(m.attributes) === '{"empty":""}', `attributes ${JSON.stringify(m.attributes)}`);
    }
  });

  test('queue: claim-check bodies over the message limit arrive whole', async (t) => {
    const rig = await h.queue();
    t.defer(() => rig.cleanup());
    const big = 'x'.repeat(Math.min(rig.queue.capabilities.maxMessageBytes + 1, 11 * 1024 * 1024));
    const got: string[] = [];
    const fn = queueFunction<unknown>(
      async (msg) => {
        got.push(msg.body as string);
      },
      { claimCheck: { bucket: rig.claimCheck } },
    );
    await rig.queue.send(big);
    for (let round = 0; round < 40 && got.length === 0; round++) {
      await rig.deliver(fn);
      if (got.length === 0) await new Promise((res) => setTimeout(res, 250));
    }
    check(got.length === 1 && got[0] === big, `claim-check body: ${got.length} deliveries`);
    // Once handled, the claim-check blob is released as ack() would release it.
    let left = 1;
    for (let i = 0; i < 20 && left > 0; i++) {
      left = (await rig.claimCheck.list()).items.length;
      if (left > 0) await new Promise((res) => setTimeout(res, 100));
    }
    check(left === 0, `${left} claim-check blob(s) left after success`);
  });

  test('schedule: a tick reaches the handler', async () => {
    const ticks: ScheduleEvent[] = [];
    const fn = scheduleFunction('*/5 * * * *', async (ev) => {
      ticks.push(ev);
    });
    await h.schedule(fn);
    check(ticks.length === 1, `${ticks.length} ticks`);
    check(ticks[0]!.cron === '*/5 * * * *', `cron ${ticks[0]!.cron}`);
    check(!Number.isNaN(ticks[0]!.scheduledTime.getTime()), 'bad scheduledTime');
  });

  test('blob: created and deleted events with decoded key, size and etag', async (t) => {
    const events: {
      type: string;
      key: string;
      size: number | undefined;
      etag: string | undefined;
      bucket: string;
    }[] = [];
    const fn = blobEventFunction(async (e) => {
      events.push({ type: e.type, key: e.key, size: e.size, etag: e.etag, bucket: e.bucket });
    });
    const rig = await h.blob(fn);
    t.defer(() => rig.cleanup());
    // A '.' before '/' is renamed on Azure (see adapters/azure/src/blob/names.ts): the event must decode it.
    const key = 'uploads./a b+c ü%20 (1).txt';
    const body = randomData(1234);
    await rig.put(key, body);
    const info = await rig.bucket.head(key);
    await rig.remove(key);
    const created = events.find((e) => e.type === 'created');
    const deleted = events.find((e) => e.type === 'deleted');
    check(created !== undefined, `no created event: ${JSON.stringify(events)}`);
    check(created.key === key, `created key ${JSON.stringify(created.key)}, expected ${JSON.stringify(key)}`);
    check(created.size === 1234, `created size ${created.size}`);
    check(created.bucket === rig.bucket.name, `bucket ${created.bucket}, expected ${rig.bucket.name}`);
    check(
      created.etag !== undefined && normalizeEtag(created.etag) === normalizeEtag(info.etag),
      `etag ${created.etag}, head says ${info.etag}`,
    );
    check(deleted !== undefined && deleted.key === key, `deleted event: ${JSON.stringify(deleted)}`);
  });

  test('bad input: a malformed event is INVALID_ARGUMENT naming the binding', async () => {
    for (const fn of [
      testApp,
      queueFunction(async () => {}),
      scheduleFunction('0 * * * *', async () => {}),
      blobEventFunction(async () => {}),
    ]) {
      const out = await h.malformed(fn);
      if (out instanceof Response) {
        const text = await out.text();
        check(out.status === 400, `${fn.kind}: malformed event answered ${out.status}`);
        check(
          text.includes(h.binding) && !text.includes('    at '),
          `${fn.kind}: 400 body ${text.slice(0, 200)}`,
        );
      } else {
        check(isPolycloudError(out, 'INVALID_ARGUMENT'), `${fn.kind}: threw ${String(out)}`);
        check(
          out.message.includes(h.binding),
          `${fn.kind}: message does not name the binding: ${out.message}`,
        );
      }
    }
  });
}

function normalizeEtag(e: string): string {
  return e.replace(/^W\//, '').replace(/"/g, '');
}
