import { randomUUID } from 'node:crypto';
import type { PubSub } from '@google-cloud/pubsub';
import type { DriverMessage, DriverReceiver } from '@polycloud/core/driver/base';
import { type ErrorContext, gcpError, raceSignal } from '../errors.js';

/** A message as StreamingPull and Pull deliver it. */
export interface PulledMessage {
  ackId?: string | null;
  deliveryAttempt?: number | null;
  message?: {
    data?: Uint8Array | string | null;
    attributes?: Record<string, string> | null;
    messageId?: string | null;
    publishTime?: { seconds?: number | string | { toString(): string } | null; nanos?: number | null } | null;
    orderingKey?: string | null;
  } | null;
}

/** The grpc-js duplex stream of one StreamingPull call (the parts used here). */
interface PullStream {
  write(req: object): boolean;
  end(): void;
  cancel(): void;
  pause(): void;
  resume(): void;
  on(event: 'data', fn: (res: { receivedMessages?: PulledMessage[] | null }) => void): unknown;
  on(event: 'status', fn: (status: { code: number; details?: string }) => void): unknown;
  on(event: 'error', fn: (err: unknown) => void): unknown;
}

interface SubscriberStub {
  streamingPull(opts: { deadline: number }): PullStream;
}

/** What the receiver needs from its driver. */
export interface StreamingHost {
  readonly client: PubSub;
  readonly subscription: string;
  /** The subscription's own ack deadline (the stream's deadline unless visibility says otherwise). */
  readonly ackDeadlineSeconds: number;
  /** Turns a delivered message into the driver-level one (delivery counts live in the driver). */
  toMessage(p: PulledMessage): DriverMessage;
  /** A unary SubscriberClient call (modifyAckDeadline), bounded by `timeoutMs`. */
  modify(ackIds: string[], seconds: number, timeoutMs: number): Promise<void>;
  ctx(operation: string): ErrorContext;
}

/** Settings of one receiver. */
export interface StreamingOptions {
  /** Delivered messages not yet handed out, at most (the consumer's concurrency). */
  readonly maxOutstanding: number;
  /** Hide each handed-out message this long (default: the subscription's ack deadline). */
  readonly visibilityTimeoutSeconds: number | undefined;
  /** StreamingPull calls kept open. */
  readonly streams: number;
  /** Delivered bytes not yet handed out, at most (default 64 MiB). */
  readonly maxOutstandingBytes?: number;
}

/**
 * The service closes a stream after this long at the latest; the receiver opens the next one.
 * The library uses the same bound (StreamingPull's 900 s timeout in its client config).
 */
const STREAM_DEADLINE_MS = 900_000;
/** An empty request keeps an idle stream open (the library sends one every 30 s too). */
const KEEPALIVE_MS = 30_000;
/** Codes on which a stream is simply opened again (the library's PullRetry list, plus OK). */
const RETRY_CODES = new Set([0, 1, 4, 8, 10, 13, 14]);
/** Back-off between reopenings of a failing stream. */
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 10_000;
/** After this many failed openings in a row, the next receive reports the failure (the consumer then paces). */
const REPORT_AFTER = 3;
/** Bound on the nack that gives back undelivered messages at close. */
const CLOSE_NACK_MS = 2_000;
/** How long close() lets a half-closed stream finish before cancelling it. */
const CLOSE_GRACE_MS = 1_000;
/** Messages arriving this soon after the streams resumed count as having waited in buffers. */
const STALE_AFTER_RESUME_MS = 1_000;
/** Ack ids per modifyAckDeadline request. */
const MODIFY_BATCH = 1000;

interface Buffered {
  readonly p: PulledMessage;
  readonly ackId: string;
  /** When its current lease started (delivery or last extension). */
  leased: number;
  readonly bytes: number;
}

/**
 * `consume()`'s push receiver for a Pub/Sub subscription: StreamingPull calls kept open with
 * server-side flow control (maxOutstandingMessages/Bytes) and a client-side bound too, since
 * not every server enforces it (pstest does not): above `maxOutstanding` buffered messages the
 * streams are paused, so the HTTP/2 window pushes back. Buffered messages keep their lease
 * (modifyAckDeadline before it runs out); handed-out messages are the consumer's to extend, ack
 * and nack through the unary RPCs, as the library does. A stream that ends on a retryable code
 * is opened again with back-off; close() ends the streams and nacks what was not handed out.
 */
export class StreamingPullReceiver implements DriverReceiver {
  private readonly buffer: Buffered[] = [];
  private bufferedBytes = 0;
  private readonly waiters = new Set<() => void>();
  private readonly streams: (PullStream | undefined)[];
  private readonly failures: number[];
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  /** Stream slots with a reopening scheduled. */
  private readonly pending = new Set<number>();
  private failure: unknown;
  private closed = false;
  private paused = false;
  private resumedAt = 0;
  private stub: Promise<SubscriberStub> | undefined;
  private readonly keepalive: NodeJS.Timeout;
  private readonly lease: NodeJS.Timeout;
  /** The stream's ack deadline: Pub/Sub accepts 10..600 s. */
  private readonly streamDeadline: number;
  private readonly visibility: number;
  private readonly maxBytes: number;
  private readonly ended = new Set<Promise<void>>();

  constructor(
    private readonly host: StreamingHost,
    private readonly opts: StreamingOptions,
  ) {
    this.visibility = opts.visibilityTimeoutSeconds ?? host.ackDeadlineSeconds;
    this.streamDeadline = Math.min(600, Math.max(10, this.visibility));
    this.maxBytes = opts.maxOutstandingBytes ?? 64 * 1024 * 1024;
    this.streams = new Array<PullStream | undefined>(Math.max(1, opts.streams)).fill(undefined);
    this.failures = this.streams.map(() => 0);
    for (let i = 0; i < this.streams.length; i++) this.open(i);
    this.keepalive = setInterval(() => {
      for (const s of this.streams) s?.write({});
    }, KEEPALIVE_MS);
    this.keepalive.unref();
    // Buffered messages are extended before a quarter of their lease is left.
    const every = Math.max(1000, (this.streamDeadline * 1000) / 4);
    this.lease = setInterval(() => this.extendBuffered(), every);
    this.lease.unref();
  }

  async receive(opts: {
    maxMessages: number;
    waitSeconds: number;
    signal: AbortSignal | undefined;
  }): Promise<readonly DriverMessage[]> {
    this.throwFailure();
    if (this.buffer.length === 0 && opts.waitSeconds > 0) {
      await this.waitForMessages(opts);
      if (this.buffer.length === 0) this.throwFailure();
    }
    // A stopping consumer takes nothing: what stays buffered is given back by close().
    if (opts.signal?.aborted) return [];
    const taken = this.buffer.splice(0, opts.maxMessages);
    for (const b of taken) this.bufferedBytes -= b.bytes;
    this.resumeIfRoom();
    if (taken.length === 0) return [];
    // A visibility other than the stream's deadline, or a lease partly used up in the buffer:
    // set it once for the batch, as receive() does after a pull.
    const now = Date.now();
    const stale = taken.some((b) => now - b.leased > (this.streamDeadline * 1000) / 4);
    if (this.visibility !== this.streamDeadline || stale) {
      try {
        await raceSignal(
          this.host.modify(
            taken.map((b) => b.ackId),
            this.visibility,
            30_000,
          ),
          opts.signal,
        );
      } catch (err) {
        // Not handed out: back to the front, to be taken again or given back by close().
        this.buffer.unshift(...taken);
        for (const b of taken) this.bufferedBytes += b.bytes;
        this.pauseIfFull();
        throw gcpError(err, this.host.ctx('receive'), 'grpc');
      }
    }
    return taken.map((b) => this.host.toMessage(b.p));
  }

  /** A stream gave up: the consumer reports the error and backs off; the next receive reopens. */
  private throwFailure(): void {
    if (this.failure === undefined) return;
    const err = this.failure;
    this.failure = undefined;
    for (let i = 0; i < this.streams.length; i++) {
      if (!this.streams[i] && !this.pending.has(i)) this.open(i);
    }
    throw err;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepalive);
    clearInterval(this.lease);
    for (const t of this.retryTimers) clearTimeout(t);
    for (const w of this.waiters) w();
    for (const s of this.streams) {
      if (!s) continue;
      // Half-close first (the server then ends the call) and read what is still on the way,
      // so it can be given back; cancel what does not end soon.
      s.resume();
      s.end();
      const t = setTimeout(() => s.cancel(), CLOSE_GRACE_MS);
      t.unref();
    }
    await Promise.allSettled([...this.ended]);
    await this.nackBuffered();
  }

  private async nackBuffered(): Promise<void> {
    const ids = this.buffer.splice(0).map((b) => b.ackId);
    this.bufferedBytes = 0;
    for (let i = 0; i < ids.length; i += MODIFY_BATCH) {
      // Best effort: what is not given back reappears when its lease ends.
      await this.host.modify(ids.slice(i, i + MODIFY_BATCH), 0, CLOSE_NACK_MS).catch(() => {});
    }
  }

  private waitForMessages(opts: { waitSeconds: number; signal: AbortSignal | undefined }): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        opts.signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, opts.waitSeconds * 1000);
      this.waiters.add(done);
      opts.signal?.addEventListener('abort', done, { once: true });
      if (opts.signal?.aborted) done();
    });
  }

  private open(i: number): void {
    if (this.closed) return;
    this.stub ??= this.host.client.getClientAsync_({ client: 'SubscriberClient' }).then(async (gapic) => {
      const g = gapic as unknown as {
        initialize(): Promise<unknown>;
        subscriberStub: Promise<SubscriberStub>;
      };
      await g.initialize();
      return g.subscriberStub;
    });
    this.stub.then(
      (stub) => this.start(i, stub),
      (err: unknown) => {
        this.stub = undefined;
        this.ended1(i, { code: 14, details: String(err) }, err);
      },
    );
  }

  private start(i: number, stub: SubscriberStub): void {
    if (this.closed) return;
    const openedAt = Date.now();
    const stream = stub.streamingPull({ deadline: openedAt + STREAM_DEADLINE_MS });
    this.streams[i] = stream;
    let resolveEnded!: () => void;
    const ended = new Promise<void>((r) => {
      resolveEnded = r;
    });
    this.ended.add(ended);
    let lastError: unknown;
    stream.on('data', (res) => {
      this.failures[i] = 0;
      // What arrives while or right after the streams were paused may have waited in gRPC's
      // and HTTP/2's buffers (a server that ignores flow control keeps sending): its lease
      // started earlier than we can tell, so it is refreshed before it is handed out.
      const now = Date.now();
      const leased = this.paused || now - this.resumedAt < STALE_AFTER_RESUME_MS ? 0 : now;
      for (const p of res.receivedMessages ?? []) {
        const ackId = p.ackId ?? '';
        if (!ackId) continue;
        const bytes = p.message?.data?.length ?? 0;
        this.buffer.push({ p, ackId, leased, bytes });
        this.bufferedBytes += bytes;
      }
      // Delivered after close: close() gives it back once the streams have ended.
      if (this.closed) return;
      if (this.buffer.length > 0) for (const w of [...this.waiters]) w();
      this.pauseIfFull();
    });
    // grpc-js reports a failure as 'error' and always as 'status'; the status decides.
    stream.on('error', (err) => {
      lastError = err;
    });
    stream.on('status', (status) => {
      if (this.streams[i] === stream) this.streams[i] = undefined;
      this.ended.delete(ended);
      resolveEnded();
      this.ended1(i, status, lastError, openedAt);
    });
    stream.write({
      subscription: this.host.subscription,
      streamAckDeadlineSeconds: this.streamDeadline,
      // Server-side flow control; the client-side bound below holds where it is not enforced.
      // Shared by the streams: together they are asked for about maxOutstanding messages.
      maxOutstandingMessages: Math.ceil(this.opts.maxOutstanding / this.streams.length),
      maxOutstandingBytes: Math.ceil(this.maxBytes / this.streams.length),
      clientId: randomUUID(),
      // Protocol version 0: the server does not answer keepalives. Version 1 (what the library
      // asks for) lets pstest deadlock: it answers a ping by a blocking channel send while it
      // holds its server-wide lock, and when the stream is paused its sender is stuck in Send,
      // so every later call on the emulator hangs. The answers would only serve a liveness
      // timer this receiver does not keep (the channel's own gRPC keepalive covers that).
    });
    if (this.paused) stream.pause();
  }

  /** A stream ended: open it again (back-off) or keep the error for the next receive. */
  private ended1(i: number, status: { code: number; details?: string }, err: unknown, openedAt = 0): void {
    if (this.closed) return;
    // A stream the server ended normally (OK, or its deadline) is no failure: it is opened
    // again at once, and the count starts over (the library's resetFailures does the same).
    const normal = status.code === 0 || status.code === 4;
    const failures = normal ? 0 : (this.failures[i] ?? 0) + 1;
    this.failures[i] = failures;
    if (!RETRY_CODES.has(status.code) || failures > REPORT_AFTER) {
      this.failures[i] = 0;
      this.failure = gcpError(
        err ??
          Object.assign(new Error(status.details ?? `StreamingPull ended with code ${status.code}`), status),
        this.host.ctx('receive'),
        'grpc',
      );
      for (const w of [...this.waiters]) w();
      return;
    }
    // A stream that ended right after it opened is not reopened at once (no busy loop).
    const delay = normal
      ? Date.now() - openedAt > 1000
        ? 0
        : BACKOFF_MIN_MS
      : Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (failures - 1)) * (0.5 + Math.random() / 2);
    this.pending.add(i);
    const t = setTimeout(() => {
      this.retryTimers.delete(t);
      this.pending.delete(i);
      this.open(i);
    }, delay);
    t.unref();
    this.retryTimers.add(t);
  }

  private pauseIfFull(): void {
    if (this.paused) return;
    if (this.buffer.length < this.opts.maxOutstanding && this.bufferedBytes < this.maxBytes) return;
    this.paused = true;
    for (const s of this.streams) s?.pause();
  }

  private resumeIfRoom(): void {
    if (!this.paused) return;
    if (this.buffer.length >= this.opts.maxOutstanding || this.bufferedBytes >= this.maxBytes) return;
    this.paused = false;
    this.resumedAt = Date.now();
    for (const s of this.streams) s?.resume();
  }

  /** Keeps the lease of messages that wait in the buffer (paused streams, slow handlers). */
  private extendBuffered(): void {
    const now = Date.now();
    const due = this.buffer.filter((b) => now - b.leased > (this.streamDeadline * 1000) / 4);
    if (due.length === 0) return;
    for (const b of due) b.leased = now;
    const ids = due.map((b) => b.ackId);
    for (let i = 0; i < ids.length; i += MODIFY_BATCH) {
      // A failed extension only means the message may be delivered again (at least once).
      this.host.modify(ids.slice(i, i + MODIFY_BATCH), this.streamDeadline, 30_000).catch(() => {});
    }
  }
}
