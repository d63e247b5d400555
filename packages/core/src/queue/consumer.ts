import { requireCapability } from '../capabilities.js';
import { invalidArgument, isPolycloudError, type PolycloudError, pcError } from '../errors.js';
import { backoffDelay, DEFAULT_RETRY } from '../internal/retry.js';
import { sleep } from '../internal/signal.js';
import { checkInt, checkOptions } from '../internal/validate.js';
import { processMessage } from '../telemetry.js';
import type { Queue } from './queue.js';
import type { Message, ReceiveOptions } from './types.js';

/**
 * How long a handled message waits for others to share its ack request. Far below any
 * visibility timeout (≥ 1 s), so an ack never lands after the message reappeared.
 */
const ACK_FLUSH_MS = 20;

/** `ctx.signal` aborts when stop() is called: a handler may use it to cut work short; the consumer still waits for it. */
export type MessageHandler<T> = (
  message: Message<T>,
  ctx: { signal: AbortSignal },
) => unknown | Promise<unknown>;

/** How `Queue.consume` runs the handler: concurrency, batch size, redelivery, dead-lettering, errors. */
export interface ConsumeOptions {
  /** Handlers running at once. Default 4. */
  readonly concurrency?: number;
  /** Messages asked for per receive. Default min(concurrency, provider max). */
  readonly batchSize?: number;
  /** Long-poll time per receive. Default min(20, provider max). */
  readonly waitSeconds?: number;
  /** Visibility per delivery, extended while a handler runs. Default 30. */
  readonly visibilityTimeoutSeconds?: number;
  /** After this many failed deliveries the message goes to `deadLetter`. */
  readonly maxDeliveries?: number;
  /** Where poison messages go. Without it, `maxDeliveries` relies on the queue's native policy. */
  readonly deadLetter?: Queue<unknown>;
  /** Delay before a failed message is redelivered. Default 2^(deliveryCount-1) s, at most 60. */
  readonly retryDelaySeconds?: (deliveryCount: number) => number;
  /** Errors the consumer handled itself (receive failures, ack failures, handler errors). */
  readonly onError?: (error: unknown, message?: Message<unknown>) => void;
  /** Aborting stops the consumer gracefully (as `stop()` does). */
  readonly signal?: AbortSignal;
}

/** A running consumer. */
export interface Consumer {
  /** Stops receiving, lets in-flight handlers finish and ack, then resolves. */
  stop(): Promise<void>;
  /** Resolves when the consumer has stopped. */
  readonly done: Promise<void>;
  /** Counts so far. */
  readonly stats: Readonly<{ received: number; acked: number; failed: number; deadLettered: number }>;
  /** Stops the consumer (as `stop()` does) at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void>;
}

interface Internals<T> {
  moveToDeadLetter(m: Message<T>, dlq: Queue<unknown>, signal: AbortSignal | undefined): Promise<void>;
  /** The driver's push receiver (Pub/Sub streaming pull), if it has one. */
  openReceiver?(
    maxOutstanding: number,
    visibilityTimeoutSeconds: number | undefined,
  ):
    | {
        receive(opts: ReceiveOptions): Promise<Message<T>[]>;
        close(): Promise<void>;
      }
    | undefined;
}

export function startConsumer<T>(
  queue: Queue<T>,
  handler: MessageHandler<T>,
  opts: ConsumeOptions,
  internals: Internals<T>,
): Consumer {
  const caps = queue.capabilities;
  const ctx = {
    provider: queue.provider,
    service: 'queue' as const,
    operation: 'consume',
    resource: { name: queue.name },
  };
  if (typeof handler !== 'function') throw invalidArgument('consume: handler must be a function', ctx);
  checkOptions(
    opts,
    [
      'concurrency',
      'batchSize',
      'waitSeconds',
      'visibilityTimeoutSeconds',
      'maxDeliveries',
      'deadLetter',
      'retryDelaySeconds',
      'onError',
      'signal',
    ],
    ctx,
  );
  checkInt(opts.concurrency, 'concurrency', 1, 1000, ctx);
  const concurrency = opts.concurrency ?? 4;
  checkInt(opts.batchSize, 'batchSize', 1, 1000, ctx);
  const batchSize = Math.min(opts.batchSize ?? concurrency, caps.maxReceiveMessages, concurrency);
  checkInt(opts.waitSeconds, 'waitSeconds', 0, caps.maxWaitSeconds, ctx);
  const waitSeconds = Math.min(opts.waitSeconds ?? 20, caps.maxWaitSeconds);
  if (opts.visibilityTimeoutSeconds !== undefined) {
    requireCapability(caps.visibilityTimeout, 'visibilityTimeout', {
      provider: queue.provider,
      service: 'queue',
      operation: 'consume',
      name: queue.name,
    });
    checkInt(opts.visibilityTimeoutSeconds, 'visibilityTimeoutSeconds', 1, caps.maxVisibilitySeconds, ctx);
  }
  const visibility = caps.visibilityTimeout
    ? (opts.visibilityTimeoutSeconds ?? Math.min(30, caps.maxVisibilitySeconds))
    : undefined;
  for (const f of ['retryDelaySeconds', 'onError'] as const) {
    if (opts[f] !== undefined && typeof opts[f] !== 'function') {
      throw invalidArgument(`consume: ${f} must be a function`, ctx);
    }
  }
  if (
    opts.deadLetter !== undefined &&
    (typeof opts.deadLetter !== 'object' ||
      opts.deadLetter === null ||
      typeof opts.deadLetter.send !== 'function' ||
      typeof opts.deadLetter.capabilities !== 'object')
  ) {
    throw invalidArgument('consume: deadLetter must be a Queue (from openQueue or an adapter)', ctx);
  }
  if (opts.maxDeliveries !== undefined) {
    checkInt(opts.maxDeliveries, 'maxDeliveries', 1, 1000, ctx);
    if (!opts.deadLetter && !caps.nativeDeadLetter) {
      throw invalidArgument(
        `consume: maxDeliveries needs a deadLetter queue on ${queue.provider} (it has no native dead-letter policy); pass { deadLetter }`,
        ctx,
      );
    }
    if (opts.deadLetter && !caps.deliveryCount) {
      throw pcError(
        'UNSUPPORTED',
        `consume: maxDeliveries needs capability "deliveryCount", which ${queue.provider} lacks`,
        ctx,
      );
    }
  }
  const retryDelay = opts.retryDelaySeconds ?? ((n: number) => Math.min(2 ** (n - 1), 60));
  const onError = opts.onError ?? (() => {});
  // Without an onError, a worker whose every receive fails (a missing queue, a refused
  // credential) would poll forever without a word: say so once per error code, as a process
  // warning (visible by default, silenced by --no-warnings). Transient failures are only
  // reported when they persist.
  const warned = new Set<string>();
  const warnReceive = (err: unknown, consecutive: number): void => {
    if (opts.onError !== undefined) return;
    const retryable = isPolycloudError(err) && err.retryable;
    if (retryable && consecutive < 5) return;
    const code = isPolycloudError(err) ? err.code : 'UNKNOWN';
    if (warned.has(code)) return;
    warned.add(code);
    const text = err instanceof Error ? err.message : String(err);
    process.emitWarning(
      `consume on queue "${queue.name}": receive keeps failing, still retrying: ${text} (pass consume({ onError }) to handle this yourself)`,
      { code: 'POLYCLOUD_CONSUME_RECEIVE' },
    );
  };

  const stopping = new AbortController();
  const stats = { received: 0, acked: 0, failed: 0, deadLettered: 0 };
  let inFlight = 0;
  // Slots promised to receives in flight: in flight + reserved never exceeds concurrency, so no
  // message waits in a buffer while its visibility timeout runs.
  let reserved = 0;
  const waiters: (() => void)[] = [];
  const slotFreed = () => {
    for (const w of waiters.splice(0)) w();
  };
  const idle = new Set<Promise<void>>();

  const onOuterAbort = () => stopping.abort();
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (opts.signal?.aborted) stopping.abort();

  // Acks of handled messages go out in batches (one request per maxBatchSize messages, after
  // at most ACK_FLUSH_MS): a delete per message costs SQS and Azure a request each. The slot
  // is free as soon as the handler is done; the consumer waits for every flush before it stops.
  const ackBatch = Math.max(1, caps.maxBatchSize);
  let acks: Message<T>[] = [];
  let ackTimer: NodeJS.Timeout | undefined;
  const flushing = new Set<Promise<void>>();
  const ackMany = async (batch: Message<T>[]) => {
    try {
      const results = await queue.ack(batch);
      results.forEach((r, i) => {
        if (r.ok) stats.acked++;
        else onError(r.error, batch[i] as Message<unknown>);
      });
    } catch (e) {
      for (const m of batch) onError(e, m as Message<unknown>);
    }
  };
  const flushAcks = () => {
    if (ackTimer !== undefined) clearTimeout(ackTimer);
    ackTimer = undefined;
    if (acks.length === 0) return;
    const batch = acks;
    acks = [];
    const p: Promise<void> = ackMany(batch).finally(() => flushing.delete(p));
    flushing.add(p);
  };
  const ackLater = (m: Message<T>) => {
    acks.push(m);
    if (acks.length >= ackBatch || stopping.signal.aborted) flushAcks();
    else ackTimer ??= setTimeout(flushAcks, ACK_FLUSH_MS);
  };

  const shouldDeadLetter = (m: Message<T>) =>
    opts.deadLetter !== undefined &&
    opts.maxDeliveries !== undefined &&
    m.deliveryCount >= opts.maxDeliveries;

  const handle = async (m: Message<T>) => {
    // A message already past its limit (a consumer crashed mid-way) goes straight to the DLQ.
    if (opts.deadLetter && opts.maxDeliveries !== undefined && m.deliveryCount > opts.maxDeliveries) {
      await deadLetter(m, undefined);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    if (visibility !== undefined && caps.extend) {
      const every = Math.max(1000, (visibility * 1000) / 2);
      timer = setInterval(() => {
        queue.extend(m, visibility).catch((e: unknown) => onError(e, m as Message<unknown>));
      }, every);
      timer.unref?.();
    }
    let failed: unknown;
    let ok = false;
    try {
      // Telemetry hook: the handler runs in a span that joins the producer's trace.
      await processMessage({ provider: queue.provider, name: queue.name }, m, () =>
        Promise.resolve(handler(m, { signal: stopping.signal })),
      );
      ok = true;
    } catch (err) {
      failed = err;
    } finally {
      if (timer) clearInterval(timer);
    }
    if (ok) {
      if (ackBatch > 1) {
        ackLater(m);
        return;
      }
      try {
        await queue.ack(m);
        stats.acked++;
      } catch (e) {
        onError(e, m as Message<unknown>);
      }
      return;
    }
    stats.failed++;
    onError(failed, m as Message<unknown>);
    if (shouldDeadLetter(m)) {
      await deadLetter(m, failed);
      return;
    }
    if (caps.nack) {
      const delay = caps.nackDelay
        ? Math.max(0, Math.min(Math.round(retryDelay(m.deliveryCount)), caps.maxVisibilitySeconds))
        : 0;
      await queue
        .nack(m, delay > 0 ? { delaySeconds: delay } : {})
        .catch((e: unknown) => onError(e, m as Message<unknown>));
    }
  };

  const deadLetter = async (m: Message<T>, cause: unknown) => {
    try {
      await internals.moveToDeadLetter(m, opts.deadLetter!, undefined);
      stats.deadLettered++;
    } catch (e) {
      onError(
        pcError(
          'UNAVAILABLE',
          `consume: could not move message ${m.id} to the dead-letter queue; it will be redelivered`,
          {
            ...ctx,
            cause: e ?? cause,
          },
        ),
        m as Message<unknown>,
      );
    }
  };

  const start = (m: Message<T>) => {
    inFlight++;
    stats.received++;
    const p = handle(m)
      .catch((e: unknown) => onError(e, m as Message<unknown>))
      .finally(() => {
        inFlight--;
        idle.delete(p);
        slotFreed();
      });
    idle.add(p);
  };

  const waitForSlot = () =>
    new Promise<void>((r) => {
      // Remove the abort listener once woken, or every wait for a slot leaks one.
      const onStop = () => r();
      waiters.push(() => {
        stopping.signal.removeEventListener('abort', onStop);
        r();
      });
      stopping.signal.addEventListener('abort', onStop, { once: true });
    });

  // A second receive loop runs while the queue has a backlog and a receive cannot fill every
  // free slot (SQS returns at most 10 per request): it starts when a receive comes back full
  // and ends on an empty answer, so an idle consumer keeps a single long poll.
  // A push receiver (streaming pull) already holds what the service delivered: one loop takes
  // from it, bounded by the free slots like a receive.
  const receiver = internals.openReceiver?.(concurrency, visibility);
  const receive = receiver
    ? (o: ReceiveOptions) => receiver.receive(o)
    : (o: ReceiveOptions) => queue.receive(o);
  const maxPollers = receiver ? 1 : Math.min(4, Math.ceil(concurrency / batchSize));
  let pollers = 0;
  const running = new Set<Promise<void>>();
  const spawn = (extra: boolean) => {
    pollers++;
    const p: Promise<void> = poll(extra).finally(() => {
      pollers--;
      running.delete(p);
    });
    running.add(p);
  };

  const poll = async (extra: boolean) => {
    let failures = 0;
    let empties = 0;
    while (!stopping.signal.aborted) {
      const free = concurrency - inFlight - reserved;
      if (free <= 0) {
        await waitForSlot();
        continue;
      }
      const want = Math.min(batchSize, free);
      reserved += want;
      const polled = Date.now();
      let msgs: Message<T>[] | undefined;
      let failed: unknown;
      try {
        msgs = await receive({
          maxMessages: want,
          // An extra loop only drains a backlog: it does not hold a long poll open.
          waitSeconds: extra ? 0 : waitSeconds,
          ...(visibility !== undefined ? { visibilityTimeoutSeconds: visibility } : {}),
          signal: stopping.signal,
        });
      } catch (err) {
        failed = err;
      } finally {
        reserved -= want;
        slotFreed();
      }
      if (msgs === undefined) {
        if (stopping.signal.aborted) break;
        onError(failed);
        if (extra) break;
        failures++;
        warnReceive(failed, failures);
        await sleep(backoffDelay(DEFAULT_RETRY, Math.min(failures, 8)) + 50, stopping.signal).catch(() => {});
        continue;
      }
      failures = 0;
      if (msgs.length === 0) {
        if (extra) break;
        // An empty answer that came back early (waitSeconds 0, or a service that returns
        // before the wait is over) must not turn into a busy loop: back off, up to 1 s.
        if (waitSeconds === 0 || Date.now() - polled < waitSeconds * 900) {
          empties++;
          await sleep(Math.min(1000, 25 * 2 ** Math.min(empties, 6)), stopping.signal).catch(() => {});
        } else empties = 0;
        continue;
      }
      empties = 0;
      for (const m of msgs) start(m);
      if (msgs.length >= want && want === batchSize && pollers < maxPollers) spawn(true);
      // An in-process queue (memory) answers receive, ack and nack in microtasks only: without a
      // turn of the event loop here, a handler that keeps failing with no retry delay would
      // redeliver forever without ever letting a timer (or a signal handler) run.
      await new Promise<void>((r) => setImmediate(r));
    }
  };

  const loop = async () => {
    spawn(false);
    while (running.size > 0) await Promise.allSettled([...running]);
    // Nothing more is taken: end the connection now, so it delivers nothing while handlers finish.
    if (receiver) await receiver.close().catch((e: unknown) => onError(e));
    while (idle.size > 0) await Promise.allSettled([...idle]);
    flushAcks();
    while (flushing.size > 0) await Promise.allSettled([...flushing]);
    opts.signal?.removeEventListener('abort', onOuterAbort);
  };

  const done = loop();
  const consumer: Consumer = {
    stats,
    done,
    async stop() {
      stopping.abort();
      await done;
    },
    async [Symbol.asyncDispose]() {
      await consumer.stop();
    },
  };
  return consumer;
}

export function isRetryable(err: unknown): err is PolycloudError {
  return isPolycloudError(err) && err.retryable;
}
