/**
 * A user-style script, run in its own process by the process-level conformance suite. It opens
 * resources by URL from PC_SPEC (JSON: { bucket?, queue?, kv? } each { url, options }) and acts
 * out one scenario (argv[2]); the parent judges exit code, output and timing from outside.
 */
import {
  type Bucket,
  isPolycloudError,
  type KvStore,
  openBucket,
  openKv,
  openQueue,
  type Queue,
} from '@polycloud/core';

interface Target {
  readonly url: string;
  readonly options?: Record<string, unknown>;
}
interface Spec {
  readonly bucket?: Target;
  readonly queue?: Target;
  readonly kv?: Target;
  readonly queueOpens?: readonly Target[];
}

const spec = JSON.parse(process.env.PC_SPEC ?? '{}') as Spec;
const say = (line: string) => process.stdout.write(`${line}\n`);

process.on('unhandledRejection', (e) => {
  say(`UNHANDLED ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  process.exitCode = 70;
});
process.on('uncaughtException', (e) => {
  say(`UNCAUGHT ${e.name}: ${e.message}`);
  process.exit(71);
});

function need<T>(t: T | undefined, what: string): T {
  if (t === undefined) throw new Error(`PC_SPEC has no ${what}`);
  return t;
}

const queue = () => {
  const t = need(spec.queue, 'queue');
  return openQueue<unknown>(t.url, t.options ?? {});
};

const scenarios: Record<string, () => Promise<void>> = {
  /** A top-level long poll on an empty queue: the process must wait for it, then exit 0. */
  async 'receive-wait'() {
    const q = await queue();
    say('ready');
    const got = await q.receive({ waitSeconds: 2 });
    say(`received ${got.length}`);
    await q.close();
    say('closed');
  },

  /**
   * A worker: consume() with nothing else keeping the process alive. SIGUSR2 (from the parent,
   * after a pause) sends one message; the handler stops the consumer; the script then exits.
   */
  async consume() {
    const q = await queue();
    const c = q.consume(
      async (m) => {
        say(`handled ${JSON.stringify(m.body)}`);
        void c.stop();
      },
      { waitSeconds: 1, onError: (e) => say(`onError ${String(e)}`) },
    );
    process.on('SIGUSR2', () => {
      q.send('ping').then(
        () => say('sent'),
        (e: unknown) => say(`send failed ${String(e)}`),
      );
    });
    say('ready');
    await c.done;
    say(`stopped acked=${c.stats.acked}`);
    await q.close();
    say('closed');
  },

  /** SIGTERM while a handler runs: stop() lets it finish and ack, then the process exits by itself. */
  async sigterm() {
    const q = await queue();
    const c = q.consume(
      async (m) => {
        say(`start ${JSON.stringify(m.body)}`);
        await new Promise((r) => setTimeout(r, 1500));
        say('end');
      },
      { waitSeconds: 1, onError: (e) => say(`onError ${String(e)}`) },
    );
    process.on('SIGUSR2', () => void q.send('job').catch((e: unknown) => say(`send failed ${String(e)}`)));
    process.once('SIGTERM', () => {
      say('sigterm');
      void (async () => {
        await c.stop();
        say(`stopped acked=${c.stats.acked}`);
        await q.close();
        say('closed');
      })();
    });
    say('ready');
  },

  /** Every service used briefly and closed: the process must then exit on its own. */
  async 'clean-exit'() {
    if (spec.bucket) {
      const b: Bucket = await openBucket(spec.bucket.url, spec.bucket.options ?? {});
      await b.put('process/a.txt', 'hello');
      say(`get ${await b.getText('process/a.txt')}`);
      await b.delete('process/a.txt');
      await b.close();
    }
    if (spec.queue) {
      const q: Queue<unknown> = await queue();
      await q.send({ n: 1 });
      let got = await q.receive({ waitSeconds: 5 });
      for (let i = 0; got.length === 0 && i < 5; i++) got = await q.receive({ waitSeconds: 5 });
      say(`received ${got.length}`);
      if (got.length > 0) await q.ack(got);
      await q.close();
    }
    if (spec.kv) {
      const kv: KvStore = await openKv(spec.kv.url, spec.kv.options ?? {});
      await kv.set('process-k', { v: 1 });
      say(`kv ${JSON.stringify((await kv.get('process-k'))?.value)}`);
      await kv.delete('process-k');
      await kv.close();
    }
    say('closed');
  },

  /**
   * Every call against a blackholed endpoint with a short timeoutMs, then close() (argv[3]
   * 'close') or nothing ('no-close'): the script's last line is 'done' and the process must then
   * exit by itself.
   */
  async timeout() {
    const close = process.argv[3] !== 'no-close';
    const report = async (name: string, call: () => Promise<unknown>) => {
      try {
        await call();
        say(`call ${name} resolved`);
      } catch (e) {
        say(`call ${name} ${isPolycloudError(e) ? e.code : `RAW ${String(e)}`}`);
      }
    };
    // timeoutMs bounds every call of the opened object, opening included (SQS looks its queue
    // URL up): a failed open is a result too.
    const open = async <T>(name: string, o: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await o();
      } catch (e) {
        say(`call ${name} open ${isPolycloudError(e) ? e.code : `RAW ${String(e)}`}`);
        return undefined;
      }
    };
    const withBound = (t: Target) => ({ ...(t.options ?? {}), timeoutMs: 1000 });
    if (spec.bucket) {
      const t = spec.bucket;
      const b = await open('bucket', () => openBucket(t.url, withBound(t)));
      if (b) {
        await report('bucket head', () => b.head('k'));
        await report('bucket get', () => b.getBytes('k'));
        await report('bucket put', () => b.put('k', 'v'));
        if (close) await b.close();
      }
    }
    if (spec.queue) {
      const t = spec.queue;
      const q = await open('queue', () => openQueue<unknown>(t.url, withBound(t)));
      if (q) {
        await report('queue send', () => q.send('x'));
        await report('queue receive', () => q.receive({ waitSeconds: 0 }));
        if (close) await q.close();
      }
    }
    for (const t of spec.queueOpens ?? []) {
      const q = await open('queue (with lookup)', () => openQueue<unknown>(t.url, withBound(t)));
      if (q && close) await q.close();
    }
    if (spec.kv) {
      const t = spec.kv;
      const kv = await open('kv', () => openKv(t.url, withBound(t)));
      if (kv) {
        await report('kv get', () => kv.get('k'));
        await report('kv set', () => kv.set('k', 1));
        if (close) await kv.close();
      }
    }
    say('done');
  },

  /** Calls that fail in many ways: every failure is a PolycloudError in the call's promise. */
  async errors() {
    const bad = {} as AbortSignal;
    const calls: [string, () => Promise<unknown>][] = [];
    if (spec.bucket) {
      const b = await openBucket(spec.bucket.url, spec.bucket.options ?? {});
      calls.push(
        ['list bad signal', () => b.list({ cursor: 'garbage', signal: bad })],
        ['get missing', () => b.getBytes('process/missing')],
        ['put header injection', () => b.put('k', 'v', { contentType: 'text/plain\r\nx-injected: 1' })],
        ['head aborted', () => b.head('k', { signal: AbortSignal.abort() })],
      );
      calls.push([
        'closed',
        async () => {
          await b.close();
          return b.head('k');
        },
      ]);
    }
    if (spec.queue) {
      const q = await queue();
      calls.push(
        ['receive bad signal', () => q.receive({ signal: bad })],
        ['send bytes with json', () => q.send(new Uint8Array([1, 2, 3]))],
        ['consume bad signal', async () => q.consume(async () => {}, { signal: bad })],
        ['consume bigint', async () => q.consume(async () => {}, { batchSize: 10n as unknown as number })],
        ['receive aborted mid-wait', () => q.receive({ waitSeconds: 5, signal: AbortSignal.timeout(200) })],
      );
      calls.push([
        'closed',
        async () => {
          await q.close();
          return q.send('x');
        },
      ]);
    }
    if (spec.kv) {
      const kv = await openKv(spec.kv.url, spec.kv.options ?? {});
      calls.push(
        ['kv get bad signal', () => kv.get('k', { signal: bad })],
        ['kv set bad version', () => kv.set('k', 1, { ifVersion: 'nope' })],
      );
      calls.push([
        'closed',
        async () => {
          await kv.close();
          return kv.get('k');
        },
      ]);
    }
    for (const u of [null, 123, 's3://%zz']) {
      calls.push([`openBucket(${String(u)})`, () => openBucket(u as string)]);
    }
    for (const [name, call] of calls) {
      try {
        await call();
        say(`resolved ${name}`);
      } catch (e) {
        say(`${isPolycloudError(e) ? `polycloud ${e.code}` : `RAW ${String(e)}`} ${name}`);
      }
    }
    // Give timers a stray error might come from (retry backoffs) time to fire.
    await new Promise((r) => setTimeout(r, 500));
    say('done');
  },
};

const name = process.argv[2] ?? '';
const run = scenarios[name];
if (!run) {
  say(`unknown scenario ${name}`);
  process.exit(2);
}
await run();
