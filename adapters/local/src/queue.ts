import { randomUUID } from 'node:crypto';
import {
  abortError,
  type DriverMessage,
  type DriverOutgoing,
  defineCapabilities,
  type PolycloudError,
  pcError,
  type QueueCapabilities,
  type QueueDriver,
  utf8Length,
} from '@polycloud/core';
import { type ErrorContext, pause, type SqliteDatabase, type SqliteFile } from './sqlite.js';
import { bindBytes, checkSignal, newToken, num, PROVIDER, readBytes } from './util.js';

/** How long a sent deduplicationId suppresses duplicates (as SQS FIFO queues do). */
export const DEDUPLICATION_WINDOW_MS = 5 * 60 * 1000;
/** Visibility timeout when neither receive() nor the queue names one (the SQS default). */
export const DEFAULT_VISIBILITY_SECONDS = 30;
/**
 * How often a waiting receive looks for messages sent by other processes. Sends from this
 * process wake it at once.
 */
const POLL_MS = 100;

/** What a `local://` queue can do: every queue capability, with SQS's limits. */
export const LOCAL_QUEUE_CAPABILITIES: QueueCapabilities = defineCapabilities({
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

/** What `native()` returns: the open database and the queue's name in it. */
export interface LocalQueueHandle {
  /** Absolute path of the SQLite file. */
  readonly path: string;
  readonly queue: string;
  /** The node:sqlite connection (shared by every driver of this process on the file). */
  readonly database: SqliteDatabase;
  /** Deletes every message of this queue and its deduplication window. */
  clear(): Promise<void>;
}

/** Options of a `local://` queue (`driverOptions`, or `localQueue`'s options). */
export interface LocalQueueOptions {
  /** Visibility timeout for receives that do not name one. Default 30 s. */
  readonly visibilityTimeoutSeconds?: number;
  /** How long a call retries while another process holds the write lock. Default 30 000 ms. */
  readonly lockTimeoutMs?: number;
}

// Walks the queue in send order (the (queue, seq) index) and stops after `max` hits; the
// unary + keeps SQLite from picking the visible_at index, which would sort every visible row.
const TAKE = `SELECT seq, id, body, attributes, group_id, enqueued_at, delivery_count
  FROM polycloud_messages m INDEXED BY polycloud_messages_order
  WHERE queue = ? AND +visible_at <= ?
    AND (group_id IS NULL OR seq = (SELECT min(seq) FROM polycloud_messages g
                                    WHERE g.queue = m.queue AND g.group_id = m.group_id))
  ORDER BY seq LIMIT ?`;

const ANY_DELIVERABLE = `SELECT 1 AS x
  FROM polycloud_messages m
  WHERE queue = ? AND visible_at <= ?
    AND (group_id IS NULL OR seq = (SELECT min(seq) FROM polycloud_messages g
                                    WHERE g.queue = m.queue AND g.group_id = m.group_id))
  LIMIT 1`;

/**
 * A queue in an SQLite file: at-least-once delivery with visibility timeouts, delays,
 * delivery counts, ordered message groups, deduplication and long polling, shared correctly
 * by every process that opens the file. A receive takes messages in one write transaction, so
 * a message is held by one receiver at a time; each delivery issues a new receipt, and acking
 * with a stale one succeeds without deleting the message (as SQS does).
 */
export class LocalQueueDriver implements QueueDriver<LocalQueueHandle> {
  readonly provider = PROVIDER;
  readonly capabilities = LOCAL_QUEUE_CAPABILITIES;
  private readonly visibilitySeconds: number;
  private readonly lockTimeoutMs: number | undefined;
  private readonly waits = new Set<() => void>();
  private closed = false;

  /** @internal Use the open functions or the `local*` constructors. */
  constructor(
    private readonly file: SqliteFile,
    readonly name: string,
    opts: LocalQueueOptions = {},
  ) {
    const v = opts.visibilityTimeoutSeconds ?? DEFAULT_VISIBILITY_SECONDS;
    if (!Number.isInteger(v) || v < 0 || v > LOCAL_QUEUE_CAPABILITIES.maxVisibilitySeconds) {
      throw pcError(
        'INVALID_ARGUMENT',
        `queue "${name}": visibilityTimeoutSeconds must be an integer from 0 to ${LOCAL_QUEUE_CAPABILITIES.maxVisibilitySeconds}, got ${String(v)}`,
        { provider: PROVIDER, service: 'queue', operation: 'open', resource: { name }, retryable: false },
      );
    }
    this.visibilitySeconds = v;
    this.lockTimeoutMs = opts.lockTimeoutMs;
  }

  private get channel() {
    return `queue:${this.name}`;
  }

  async send(
    messages: readonly DriverOutgoing[],
    opts: { signal: AbortSignal | undefined },
  ): Promise<readonly ({ id: string } | { error: PolycloudError })[]> {
    checkSignal(opts.signal, `send on queue "${this.name}"`);
    const f = this.file;
    const results = await f.write(this.ctx('send', opts.signal), () => {
      const now = Date.now();
      f.sql('DELETE FROM polycloud_dedup WHERE queue = ? AND until <= ?').run(this.name, now);
      return messages.map((m): { id: string } | { error: PolycloudError } => {
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
          const seen = f
            .sql('SELECT id FROM polycloud_dedup WHERE queue = ? AND dedup_id = ?')
            .get(this.name, m.deduplicationId);
          if (seen) return { id: String(seen.id) };
        }
        const id = randomUUID();
        f.sql(
          `INSERT INTO polycloud_messages (queue, id, body, attributes, group_id, enqueued_at, visible_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          this.name,
          id,
          bindBytes(m.body),
          JSON.stringify(m.attributes),
          m.groupId ?? null,
          now,
          now + (m.delaySeconds ?? 0) * 1000,
        );
        if (m.deduplicationId !== undefined) {
          f.sql('INSERT INTO polycloud_dedup (queue, dedup_id, id, until) VALUES (?, ?, ?, ?)').run(
            this.name,
            m.deduplicationId,
            id,
            now + DEDUPLICATION_WINDOW_MS,
          );
        }
        return { id };
      });
    });
    f.events.emit(this.channel);
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
    const deadline = Date.now() + opts.waitSeconds * 1000;
    for (;;) {
      const got = await this.take(opts.maxMessages, visibilityMs, opts.signal);
      if (got.length > 0 || this.closed) return got;
      const now = Date.now();
      if (now >= deadline) return [];
      // Long poll. The timer is ref'd on purpose: like a pending network request on the cloud
      // adapters, a waiting receive keeps the process alive until it returns.
      const next = await this.file.read(this.ctx('receive', opts.signal), () =>
        this.file
          .sql('SELECT min(visible_at) AS t FROM polycloud_messages WHERE queue = ? AND visible_at > ?')
          .get(this.name, now),
      );
      const due = next?.t === null || next?.t === undefined ? Number.POSITIVE_INFINITY : num(next.t);
      await this.waitForChange(Math.max(1, Math.min(deadline, due, now + POLL_MS) - now), opts.signal);
      checkSignal(opts.signal, what);
      if (this.closed) return [];
    }
  }

  async ack(
    receipts: readonly unknown[],
    opts: { signal: AbortSignal | undefined },
  ): Promise<readonly (PolycloudError | undefined)[]> {
    checkSignal(opts.signal, `ack on queue "${this.name}"`);
    const f = this.file;
    const out = await f.write(this.ctx('ack', opts.signal), () =>
      receipts.map((r) => {
        const parsed = this.parseReceipt(r, 'ack');
        if ('error' in parsed) return parsed.error;
        // Already acked, or redelivered since this receipt was issued: succeed without effect.
        f.sql('DELETE FROM polycloud_messages WHERE id = ? AND receipt = ?').run(parsed.id, r as string);
        return undefined;
      }),
    );
    // Deleting a message may let the next one of its group through.
    f.events.emit(this.channel);
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
    const f = this.file;
    await f.write(this.ctx('changeVisibility', opts.signal), () => {
      const row = f.sql('SELECT receipt FROM polycloud_messages WHERE id = ?').get(parsed.id);
      if (!row) throw this.error('NOT_FOUND', 'changeVisibility', `message ${parsed.id} was already acked`);
      if (row.receipt !== receipt) {
        throw this.error(
          'PRECONDITION_FAILED',
          'changeVisibility',
          `message ${parsed.id} was delivered again since this receipt was issued; use the latest delivery`,
        );
      }
      f.sql('UPDATE polycloud_messages SET visible_at = ? WHERE id = ?').run(
        Date.now() + seconds * 1000,
        parsed.id,
      );
    });
    f.events.emit(this.channel);
    return undefined;
  }

  /** Ends this driver's waiting receives and releases the database. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const wake of [...this.waits]) wake();
    this.file.release();
  }

  /** The SQLite file and this queue's name in it. */
  native(): LocalQueueHandle {
    const f = this.file;
    const name = this.name;
    return {
      path: f.path,
      queue: name,
      database: f.db,
      clear: async () => {
        await f.write(this.ctx('clear'), () => {
          f.sql('DELETE FROM polycloud_messages WHERE queue = ?').run(name);
          f.sql('DELETE FROM polycloud_dedup WHERE queue = ?').run(name);
        });
      },
    };
  }

  /** Takes up to `max` deliverable messages in one write transaction and hides them. */
  private async take(
    max: number,
    visibilityMs: number,
    signal: AbortSignal | undefined,
  ): Promise<DriverMessage[]> {
    const f = this.file;
    const ctx = this.ctx('receive', signal);
    // Look first without the write lock, so idle pollers in many processes do not queue up
    // behind each other for it.
    const any = await f.read(ctx, () => f.sql(ANY_DELIVERABLE).get(this.name, Date.now()));
    if (!any) return [];
    return f.write(ctx, () => {
      const now = Date.now();
      const rows = f.sql(TAKE).all(this.name, now, max);
      const update = f.sql(
        'UPDATE polycloud_messages SET delivery_count = delivery_count + 1, visible_at = ?, receipt = ? WHERE seq = ?',
      );
      return rows.map((row): DriverMessage => {
        const id = String(row.id);
        const receipt = `${id}/${newToken()}`;
        update.run(now + visibilityMs, receipt, row.seq ?? null);
        return {
          id,
          body: readBytes(row.body),
          attributes: JSON.parse(String(row.attributes)) as Record<string, string>,
          deliveryCount: num(row.delivery_count) + 1,
          enqueuedAt: new Date(num(row.enqueued_at)),
          groupId: row.group_id === null ? undefined : String(row.group_id),
          receipt,
        };
      });
    });
  }

  /** Resolves after `ms`, or earlier when this process changes the queue, aborts or closes. */
  private async waitForChange(ms: number, signal: AbortSignal | undefined): Promise<void> {
    const ac = new AbortController();
    const wake = () => ac.abort();
    this.waits.add(wake);
    this.file.events.once(this.channel, wake);
    signal?.addEventListener('abort', wake, { once: true });
    try {
      await pause(ms, ac.signal);
    } finally {
      this.waits.delete(wake);
      this.file.events.off(this.channel, wake);
      signal?.removeEventListener('abort', wake);
    }
    if (signal?.aborted) throw abortError(signal, `receive on queue "${this.name}"`);
  }

  private parseReceipt(r: unknown, op: string): { id: string } | { error: PolycloudError } {
    const slash = typeof r === 'string' ? r.indexOf('/') : -1;
    if (typeof r !== 'string' || slash < 1) {
      return { error: this.error('INVALID_ARGUMENT', op, 'the receipt is not one this local queue issued') };
    }
    return { id: r.slice(0, slash) };
  }

  private ctx(operation: string, signal?: AbortSignal): ErrorContext {
    return { service: 'queue', operation, name: this.name, lockTimeoutMs: this.lockTimeoutMs, signal };
  }

  private error(
    code: 'NOT_FOUND' | 'PRECONDITION_FAILED' | 'PAYLOAD_TOO_LARGE' | 'INVALID_ARGUMENT',
    op: string,
    why: string,
  ) {
    return pcError(code, `${op} on queue "${this.name}" (${this.file.path}): ${why}`, {
      provider: PROVIDER,
      service: 'queue',
      operation: op,
      resource: { name: this.name },
      retryable: false,
    });
  }
}
