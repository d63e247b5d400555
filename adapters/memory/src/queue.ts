import type { PolycloudError, QueueCapabilities } from '@polycloud/core';
import {
  abortError,
  type DriverMessage,
  type DriverOutgoing,
  defineCapabilities,
  pcError,
  type QueueDriver,
  utf8Length,
} from '@polycloud/core/driver';
import { checkSignal, nextToken, PROVIDER } from './util.js';

/** How long a sent deduplicationId suppresses duplicates (as SQS FIFO queues do). */
export const DEDUPLICATION_WINDOW_MS = 5 * 60 * 1000;
/** Visibility timeout when neither receive() nor the queue names one (the SQS default). */
export const DEFAULT_VISIBILITY_SECONDS = 30;

/**
 * What the memory queue supports: delays, message groups, deduplication and long polling, with
 * SQS's limits so code tested on it fits the strictest provider.
 */
export const MEMORY_QUEUE_CAPABILITIES: QueueCapabilities = defineCapabilities({
  delay: true,
  maxDelaySeconds: 900,
  attributes: true,
  maxAttributes: 10,
  groupId: true,
  deduplicationId: true,
  nack: true,
  nackDelay: true,
  extend: true,
  visibilityTimeout: true,
  maxVisibilitySeconds: 43_200,
  // The portable consumer dead-letters with the `deadLetter` consume option.
  nativeDeadLetter: false,
  deliveryCount: true,
  maxMessageBytes: 256 * 1024,
  maxBatchSize: 10,
  maxReceiveMessages: 10,
  maxWaitSeconds: 20,
});

/** One message as the memory queue holds it. */
export interface MemoryMessage {
  readonly id: string;
  readonly body: Uint8Array;
  readonly attributes: Readonly<Record<string, string>>;
  readonly groupId: string | undefined;
  readonly enqueuedAt: number;
  /** Epoch ms from which the message may be delivered. */
  visibleAt: number;
  deliveryCount: number;
  /** The receipt of the latest delivery; older receipts are stale. */
  receipt: string | undefined;
}

/** A receive() waiting for messages. */
interface Waiter {
  /** Re-examines the queue (after a change or when a timer fires). */
  check(): void;
  /** Ends the wait with no messages. */
  cancel(): void;
}

/** The state of one named queue, shared by every driver opened on that name. */
export class MemoryQueueStore {
  /** In send order; a message keeps its place when it is redelivered. */
  readonly messages = new Map<string, MemoryMessage>();
  /** deduplicationId → the id it was first sent as, and until when it counts. */
  readonly deduplication = new Map<string, { id: string; until: number }>();
  readonly waiters = new Set<Waiter>();

  constructor(readonly name: string) {}

  /** Wakes every waiting receive() to look again. */
  changed(): void {
    for (const w of [...this.waiters]) w.check();
  }

  /**
   * Takes up to `max` deliverable messages, oldest first, and hides them for `visibilityMs`.
   * Only the oldest message of a group can be delivered, and only while no message of the
   * group is in flight, so a group is processed strictly in order.
   */
  take(max: number, visibilityMs: number): MemoryMessage[] {
    const now = Date.now();
    const out: MemoryMessage[] = [];
    const groups = new Set<string>();
    for (const m of this.messages.values()) {
      if (out.length >= max) break;
      if (m.groupId !== undefined) {
        if (groups.has(m.groupId)) continue;
        groups.add(m.groupId);
      }
      if (m.visibleAt > now) continue;
      m.deliveryCount++;
      m.visibleAt = now + visibilityMs;
      m.receipt = `${m.id}/${nextToken()}`;
      out.push(m);
    }
    return out;
  }

  /** The earliest future moment a hidden message becomes visible, if any. */
  nextVisibleAt(): number | undefined {
    const now = Date.now();
    let next: number | undefined;
    for (const m of this.messages.values()) {
      if (m.visibleAt > now && (next === undefined || m.visibleAt < next)) next = m.visibleAt;
    }
    return next;
  }

  /** Drops every message and ends every wait. */
  clear(): void {
    this.messages.clear();
    this.deduplication.clear();
    for (const w of [...this.waiters]) w.cancel();
  }
}

const queues = new Map<string, MemoryQueueStore>();

/** The shared store for `name`, created on first use. */
export function queueStore(name: string): MemoryQueueStore {
  let s = queues.get(name);
  if (!s) {
    s = new MemoryQueueStore(name);
    queues.set(name, s);
  }
  return s;
}

export function resetQueues(): void {
  for (const s of queues.values()) s.clear();
  queues.clear();
}

/** Options of `memoryQueue` and `mem://` queue URLs. */
export interface MemoryQueueOptions {
  /** Visibility timeout for receives that do not name one. Default 30 s. */
  readonly visibilityTimeoutSeconds?: number;
}

/**
 * The reference queue driver: at-least-once delivery with visibility timeouts, delays,
 * delivery counts, ordered message groups, deduplication and long polling, in memory.
 * Receipts work like SQS receipt handles: each delivery issues a new one, and acking with a
 * receipt from an earlier delivery succeeds without deleting the message.
 */
export class MemoryQueueDriver implements QueueDriver {
  readonly provider = PROVIDER;
  readonly capabilities = MEMORY_QUEUE_CAPABILITIES;
  readonly name: string;
  private readonly visibilitySeconds: number;
  /** This driver's waiting receives, ended by close(). */
  private readonly pending = new Set<Waiter>();

  constructor(
    readonly store: MemoryQueueStore,
    opts: MemoryQueueOptions = {},
  ) {
    this.name = store.name;
    const v = opts.visibilityTimeoutSeconds ?? DEFAULT_VISIBILITY_SECONDS;
    if (!Number.isInteger(v) || v < 0 || v > MEMORY_QUEUE_CAPABILITIES.maxVisibilitySeconds) {
      throw pcError(
        'INVALID_ARGUMENT',
        `queue "${store.name}": visibilityTimeoutSeconds must be an integer from 0 to ${MEMORY_QUEUE_CAPABILITIES.maxVisibilitySeconds}, got ${String(v)}`,
        {
          provider: PROVIDER,
          service: 'queue',
          operation: 'open',
          resource: { name: store.name },
          retryable: false,
        },
      );
    }
    this.visibilitySeconds = v;
  }

  async send(
    messages: readonly DriverOutgoing[],
    opts: { signal: AbortSignal | undefined },
  ): Promise<readonly ({ id: string } | { error: PolycloudError })[]> {
    checkSignal(opts.signal, `send on queue "${this.name}"`);
    const now = Date.now();
    this.expireDeduplication(now);
    const results = messages.map((m): { id: string } | { error: PolycloudError } => {
      const size =
        m.body.byteLength +
        Object.entries(m.attributes).reduce((n, [k, v]) => n + utf8Length(k) + utf8Length(v), 0);
      if (size > this.capabilities.maxMessageBytes) {
        return {
          error: this.error(
            'PAYLOAD_TOO_LARGE',
            'send',
            `the message is ${size} bytes (body + attributes), over the limit of ${this.capabilities.maxMessageBytes}`,
          ),
        };
      }
      if (m.deduplicationId !== undefined) {
        const seen = this.store.deduplication.get(m.deduplicationId);
        if (seen) return { id: seen.id };
      }
      const id = crypto.randomUUID();
      this.store.messages.set(id, {
        id,
        body: m.body.slice(),
        attributes: { ...m.attributes },
        groupId: m.groupId,
        enqueuedAt: now,
        visibleAt: now + (m.delaySeconds ?? 0) * 1000,
        deliveryCount: 0,
        receipt: undefined,
      });
      if (m.deduplicationId !== undefined) {
        this.store.deduplication.set(m.deduplicationId, { id, until: now + DEDUPLICATION_WINDOW_MS });
      }
      return { id };
    });
    this.store.changed();
    return results;
  }

  async receive(opts: {
    maxMessages: number;
    waitSeconds: number;
    visibilityTimeoutSeconds: number | undefined;
    signal: AbortSignal | undefined;
  }): Promise<readonly DriverMessage[]> {
    const what = `receive on queue "${this.name}"`;
    checkSignal(opts.signal, what);
    const visibilityMs = (opts.visibilityTimeoutSeconds ?? this.visibilitySeconds) * 1000;
    const now = this.store.take(opts.maxMessages, visibilityMs);
    if (now.length > 0 || opts.waitSeconds <= 0) return now.map(delivered);

    // Long poll: look again whenever the queue changes or a hidden message comes due, and
    // return as soon as anything is delivered. The timer is ref'd: a long poll keeps the
    // process alive until it returns, as a pending request to a cloud queue does (DESIGN §6).
    const deadline = Date.now() + opts.waitSeconds * 1000;
    const signal = opts.signal;
    return new Promise<readonly DriverMessage[]>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        if (timer !== undefined) clearTimeout(timer);
        this.store.waiters.delete(waiter);
        this.pending.delete(waiter);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        finish();
        reject(abortError(signal!, what));
      };
      const waiter: Waiter = {
        check: () => {
          const got = this.store.take(opts.maxMessages, visibilityMs);
          if (got.length > 0) {
            finish();
            resolve(got.map(delivered));
            return;
          }
          const t = Date.now();
          if (t >= deadline) {
            finish();
            resolve([]);
            return;
          }
          const due = Math.min(deadline, this.store.nextVisibleAt() ?? Number.POSITIVE_INFINITY);
          if (timer !== undefined) clearTimeout(timer);
          timer = setTimeout(waiter.check, Math.max(1, due - t));
        },
        cancel: () => {
          finish();
          resolve([]);
        },
      };
      this.store.waiters.add(waiter);
      this.pending.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      waiter.check();
    });
  }

  async ack(
    receipts: readonly unknown[],
    opts: { signal: AbortSignal | undefined },
  ): Promise<readonly (PolycloudError | undefined)[]> {
    checkSignal(opts.signal, `ack on queue "${this.name}"`);
    const out = receipts.map((r) => {
      const parsed = this.parseReceipt(r, 'ack');
      if ('error' in parsed) return parsed.error;
      const m = this.store.messages.get(parsed.id);
      // Already acked, or redelivered since this receipt was issued: succeed without effect.
      if (m === undefined || m.receipt !== r) return undefined;
      this.store.messages.delete(parsed.id);
      return undefined;
    });
    // Deleting a message may let the next one of its group through.
    this.store.changed();
    return out;
  }

  async changeVisibility(
    receipt: unknown,
    seconds: number,
    opts: { signal: AbortSignal | undefined },
  ): Promise<unknown> {
    checkSignal(opts.signal, `changeVisibility on queue "${this.name}"`);
    const parsed = this.parseReceipt(receipt, 'changeVisibility');
    if ('error' in parsed) throw parsed.error;
    const m = this.store.messages.get(parsed.id);
    if (m === undefined) {
      throw this.error('NOT_FOUND', 'changeVisibility', `message ${parsed.id} was already acked`);
    }
    if (m.receipt !== receipt) {
      throw this.error(
        'PRECONDITION_FAILED',
        'changeVisibility',
        `message ${parsed.id} was delivered again since this receipt was issued; use the latest delivery`,
      );
    }
    m.visibleAt = Date.now() + seconds * 1000;
    this.store.changed();
    return undefined;
  }

  async close(): Promise<void> {
    for (const w of [...this.pending]) w.cancel();
  }

  /** The queue's in-memory state (messages in order, deduplication window). */
  native(): MemoryQueueStore {
    return this.store;
  }

  private expireDeduplication(now: number) {
    // Entries are added in time order with the same window, so expired ones come first.
    for (const [k, v] of this.store.deduplication) {
      if (v.until > now) break;
      this.store.deduplication.delete(k);
    }
  }

  private parseReceipt(r: unknown, op: string): { id: string } | { error: PolycloudError } {
    const slash = typeof r === 'string' ? r.indexOf('/') : -1;
    if (typeof r !== 'string' || slash < 1) {
      return { error: this.error('INVALID_ARGUMENT', op, 'the receipt is not one this memory queue issued') };
    }
    return { id: r.slice(0, slash) };
  }

  private error(
    code: 'NOT_FOUND' | 'PRECONDITION_FAILED' | 'PAYLOAD_TOO_LARGE' | 'INVALID_ARGUMENT',
    op: string,
    why: string,
  ) {
    return pcError(code, `${op} on queue "${this.name}": ${why}`, {
      provider: PROVIDER,
      service: 'queue',
      operation: op,
      resource: { name: this.name },
      retryable: false,
    });
  }
}

/** What a receiver gets: copies, so it cannot change the stored message. */
function delivered(m: MemoryMessage): DriverMessage {
  return {
    id: m.id,
    body: m.body.slice(),
    attributes: { ...m.attributes },
    deliveryCount: m.deliveryCount,
    enqueuedAt: new Date(m.enqueuedAt),
    groupId: m.groupId,
    receipt: m.receipt,
  };
}
