import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bucket } from '../blob/bucket.js';
import { openQueue } from '../open.js';
import type { ConsumeOptions, Consumer } from '../queue/consumer.js';
import type { Queue } from '../queue/queue.js';
import type { BlobEvent, BlobEventFunction } from './blob-event.js';
import { consoleLogger, createFunctionContext, type FunctionLogger } from './context.js';
import { nextCronTime, parseCron } from './cron.js';
import { type HttpFunction, invokeHttp } from './http.js';
import { describeEvent, invalidEvent } from './invalid-event.js';
import { nodeToWebRequest, writeWebResponse } from './node-http.js';
import type { QueueFunction } from './queue.js';
import type { ScheduleFunction } from './schedule.js';

/** A queue worker for `serve()`: the function and where its messages come from. */
export interface ServeQueue {
  readonly fn: QueueFunction<unknown>;
  /** A queue URL (mem://, local://, sqs://, …) opened with the function's codec and claim check, or an open Queue. */
  readonly queue: string | Queue<unknown, unknown>;
  readonly consume?: Omit<ConsumeOptions, 'signal'>;
}

/** Blob events for `serve()`: the bucket is listed every `pollSeconds` and changes reported. */
export interface ServeBlobEvents {
  readonly fn: BlobEventFunction;
  readonly bucket: Bucket;
  readonly prefix?: string;
  /** Default 1. */
  readonly pollSeconds?: number;
}

/** What `serve()` runs in this process: an HTTP function, queue workers, schedules and blob-event pollers. */
export interface ServeOptions {
  /** The HTTP function, served on `hostname:port`. */
  readonly http?: HttpFunction;
  /** Default `PORT` from the environment, else 3000; 0 picks a free port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly hostname?: string;
  readonly queues?: readonly ServeQueue[];
  readonly schedules?: readonly ScheduleFunction[];
  readonly blobEvents?: readonly ServeBlobEvents[];
  /** Stop gracefully on SIGINT / SIGTERM (default true); a second signal exits at once. */
  readonly handleSignals?: boolean;
  /** After stop() begins, handlers' `ctx.signal` aborts after this long (default 25 s). */
  readonly gracePeriodSeconds?: number;
  readonly logger?: FunctionLogger;
}

/** A running local host. */
export interface Served {
  /** `http://host:port` of the HTTP function, when there is one. */
  readonly url: string | undefined;
  /** Runs one of the served schedules now (as a tick at the current minute), e.g. from a dev script. */
  runSchedule(fn: ScheduleFunction): Promise<void>;
  /** Stops taking work, lets in-flight work finish, then resolves. */
  stop(): Promise<void>;
  /** Resolves once stopped (by stop() or a signal). */
  readonly done: Promise<void>;
  /** Same as `stop()`, so `await using served = await serve(...)` stops it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Runs portable functions in this process: an HTTP server, consumers on any queue URL, cron
 * schedules (UTC) and polled blob events. Ctrl-C or SIGTERM stops it gracefully: no new work is
 * taken and in-flight requests, messages and ticks finish.
 *
 * @example
 * await serve({ http: api, queues: [{ fn: worker, queue: 'mem://jobs' }], schedules: [nightly] });
 */
export async function serve(opts: ServeOptions): Promise<Served> {
  const log = opts.logger ?? consoleLogger('serve', 'local');
  const shutdown = new AbortController();
  const inflight = new Set<Promise<unknown>>();
  const track = <R>(p: Promise<R>): Promise<R> => {
    inflight.add(p);
    p.finally(() => inflight.delete(p)).catch(() => {});
    return p;
  };
  const ctxFor = (requestId: string, native: unknown) =>
    createFunctionContext({
      requestId,
      provider: 'local',
      native,
      signal: shutdown.signal,
      logger: opts.logger,
    });

  checkWiring(opts);

  let server: Server | undefined;
  let url: string | undefined;
  if (opts.http) {
    const fn = opts.http;
    // Loaded here: importing node:http at start-up costs every user of core ~30 ms (undici).
    const { createServer } = await import('node:http');
    server = createServer((req, res) => {
      const { ctx, done } = ctxFor(crypto.randomUUID(), { req, res });
      void track(
        (async () => {
          try {
            const request = await nodeToWebRequest(req);
            await writeWebResponse(res, await invokeHttp(fn, request, ctx));
          } catch (err) {
            log.error('could not answer a request', { error: String(err) });
            if (!res.headersSent) res.statusCode = 500;
            res.end();
          } finally {
            done();
          }
        })(),
      );
    });
    const envPort = Number(process.env.PORT);
    const port = opts.port ?? (Number.isInteger(envPort) && envPort > 0 ? envPort : 3000);
    const hostname = opts.hostname ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(port, hostname, () => resolve());
    });
    const addr = server.address() as AddressInfo;
    url = `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${addr.port}`;
  }

  const consumers: Consumer[] = [];
  const opened: Queue<unknown>[] = [];
  for (const q of opts.queues ?? []) {
    const fn = q.fn as QueueFunction<unknown>;
    let queue: Queue<unknown>;
    if (typeof q.queue === 'string') {
      queue = await openQueue(q.queue, {
        codec: fn.codec,
        ...(fn.claimCheck ? { claimCheck: fn.claimCheck } : {}),
      });
      opened.push(queue);
    } else queue = q.queue.withCodec(fn.codec) as Queue<unknown>;
    consumers.push(
      queue.consume(
        async (msg) => {
          const { ctx, done } = ctxFor(msg.id, { message: msg });
          try {
            await fn.handler(msg, ctx);
          } catch (err) {
            ctx.logger.error('the queue handler failed; the message will be delivered again', {
              messageId: msg.id,
              deliveryCount: msg.deliveryCount,
              error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
            });
            throw err;
          } finally {
            done();
          }
        },
        { ...q.consume, onError: q.consume?.onError ?? (() => {}) },
      ),
    );
  }

  const timers = new Set<ReturnType<typeof setTimeout>>();
  for (const s of opts.schedules ?? []) {
    const spec = parseCron(s.cron);
    const arm = (after: Date) => {
      if (shutdown.signal.aborted) return;
      const at = nextCronTime(spec, after);
      const t = setTimeout(
        () => {
          timers.delete(t);
          const { ctx, done } = ctxFor(crypto.randomUUID(), { schedule: s.cron, at });
          void track(
            Promise.resolve()
              .then(() => s.handler({ scheduledTime: at, cron: s.cron, source: 'serve' }, ctx))
              .catch((err: unknown) =>
                ctx.logger.error('the scheduled handler failed', { error: String(err) }),
              )
              .finally(done),
          );
          arm(at);
        },
        Math.max(0, at.getTime() - Date.now()),
      );
      timers.add(t);
    };
    arm(new Date());
  }

  // Aborted when stop() begins: pollers take no new turn (handlers keep shutdown.signal).
  const stopping$ = new AbortController();
  const pollers: Promise<void>[] = [];
  for (const b of opts.blobEvents ?? []) pollers.push(pollBucket(b, stopping$.signal, ctxFor, log));

  let stopping: Promise<void> | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) {
      log.warn(`second ${sig}: exiting without waiting`);
      process.exit(130);
    }
    log.info(`${sig}: stopping, finishing in-flight work`);
    void stop();
  };
  const handleSignals = opts.handleSignals ?? true;
  if (handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const grace = setTimeout(
        () => shutdown.abort(new DOMException('the local host is stopping', 'AbortError')),
        (opts.gracePeriodSeconds ?? 25) * 1000,
      );
      grace.unref();
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const closing = server
        ? new Promise<void>((r) => {
            server!.close(() => r());
            server!.closeIdleConnections();
          })
        : Promise.resolve();
      // Pollers stop at their next turn; consumers finish and ack what they hold.
      stopping$.abort();
      await Promise.all([closing, ...consumers.map((c) => c.stop()), ...pollers]);
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
      clearTimeout(grace);
      for (const q of opened) await q.close();
      if (handleSignals) {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      resolveDone();
    })();
    return stopping;
  };

  const runSchedule = async (fn: ScheduleFunction) => {
    if (!(opts.schedules ?? []).includes(fn)) {
      throw invalidEvent(BINDING, 'runSchedule', 'got a schedule function this server does not serve');
    }
    const at = new Date();
    at.setUTCSeconds(0, 0);
    const { ctx, done: end } = ctxFor(crypto.randomUUID(), { schedule: fn.cron, at });
    try {
      await track(
        Promise.resolve().then(() => fn.handler({ scheduledTime: at, cron: fn.cron, source: 'serve' }, ctx)),
      );
    } finally {
      end();
    }
  };

  return { url, runSchedule, stop, done, [Symbol.asyncDispose]: stop };
}

const BINDING = 'serve()';

/** Rejects functions wired to the wrong slot (the local host's "unknown event"). */
function checkWiring(opts: ServeOptions): void {
  const expect = (fn: unknown, kind: string, where: string) => {
    const k = (fn as { kind?: unknown } | null)?.kind;
    if (k !== kind) {
      throw invalidEvent(
        BINDING,
        where,
        `is ${typeof k === 'string' ? `a ${k} function` : describeEvent(fn)}, not a ${kind} function; declare it with the matching *Function() helper`,
      );
    }
  };
  if (opts.http !== undefined) expect(opts.http, 'http', 'http');
  for (const [i, q] of (opts.queues ?? []).entries()) expect(q?.fn, 'queue', `queues[${i}].fn`);
  for (const [i, s] of (opts.schedules ?? []).entries()) {
    expect(s, 'schedule', `schedules[${i}]`);
    parseCron(s.cron);
  }
  for (const [i, b] of (opts.blobEvents ?? []).entries()) expect(b?.fn, 'blob', `blobEvents[${i}].fn`);
}

type CtxFor = (requestId: string, native: unknown) => ReturnType<typeof createFunctionContext>;

async function pollBucket(b: ServeBlobEvents, signal: AbortSignal, ctxFor: CtxFor, log: FunctionLogger) {
  const every = (b.pollSeconds ?? 1) * 1000;
  const list = async () => {
    const seen = new Map<string, { etag: string; size: number }>();
    for await (const item of b.bucket.entries(b.prefix !== undefined ? { prefix: b.prefix } : {})) {
      seen.set(item.key, { etag: item.etag, size: item.size });
    }
    return seen;
  };
  let known = await list();
  while (!signal.aborted) {
    await new Promise<void>((r) => {
      const wake = () => {
        clearTimeout(t);
        r();
      };
      const t = setTimeout(() => {
        signal.removeEventListener('abort', wake);
        r();
      }, every);
      signal.addEventListener('abort', wake, { once: true });
    });
    if (signal.aborted) break;
    let now: Map<string, { etag: string; size: number }>;
    try {
      now = await list();
    } catch (err) {
      log.warn('could not list the bucket for blob events', { bucket: b.bucket.name, error: String(err) });
      continue;
    }
    const events: BlobEvent[] = [];
    for (const [key, v] of now) {
      const before = known.get(key);
      if (!before || before.etag !== v.etag) {
        events.push({
          type: 'created',
          bucket: b.bucket.name,
          key,
          size: v.size,
          etag: v.etag,
          time: new Date(),
        });
      }
    }
    for (const key of known.keys()) {
      if (!now.has(key))
        events.push({
          type: 'deleted',
          bucket: b.bucket.name,
          key,
          size: undefined,
          etag: undefined,
          time: new Date(),
        });
    }
    known = now;
    for (const e of events) {
      const { ctx, done } = ctxFor(crypto.randomUUID(), { blobEvent: e });
      try {
        await b.fn.handler(e, ctx);
      } catch (err) {
        ctx.logger.error('the blob-event handler failed', { key: e.key, error: String(err) });
      } finally {
        done();
      }
    }
  }
}
