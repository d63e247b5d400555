import { type Bucket, isPolycloudError, type KvStore, type KvValue, type Queue } from '@polycloud/core';
import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';

/** Harness of the fuzz suite: how to get the adapter's objects, opened without I/O. */
export interface FuzzHarness {
  readonly adapter: string;
  /** Open against an endpoint nothing answers on (e.g. 127.0.0.1:9) with one attempt. */
  readonly bucket?: () => Promise<Bucket>;
  /** Open a queue the same way (an already-aborted signal keeps its calls from doing I/O). */
  readonly queue?: () => Promise<Queue<unknown>>;
  /** Open a key-value store the same way. */
  readonly kv?: () => Promise<KvStore<KvValue>>;
  /**
   * The adapter's function bindings, each called with one fuzzed event: it may resolve (a
   * response, a per-message failure) or reject with a PolycloudError, nothing else.
   */
  readonly events?: Readonly<Record<string, (event: unknown) => Promise<unknown>>>;
  /** A few hand-made events per binding, mixed into the fuzzed ones (shapes near the real ones). */
  readonly eventSeeds?: readonly unknown[];
}

/** The seed of this run: POLYCLOUD_FUZZ_SEED replays one; printed by every suite. */
export const FUZZ_SEED = Number(process.env.POLYCLOUD_FUZZ_SEED ?? Date.now() % 2 ** 31);
/** Inputs per adapter and run (spread over its calls); POLYCLOUD_FUZZ_INPUTS changes it. */
export const FUZZ_INPUTS = Number(process.env.POLYCLOUD_FUZZ_INPUTS ?? 10_000);

/** Runs `f` (sync throws included) and fails on anything but success or a PolycloudError. */
export async function portable(what: string, f: () => unknown): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => f())(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: did not settle within 5 s (a hang)`)), 5000);
      }),
    ]);
  } catch (e) {
    if (!isPolycloudError(e)) throw new Error(`${what}: non-Polycloud error ${String(e)}`, { cause: e });
  } finally {
    clearTimeout(timer);
  }
}

/** Values of every kind, including the ones that broke things before (bigint, look-alike signals). */
export const hostile = fc.oneof(
  fc.anything({ withBigInt: true, withTypedArray: true, withMap: true, withSet: true, withDate: true }),
  fc.constantFrom(
    {},
    { aborted: false },
    null,
    Number.NaN,
    -1,
    2 ** 53,
    Number.POSITIVE_INFINITY,
    10n,
    '',
    '\r\n',
  ),
  fc.integer({ min: -10, max: 100_000 }),
);
/** An options argument: a dictionary of `names` and strangers with hostile values, or any hostile value. */
export const optionsOf = (names: readonly string[]) =>
  fc.oneof(
    fc.dictionary(fc.constantFrom(...names, 'signal', 'nope', '__proto__', 'constructor'), hostile, {
      maxKeys: 4,
    }),
    hostile,
  );
/** Object keys: binary strings, hostile values and known troublemakers. */
export const hostileKey = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  hostile,
  fc.constantFrom('', '.', '../x', 'a'.repeat(2000), 'a/b', '%2F', '\u0000', '\ud800'),
);

// Validation runs before any I/O; a call that passes it meets an aborted signal and ends
// CANCELLED, so the fuzz exercises the validation paths without a network round trip.
const aborted = AbortSignal.abort();
function offline(o: unknown): unknown {
  if (o === undefined) return { signal: aborted };
  if (typeof o === 'object' && o !== null && !Array.isArray(o) && !Object.hasOwn(o, 'signal'))
    return { ...(o as object), signal: aborted };
  return o;
}

/**
 * Property-based fuzzing with fast-check of one adapter's portable objects and function
 * bindings: hostile keys, bodies, values, options of wrong types and unknown names, numbers out
 * of range, and event payloads. Every call must settle within 5 s, and every failure must be a
 * PolycloudError. FUZZ_INPUTS (10,000) inputs per adapter per run, seeded and printed: replay
 * with POLYCLOUD_FUZZ_SEED=<seed>.
 */
export function fuzzSuite(h: FuzzHarness): void {
  const seed = FUZZ_SEED;
  const services = [h.bucket, h.queue, h.kv, h.events].filter(Boolean).length;
  const runs = Math.max(1, Math.ceil(FUZZ_INPUTS / Math.max(1, services)));
  const params = { seed, numRuns: runs, endOnFailure: true };
  describe(`fuzz [${h.adapter}] (seed ${seed}; POLYCLOUD_FUZZ_SEED=${seed} replays)`, () => {
    const closers: (() => Promise<void>)[] = [];
    afterAll(async () => {
      for (const c of closers) await c().catch(() => {});
    });
    console.log(
      `fuzz ${h.adapter}: seed ${seed}, ${runs * services} inputs (POLYCLOUD_FUZZ_SEED=${seed} replays)`,
    );

    if (h.bucket) {
      const open = h.bucket;
      it(`bucket calls: ${runs} hostile keys, bodies and options`, async () => {
        const b = await open();
        closers.push(() => b.close());
        const names = [
          'contentType',
          'metadata',
          'ifMatch',
          'ifNoneMatch',
          'range',
          'prefix',
          'cursor',
          'limit',
          'delimiter',
          'partSize',
          'concurrency',
          'md5',
          'method',
          'expiresIn',
        ];
        await fc.assert(
          fc.asyncProperty(
            hostileKey,
            fc.oneof(fc.string(), hostile),
            optionsOf(names),
            async (k, body, o) => {
              const opts = offline(o) as never;
              await portable('put', () => b.put(k as string, body as string, opts));
              await portable('getBytes', () => b.getBytes(k as string, opts));
              await portable('head', () => b.head(k as string, opts));
              await portable('list', () => b.list(opts));
              await portable('delete', () => b.delete(k as string, opts));
              await portable('signedUrl', () => b.signedUrl(k as string, opts));
            },
          ),
          params,
        );
      }, 300_000);
    }

    if (h.queue) {
      const open = h.queue;
      it(`queue calls: ${runs} hostile bodies and options`, async () => {
        const q = await open();
        closers.push(() => q.close());
        const names = [
          'attributes',
          'delaySeconds',
          'groupId',
          'deduplicationId',
          'maxMessages',
          'waitSeconds',
          'visibilityTimeoutSeconds',
        ];
        await fc.assert(
          fc.asyncProperty(hostile, optionsOf(names), async (body, o) => {
            const opts = offline(o) as never;
            await portable('send', () => q.send(body, opts));
            await portable('sendBatch', () => q.sendBatch([{ body }, body] as never, opts));
            await portable('receive', () => q.receive(opts));
            await portable('ack', () => q.ack(body as never, opts));
          }),
          params,
        );
      }, 300_000);
    }

    if (h.kv) {
      const open = h.kv;
      it(`kv calls: ${runs} hostile keys, values and options`, async () => {
        const kv = await open();
        closers.push(() => kv.close());
        const names = ['ifVersion', 'ifAbsent', 'ttlSeconds', 'prefix', 'cursor', 'limit'];
        await fc.assert(
          fc.asyncProperty(hostileKey, hostile, optionsOf(names), async (k, v, o) => {
            const opts = offline(o) as never;
            await portable('set', () => kv.set(k as string, v as never, opts));
            await portable('get', () => kv.get(k as string, opts));
            await portable('increment', () => kv.increment(k as string, v as number, opts));
            await portable('list', () => kv.list(opts));
            await portable('delete', () => kv.delete(k as string, opts));
            await portable('getMany', () => kv.getMany([k, v] as never, opts));
            await portable('setMany', () => kv.setMany([{ key: k, value: v }, k] as never, opts));
            await portable('deleteMany', () => kv.deleteMany([k] as never, opts));
          }),
          params,
        );
      }, 300_000);
    }

    if (h.events) {
      const bindings = Object.entries(h.events);
      it(`function bindings: ${runs} hostile event payloads over ${bindings.map(([n]) => n).join(', ')}`, async () => {
        // Events near the real shapes (records with fuzzed fields), plus anything at all.
        const field = fc.oneof(hostile, fc.string({ maxLength: 20 }));
        const nearReal = fc.oneof(
          fc.record({
            Records: fc.array(fc.dictionary(fc.string({ maxLength: 12 }), field), { maxLength: 3 }),
          }),
          fc.dictionary(
            fc.constantFrom(
              'Records',
              'eventSource',
              'body',
              'data',
              'message',
              'attributes',
              'httpMethod',
              'requestContext',
              'headers',
              'path',
              'rawPath',
              'version',
              'type',
              'specversion',
              'subscription',
              'detail-type',
              'time',
              'id',
              'source',
            ),
            field,
            { maxKeys: 6 },
          ),
          ...(h.eventSeeds?.length ? [fc.constantFrom(...h.eventSeeds)] : []),
        );
        await fc.assert(
          fc.asyncProperty(
            fc.integer({ min: 0, max: bindings.length - 1 }),
            fc.oneof(nearReal, hostile),
            async (i, event) => {
              const [name, handler] = bindings[i]!;
              await portable(`${name}(event)`, () => handler(event));
            },
          ),
          params,
        );
      }, 300_000);
    }
  });
}
