import { FUZZ_SEED, hostile, hostileKey, optionsOf, portable } from '@polycloud/conformance';
import { memoryBucket, memoryKv, memoryQueue } from '@polycloud/memory';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPolycloudError, jsonCodec, openBucket, openKv, openQueue } from '../src/index.js';

// Property-based fuzzing of the portable layer on the memory adapter: hostile keys, options of
// wrong types and unknown names, numbers out of range, malformed URLs and codec inputs. Every
// call must settle, and every failure must be a PolycloudError inside the call's promise.
// Seeded and printed: replay a failure with POLYCLOUD_FUZZ_SEED=<seed>.
const seed = FUZZ_SEED;
const runs = Number(process.env.POLYCLOUD_FUZZ_RUNS ?? 2000);
console.log(`fuzz: seed ${seed}, ${runs} runs per property (POLYCLOUD_FUZZ_SEED=${seed} replays)`);
const params = { seed, numRuns: runs, endOnFailure: true };

// The hostile values, option and key arbitraries and the settle-or-PolycloudError check are the
// conformance fuzz suite's, so both fuzz the same inputs.
const key = hostileKey;

describe(`fuzz (seed ${seed})`, () => {
  it('bucket calls: hostile keys and options', async () => {
    const b = memoryBucket(`fuzz-${seed}`);
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
      fc.asyncProperty(key, fc.oneof(fc.string(), hostile), optionsOf(names), async (k, body, o) => {
        const opts = o as never;
        await portable('put', () => b.put(k as string, body as string, opts));
        await portable('get', () => b.getBytes(k as string, opts));
        await portable('head', () => b.head(k as string, opts));
        await portable('list', () => b.list(opts));
        await portable('delete', () => b.delete(k as string, opts));
        await portable('signedUrl', () => b.signedUrl(k as string, opts));
      }),
      params,
    );
    await b.close();
  }, 120_000);

  it('queue calls: hostile bodies and options, consume() included', async () => {
    const q = memoryQueue(`fuzz-${seed}`);
    const names = [
      'attributes',
      'delaySeconds',
      'groupId',
      'maxMessages',
      'waitSeconds',
      'visibilityTimeoutSeconds',
      'concurrency',
      'batchSize',
      'maxDeliveries',
      'onError',
    ];
    await fc.assert(
      fc.asyncProperty(hostile, optionsOf(names), async (body, o) => {
        const opts = o as never;
        await portable('send', () => q.send(body, opts));
        await portable('receive', async () => {
          const ms = await q.receive({
            ...(typeof o === 'object' && o !== null ? (o as object) : {}),
            waitSeconds: 0,
          } as never);
          if (ms.length > 0) await q.ack(ms);
        });
        await portable('consume', async () => {
          const c = q.consume(async () => {}, opts);
          await c.stop();
        });
      }),
      { ...params, numRuns: Math.max(1, Math.floor(runs / 4)) },
    );
    await q.close();
  }, 120_000);

  it('kv calls: hostile keys, values and options', async () => {
    const kv = memoryKv(`fuzz-${seed}`);
    const names = ['ifVersion', 'ifAbsent', 'ttlSeconds', 'prefix', 'cursor', 'limit'];
    await fc.assert(
      fc.asyncProperty(key, hostile, optionsOf(names), async (k, v, o) => {
        const opts = o as never;
        await portable('set', () => kv.set(k as string, v as never, opts));
        await portable('get', () => kv.get(k as string, opts));
        await portable('increment', () => kv.increment(k as string, v as number, opts));
        await portable('list', () => kv.list(opts));
        await portable('delete', () => kv.delete(k as string, opts));
      }),
      params,
    );
    await kv.close();
  }, 120_000);

  it('opening by URL: malformed URLs and options are refused before any I/O', async () => {
    const url = fc.oneof(
      hostile,
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc
        .tuple(
          fc.constantFrom('mem://', 'ftp://', 's3://%', 'gs://%', 'x:', 'mem:', '://', 'mem://a%'),
          fc.string({ maxLength: 20 }),
        )
        .map(([a, b]) => a + b),
    );
    await fc.assert(
      fc.asyncProperty(
        url,
        optionsOf(['timeoutMs', 'attemptTimeoutMs', 'retry', 'driverOptions', 'codec']),
        async (u, o) => {
          const openers: [string, (url: string, opts: never) => Promise<{ close(): Promise<void> }>][] = [
            ['openBucket', openBucket],
            ['openQueue', openQueue],
            ['openKv', openKv],
          ];
          for (const [name, open] of openers) {
            await portable(`${name} of a fuzzed URL`, async () => {
              const r = await open(u as string, o as never);
              await r.close();
            });
          }
        },
      ),
      params,
    );
  }, 120_000);

  it('the JSON codec: encodes or refuses with INVALID_ARGUMENT, and round-trips what it encodes', () => {
    fc.assert(
      fc.property(hostile, (v) => {
        let bytes: Uint8Array;
        try {
          bytes = jsonCodec.encode(v);
        } catch (e) {
          expect(isPolycloudError(e, 'INVALID_ARGUMENT'), String(e)).toBe(true);
          return;
        }
        expect(jsonCodec.decode(bytes)).toEqual(JSON.parse(JSON.stringify(v)));
      }),
      { ...params, numRuns: runs * 2 },
    );
  });
});

// Counterexamples the fuzz suites found, kept as regression tests.
describe('fuzz regressions', () => {
  it('kv getMany/setMany/deleteMany with null options: INVALID_ARGUMENT, not a TypeError', async () => {
    const kv = memoryKv('fuzz-regressions');
    for (const call of [
      () => kv.getMany(['a'], null as never),
      () => kv.setMany([{ key: 'a', value: 1 }], null as never),
      () => kv.deleteMany(['a'], null as never),
    ]) {
      const err = await call().catch((e: unknown) => e);
      expect(isPolycloudError(err, 'INVALID_ARGUMENT'), String(err)).toBe(true);
    }
    await kv.close();
  });
});
