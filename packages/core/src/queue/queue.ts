import type { Bucket } from '../blob/bucket.js';
import { type QueueCapabilities, requireCapability } from '../capabilities.js';
import { invalidArgument, isPolycloudError, type PolycloudError, pcError } from '../errors.js';
import { utf8Length } from '../internal/bytes.js';
import { CallRunner, type PortableOptions } from '../internal/context.js';
import { perItem } from '../internal/per-item.js';
import { checkInt, checkOptions, checkString } from '../internal/validate.js';
import { type CallTelemetry, recordBytes, rememberTraceContext, takeTraceContext } from '../telemetry.js';
import { type Codec, jsonCodec } from './codec.js';
import { type ConsumeOptions, type Consumer, type MessageHandler, startConsumer } from './consumer.js';
import type { DriverMessage, DriverOutgoing, DriverReceiver, QueueDriver } from './driver.js';
import type {
  AckResult,
  Message,
  OutgoingMessage,
  ReceiveOptions,
  SendOptions,
  SendResult,
} from './types.js';

export interface QueueOptions<T> extends PortableOptions {
  /** How bodies become bytes; JSON by default. */
  readonly codec?: Codec<T>;
  /**
   * Bodies over the queue's message limit are stored in this bucket and the message carries a
   * reference; receivers fetch them transparently and `ack` deletes them.
   */
  readonly claimCheck?: { readonly bucket: Bucket; readonly prefix?: string };
}

/**
 * Sends already-encoded bytes through a queue (dead-lettering a message unchanged). Kept off the
 * public API: a module-private table, filled by each Queue's constructor.
 */
const RAW_SENDERS = new WeakMap<
  object,
  (msg: DriverOutgoing, signal: AbortSignal | undefined) => Promise<string>
>();

function sendRaw(queue: object, msg: DriverOutgoing, signal: AbortSignal | undefined): Promise<string> {
  const send = RAW_SENDERS.get(queue);
  if (send === undefined) throw pcError('INTERNAL', 'dead-letter target is not a polycloud Queue');
  return send(msg, signal);
}

/**
 * The message with the sending call's trace context in its attributes (when tracing is on).
 * It rides in a spare attribute slot only: a message already at the provider's attribute limit
 * (SQS: 10 in all) goes without it rather than fail.
 */
function withTraceContext(msg: DriverOutgoing, call: CallTelemetry, maxAttributes: number): DriverOutgoing {
  if (Object.keys(msg.attributes).length >= maxAttributes) return msg;
  const carrier: Record<string, string> = {};
  call.inject(carrier);
  return Object.keys(carrier).length === 0 ? msg : { ...msg, attributes: { ...msg.attributes, ...carrier } };
}

/** Attribute names users may not set: the portable layer and services reserve them. */
const RESERVED_ATTRIBUTE = /^(polycloud|aws\.|amazon\.|goog)/i;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;
const CLAIM_CHECK_ATTRIBUTE = 'polycloud-claim-check';
/** The attributes of a message sent without any (frozen: drivers and trace injection copy, never write). */
const NO_ATTRIBUTES: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** State shared between a queue and the views made by `withCodec`, so they close together. */
interface Shared<TNative> {
  readonly driver: QueueDriver<TNative>;
  readonly runner: CallRunner;
  readonly claimCheck: QueueOptions<unknown>['claimCheck'];
}

class ReceivedMessage<T> implements Message<T> {
  receipt: unknown;
  private decoded: { value: T } | undefined;
  constructor(
    private readonly raw: DriverMessage,
    readonly bytes: Uint8Array,
    readonly attributes: Readonly<Record<string, string>>,
    private readonly codec: Codec<T>,
    readonly queueName: string,
    readonly claimKey: string | undefined,
  ) {
    this.receipt = raw.receipt;
  }
  get id() {
    return this.raw.id;
  }
  get deliveryCount() {
    return this.raw.deliveryCount;
  }
  get enqueuedAt() {
    return this.raw.enqueuedAt;
  }
  get groupId() {
    return this.raw.groupId;
  }
  get body(): T {
    if (!this.decoded) {
      try {
        this.decoded = { value: this.codec.decode(this.bytes) };
      } catch (err) {
        throw invalidArgument(
          `message ${this.id} on queue "${this.queueName}" could not be decoded by the queue's codec; receive it with bytesCodec (queue.withCodec(bytesCodec)) to inspect the bytes`,
          { service: 'queue', operation: 'receive', resource: { name: this.queueName }, cause: err },
        );
      }
    }
    return this.decoded.value;
  }
  toJSON() {
    return {
      id: this.id,
      deliveryCount: this.deliveryCount,
      attributes: this.attributes,
      groupId: this.groupId,
    };
  }
}

/**
 * @internal Turns a driver-level message into the `Message<T>` that `receive()` and `consume()`
 * give (claim-check reference fetched and stripped, body decoded lazily by `codec`). Function
 * triggers call it with the message the platform delivered, so both paths decode alike.
 */
export async function decodeDriverMessage<T>(
  m: DriverMessage,
  opts: {
    readonly codec: Codec<T>;
    readonly queueName: string;
    readonly claimCheck: QueueOptions<T>['claimCheck'];
    readonly signal?: AbortSignal | undefined;
    readonly provider?: string;
  },
): Promise<Message<T>> {
  // Trace context rides in attributes; it is taken out here so no caller ever sees it.
  const { attributes: visible, carrier } = takeTraceContext(m.attributes);
  const message = await decodeVisible(m, visible, opts);
  rememberTraceContext(message, carrier);
  return message;
}

async function decodeVisible<T>(
  m: DriverMessage,
  visible: Readonly<Record<string, string>>,
  opts: Parameters<typeof decodeDriverMessage<T>>[1],
): Promise<ReceivedMessage<T>> {
  const claimKey = visible[CLAIM_CHECK_ATTRIBUTE];
  if (claimKey === undefined)
    return new ReceivedMessage(m, m.body, visible, opts.codec, opts.queueName, undefined);
  const { [CLAIM_CHECK_ATTRIBUTE]: _, ...attributes } = visible;
  const bucket = opts.claimCheck?.bucket;
  if (!bucket) {
    throw pcError(
      'PRECONDITION_FAILED',
      `message ${m.id} on queue "${opts.queueName}" refers to a claim-check blob "${claimKey}"; open the queue with the claimCheck bucket it was sent with`,
      { provider: opts.provider, service: 'queue', operation: 'receive', resource: { name: opts.queueName } },
    );
  }
  const bytes = await bucket.getBytes(claimKey, opts.signal ? { signal: opts.signal } : {});
  return new ReceivedMessage(m, bytes, attributes, opts.codec, opts.queueName, claimKey);
}

/** @internal The claim-check blob key a decoded message was fetched from, if any. */
export function claimKeyOf(m: Message<unknown>): string | undefined {
  return m instanceof ReceivedMessage ? m.claimKey : undefined;
}

/**
 * A work queue with at-least-once delivery on any provider.
 *
 * @example
 * await using jobs = await openQueue<{ userId: string }>('sqs://jobs');
 * await jobs.send({ userId: 'u1' });
 * const consumer = jobs.consume(async (msg) => handle(msg.body), { concurrency: 8 });
 * // later: await consumer.stop();
 */
export class Queue<T = unknown, TNative = unknown> {
  readonly capabilities: QueueCapabilities;
  readonly name: string;
  readonly provider: string;
  private readonly codec: Codec<T>;

  constructor(driver: QueueDriver<TNative>, opts?: QueueOptions<T>);
  /** @internal */
  constructor(driver: QueueDriver<TNative>, opts: QueueOptions<T> | undefined, shared: Shared<TNative>);
  constructor(
    driver: QueueDriver<TNative>,
    opts: QueueOptions<T> = {},
    private readonly shared: Shared<TNative> = {
      driver,
      runner: new CallRunner(
        driver.provider,
        'queue',
        driver.name,
        opts,
        false,
        driver.signalEndsRequests === true,
      ),
      claimCheck: opts.claimCheck,
    },
  ) {
    this.capabilities = driver.capabilities;
    this.name = driver.name;
    this.provider = driver.provider;
    this.codec = opts.codec ?? (jsonCodec as Codec<T>);
    // A codec without both functions would fail every send or every received message later,
    // far from the mistake: refuse it where it is given.
    const c = this.codec as Partial<Codec<T>> | null;
    if (
      typeof c !== 'object' ||
      c === null ||
      typeof c.encode !== 'function' ||
      typeof c.decode !== 'function'
    ) {
      throw invalidArgument(
        `queue "${driver.name}": codec must be an object with encode(value) and decode(bytes) functions (e.g. jsonCodec, textCodec, bytesCodec)`,
        { provider: driver.provider, service: 'queue', operation: 'open', resource: { name: driver.name } },
      );
    }
    RAW_SENDERS.set(this, async (msg, signal) => {
      const [r] = await this.sendEncoded('send', [msg], signal);
      if ('error' in r!) throw r.error;
      return r!.id;
    });
  }

  /**
   * The same queue with another codec (e.g. `bytesCodec` for raw bodies). Shares the
   * connection; closing either closes both.
   */
  withCodec<U>(codec: Codec<U>): Queue<U, TNative> {
    return new Queue<U, TNative>(this.shared.driver, { codec }, this.shared);
  }

  private get runner() {
    return this.shared.runner;
  }
  private get driver() {
    return this.shared.driver;
  }

  /**
   * Sends one message.
   *
   * @example
   * const { id } = await queue.send({ orderId: 42 }, { attributes: { kind: 'order' } });
   */
  async send(body: T, opts: SendOptions = {}): Promise<{ id: string }> {
    const op = 'send';
    this.runner.ensureOpen(op);
    checkOptions(
      opts,
      ['attributes', 'delaySeconds', 'groupId', 'deduplicationId', 'signal'],
      this.runner.ctx(op),
    );
    const { signal, ...msgOpts } = opts;
    const [r] = await this.sendMany([{ ...msgOpts, body }], signal ? { signal } : {}, op);
    if (!r!.ok) throw r!.error;
    return { id: r!.id };
  }

  /**
   * Sends many messages, batched to the provider's limit. Never throws for one message's
   * failure: every message gets a result, in input order.
   */
  async sendBatch(
    messages: readonly OutgoingMessage<T>[],
    opts: { signal?: AbortSignal } = {},
  ): Promise<SendResult[]> {
    return this.sendMany(messages, opts, 'sendBatch');
  }

  /** `sendBatch` under the name of the call the user made, for its errors and telemetry. */
  private async sendMany(
    messages: readonly OutgoingMessage<T>[],
    opts: { signal?: AbortSignal },
    op: 'send' | 'sendBatch',
  ): Promise<SendResult[]> {
    this.runner.ensureOpen(op);
    if (!Array.isArray(messages))
      throw invalidArgument('sendBatch: messages must be an array', this.runner.ctx(op));
    const results: (SendResult | undefined)[] = new Array(messages.length);
    const ready: { index: number; msg: DriverOutgoing }[] = [];
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      // Capability violations reject the whole call before any I/O; bad bodies fail per item.
      this.checkSendCapabilities(m, op);
      try {
        // Only a claim-checked body waits (its upload): the rest take no promise per message.
        const msg = this.encodeOutgoing(m, op, opts.signal);
        ready.push({ index: i, msg: msg instanceof Promise ? await msg : msg });
      } catch (err) {
        results[i] = { ok: false, error: this.runner.normalize(err, op) };
      }
    }
    const size = Math.max(1, this.capabilities.maxBatchSize);
    for (let i = 0; i < ready.length; i += size) {
      const chunk = ready.slice(i, i + size);
      try {
        // The span and the provider errors carry the name of the call the user made.
        const out = await this.sendEncoded(
          op,
          chunk.map((c) => c.msg),
          opts.signal,
        );
        chunk.forEach((c, j) => {
          const r = out[j];
          if (r === undefined) {
            results[c.index] = {
              ok: false,
              error: pcError('INTERNAL', 'driver returned no result', this.runner.ctx(op)),
            };
          } else if ('id' in r) results[c.index] = { ok: true, id: r.id };
          else results[c.index] = { ok: false, error: this.itemError(r.error, op, opts.signal) };
        });
      } catch (err) {
        const error = this.runner.normalize(err, op);
        for (const c of chunk) results[c.index] = { ok: false, error };
      }
    }
    return results as SendResult[];
  }

  /**
   * Receives up to `maxMessages`, waiting up to `waitSeconds` for the first one.
   *
   * @example
   * for (const msg of await queue.receive({ maxMessages: 10, waitSeconds: 20 })) { work(msg.body); await queue.ack(msg); }
   */
  async receive(opts: ReceiveOptions = {}): Promise<Message<T>[]> {
    const op = 'receive';
    this.runner.ensureOpen(op);
    const ctx = this.runner.ctx(op);
    checkOptions(opts, ['maxMessages', 'waitSeconds', 'visibilityTimeoutSeconds', 'signal'], ctx);
    const caps = this.capabilities;
    checkInt(opts.maxMessages, 'maxMessages', 1, caps.maxReceiveMessages, ctx);
    checkInt(opts.waitSeconds, 'waitSeconds', 0, caps.maxWaitSeconds, ctx);
    if (opts.visibilityTimeoutSeconds !== undefined) {
      requireCapability(caps.visibilityTimeout, 'visibilityTimeout', this.capCtx(op));
      checkInt(opts.visibilityTimeoutSeconds, 'visibilityTimeoutSeconds', 1, caps.maxVisibilitySeconds, ctx);
    }
    return this.receiveFrom(this.driver, opts);
  }

  /** Receives through `source` (the driver, or a consumer's push receiver); options already checked. */
  private async receiveFrom(
    source: Pick<QueueDriver, 'receive'> | DriverReceiver,
    opts: ReceiveOptions,
  ): Promise<Message<T>[]> {
    const op = 'receive';
    const waitSeconds = opts.waitSeconds ?? 0;
    const attempt = this.runner.attemptTimeoutMs;
    const raw = await this.runner.run(
      op,
      undefined,
      opts.signal,
      (signal) =>
        source.receive({
          maxMessages: opts.maxMessages ?? 1,
          waitSeconds,
          visibilityTimeoutSeconds: opts.visibilityTimeoutSeconds,
          signal,
        }),
      // A long poll legitimately waits waitSeconds; the attempt bound comes on top of it.
      { attemptTimeoutMs: attempt > 0 ? attempt + waitSeconds * 1000 : 0 },
    );
    const out: Message<T>[] = [];
    for (const m of raw) out.push(await this.wrap(m, opts.signal));
    return out;
  }

  /**
   * Deletes received messages so they are not delivered again. Acking twice is not an error.
   * One message: throws on failure. Many: returns a result per message.
   */
  async ack(message: Message<T>, opts?: { signal?: AbortSignal }): Promise<void>;
  async ack(messages: readonly Message<T>[], opts?: { signal?: AbortSignal }): Promise<AckResult[]>;
  async ack(
    input: Message<T> | readonly Message<T>[],
    opts: { signal?: AbortSignal } = {},
    // biome-ignore lint/suspicious/noConfusingVoidType: the implementation must cover the single-message overload.
  ): Promise<AckResult[] | undefined | void> {
    const op = 'ack';
    this.runner.ensureOpen(op);
    const many = Array.isArray(input);
    const msgs = (many ? input : [input]) as readonly Message<T>[];
    const received = msgs.map((m) => this.own(m, op));
    const results: AckResult[] = [];
    const size = Math.max(1, this.capabilities.maxBatchSize);
    for (let i = 0; i < received.length; i += size) {
      const chunk = received.slice(i, i + size);
      const errors = await this.ackReceipts(
        op,
        chunk.map((m) => m.receipt),
        opts.signal,
      );
      chunk.forEach((m, j) => {
        const e = errors[j];
        if (e === undefined || isPolycloudError(e, 'NOT_FOUND')) results.push({ id: m.id, ok: true });
        else results.push({ id: m.id, ok: false, error: this.itemError(e, op, opts.signal) });
      });
    }
    await this.releaseClaims(received, results);
    if (many) return results;
    const r = results[0]!;
    if (!r.ok) throw r.error;
    return undefined;
  }

  /**
   * Gives a message back so it is delivered again, now or after `delaySeconds`.
   */
  async nack(message: Message<T>, opts: { delaySeconds?: number; signal?: AbortSignal } = {}): Promise<void> {
    const op = 'nack';
    this.runner.ensureOpen(op);
    const m = this.own(message, op);
    const ctx = this.runner.ctx(op);
    checkOptions(opts, ['delaySeconds', 'signal'], ctx);
    requireCapability(this.capabilities.nack, 'nack', this.capCtx(op));
    if (opts.delaySeconds !== undefined && opts.delaySeconds > 0) {
      requireCapability(this.capabilities.nackDelay, 'nackDelay', this.capCtx(op));
    }
    checkInt(opts.delaySeconds, 'delaySeconds', 0, this.capabilities.maxVisibilitySeconds, ctx);
    await this.changeVisibility(m, opts.delaySeconds ?? 0, op, opts.signal);
  }

  /** Keeps a message hidden for `seconds` more while you work on it. */
  async extend(message: Message<T>, seconds: number, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const op = 'extend';
    this.runner.ensureOpen(op);
    const m = this.own(message, op);
    requireCapability(this.capabilities.extend, 'extend', this.capCtx(op));
    checkInt(seconds, 'seconds', 1, this.capabilities.maxVisibilitySeconds, this.runner.ctx(op));
    await this.changeVisibility(m, seconds, op, opts.signal);
  }

  /**
   * Runs `handler` for every message with bounded concurrency: ack on success, nack with
   * backoff on throw, visibility extended while it runs, dead-lettering after maxDeliveries.
   *
   * @example
   * const c = queue.consume(async (msg) => { await work(msg.body) }, { concurrency: 8, maxDeliveries: 5, deadLetter: dlq });
   * process.on('SIGTERM', () => c.stop());
   */
  consume(handler: MessageHandler<T>, opts: ConsumeOptions = {}): Consumer {
    this.runner.ensureOpen('consume');
    return startConsumer(this, handler, opts, {
      moveToDeadLetter: (m, dlq, signal) => this.moveToDeadLetter(m, dlq, signal),
      openReceiver: (maxOutstanding, visibilityTimeoutSeconds) => {
        const r = this.driver.openReceiver?.({ maxOutstanding, visibilityTimeoutSeconds });
        if (!r) return undefined;
        return {
          receive: (o) => this.receiveFrom(r, o),
          close: () => r.close(),
        };
      },
    });
  }

  /** The native SDK client, typed when the queue came from an adapter's own constructor. */
  native(): TNative {
    return this.driver.native();
  }

  /** Releases the driver's resources; later calls fail. Stop consumers first. */
  async close(): Promise<void> {
    if (this.runner.isClosed) return;
    this.runner.markClosed();
    await this.driver.close();
  }

  /**
   * Closes the queue at the end of an `await using` block.
   *
   * @example
   * await using jobs = await openQueue('mem://jobs');
   * await jobs.send({ id: 1 });
   * // closed here
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async sendEncoded(
    op: string,
    msgs: readonly DriverOutgoing[],
    signal: AbortSignal | undefined,
  ): Promise<({ id: string } | { error: PolycloudError })[]> {
    recordBytes(
      { provider: this.provider, service: 'queue', operation: op },
      msgs.reduce((n, m) => n + m.body.byteLength, 0),
    );
    const out = await perItem(
      this.runner,
      op,
      msgs.length,
      signal,
      (indexes, s, call) =>
        this.driver.send(
          indexes.map((i) => withTraceContext(msgs[i]!, call, this.capabilities.maxAttributes)),
          { signal: s },
        ),
      (r) => ('error' in r ? r.error : undefined),
    );
    return out.map((r) => ('ok' in r ? (r.ok as { id: string }) : r));
  }

  private async ackReceipts(
    op: string,
    receipts: readonly unknown[],
    signal: AbortSignal | undefined,
  ): Promise<(PolycloudError | undefined)[]> {
    const out = await perItem(
      this.runner,
      op,
      receipts.length,
      signal,
      async (indexes, s) => {
        const errors = await this.driver.ack(
          indexes.map((i) => receipts[i]),
          { signal: s },
        );
        // A message already gone (acked before a lost answer, or by another consumer) is acked.
        return errors.map((e) => ({ e: isPolycloudError(e, 'NOT_FOUND') ? undefined : e }));
      },
      (r) => r.e,
    );
    return out.map((r) => ('error' in r ? r.error : undefined));
  }

  private async moveToDeadLetter(m: Message<T>, dlq: Queue<unknown>, signal: AbortSignal | undefined) {
    const own = this.own(m, 'deadLetter');
    const attributes: Record<string, string> = { ...m.attributes };
    if (own.claimKey !== undefined) attributes[CLAIM_CHECK_ATTRIBUTE] = own.claimKey;
    await sendRaw(
      dlq,
      {
        body: own.claimKey !== undefined ? new Uint8Array() : m.bytes,
        attributes,
        delaySeconds: undefined,
        groupId: m.groupId,
        deduplicationId: undefined,
      },
      signal,
    );
    // The dead-letter copy now owns the claim-check blob, so ack without releasing it.
    const [e] = await this.ackReceipts('ack', [own.receipt], signal);
    if (e !== undefined) throw e;
  }

  private async changeVisibility(m: ReceivedMessage<T>, seconds: number, op: string, signal?: AbortSignal) {
    const next = await this.runner.run(op, undefined, signal, (s) =>
      this.driver.changeVisibility(m.receipt, seconds, { signal: s }),
    );
    if (next !== undefined) m.receipt = next;
  }

  /**
   * A per-item error from a driver. CANCELLED there means the request was aborted, and when the
   * caller's signal did not abort, it was the attempt's timeout: report TIMEOUT, retryable.
   */
  private itemError(err: unknown, op: string, signal: AbortSignal | undefined): PolycloudError {
    const e = this.runner.normalize(err, op);
    if (e.code !== 'CANCELLED' || signal?.aborted) return e;
    return pcError(
      'TIMEOUT',
      `${op} on queue "${this.name}" timed out (the request was aborted at its time limit)`,
      {
        ...this.runner.ctx(op),
        cause: err,
        retryable: true,
      },
    );
  }

  private own(m: Message<T>, op: string): ReceivedMessage<T> {
    if (!(m instanceof ReceivedMessage)) {
      throw invalidArgument(`${op}: pass a message returned by receive() or consume()`, this.runner.ctx(op));
    }
    if (m.queueName !== this.name) {
      throw invalidArgument(
        `${op}: message ${m.id} was received from queue "${m.queueName}", not "${this.name}"`,
        this.runner.ctx(op),
      );
    }
    return m;
  }

  private capCtx(operation: string) {
    return { provider: this.provider, service: 'queue' as const, operation, name: this.name };
  }

  private checkSendCapabilities(m: OutgoingMessage<T>, op: string) {
    const caps = this.capabilities;
    const ctx = this.runner.ctx(op);
    if (typeof m !== 'object' || m === null)
      throw invalidArgument(`${op}: each message must be { body, ...options }`, ctx);
    checkOptions(m, ['body', 'attributes', 'delaySeconds', 'groupId', 'deduplicationId'], ctx);
    if (m.delaySeconds !== undefined && m.delaySeconds !== 0) {
      requireCapability(caps.delay, 'delay', this.capCtx(op));
    }
    checkInt(m.delaySeconds, 'delaySeconds', 0, caps.delay ? caps.maxDelaySeconds : 0, ctx);
    if (m.groupId !== undefined) {
      requireCapability(caps.groupId, 'groupId', this.capCtx(op));
      checkString(m.groupId, 'groupId', ctx);
    }
    if (m.deduplicationId !== undefined) {
      requireCapability(caps.deduplicationId, 'deduplicationId', this.capCtx(op));
      checkString(m.deduplicationId, 'deduplicationId', ctx);
    }
    if (m.attributes !== undefined) {
      if (typeof m.attributes !== 'object' || m.attributes === null || Array.isArray(m.attributes)) {
        throw invalidArgument(`${op}: attributes must be an object of string values`, ctx);
      }
      const names = Object.keys(m.attributes);
      if (names.length > 0) requireCapability(caps.attributes, 'attributes', this.capCtx(op));
      if (names.length > caps.maxAttributes) {
        throw invalidArgument(
          `${op}: ${names.length} attributes is over this queue's limit of ${caps.maxAttributes}`,
          ctx,
        );
      }
      for (const [k, v] of Object.entries(m.attributes)) {
        if (!ATTRIBUTE_NAME.test(k) || RESERVED_ATTRIBUTE.test(k)) {
          throw invalidArgument(
            `${op}: attribute name "${k}" must be 1-128 characters of letters, digits, _ - . (not starting with '.') and not start with polycloud, aws., amazon. or goog`,
            ctx,
          );
        }
        if (typeof v !== 'string') throw invalidArgument(`${op}: attribute "${k}" must be a string`, ctx);
        if (!v.isWellFormed()) throw invalidArgument(`${op}: attribute "${k}" is not valid UTF-8`, ctx);
      }
    }
  }

  /** The message as the driver takes it; a promise only when the body goes to the claim-check bucket. */
  private encodeOutgoing(
    m: OutgoingMessage<T>,
    op: string,
    signal?: AbortSignal,
  ): DriverOutgoing | Promise<DriverOutgoing> {
    let body: Uint8Array;
    try {
      body = this.codec.encode(m.body);
    } catch (err) {
      if (isPolycloudError(err)) throw this.runner.normalize(err, op);
      throw invalidArgument(`${op}: the codec could not encode the message body: ${String(err)}`, {
        ...this.runner.ctx(op),
        cause: err,
      });
    }
    // No attributes (the common send): one shared empty record, nothing to copy or count.
    const attributes: Record<string, string> =
      m.attributes === undefined ? NO_ATTRIBUTES : { ...m.attributes };
    let attrBytes = 0;
    for (const k in attributes) attrBytes += utf8Length(k) + utf8Length(attributes[k]!);
    if (body.byteLength + attrBytes > this.capabilities.maxMessageBytes) {
      return this.claimChecked(m, op, body, attrBytes, signal);
    }
    return {
      body,
      attributes,
      delaySeconds: m.delaySeconds,
      groupId: m.groupId,
      deduplicationId: m.deduplicationId,
    };
  }

  /** A message over the size limit: its body goes to the claim-check bucket, its key in an attribute. */
  private async claimChecked(
    m: OutgoingMessage<T>,
    op: string,
    body: Uint8Array,
    attrBytes: number,
    signal: AbortSignal | undefined,
  ): Promise<DriverOutgoing> {
    const claim = this.shared.claimCheck;
    if (!claim) {
      throw pcError(
        'PAYLOAD_TOO_LARGE',
        `${op} on queue "${this.name}": the message is ${body.byteLength + attrBytes} bytes (body + attributes), over the limit of ${this.capabilities.maxMessageBytes}; send a smaller body or open the queue with a claimCheck bucket`,
        { ...this.runner.ctx(op), retryable: false },
      );
    }
    const key = `${claim.prefix ?? 'polycloud-claim-check/'}${this.name}/${crypto.randomUUID()}`;
    await claim.bucket.put(key, body, { ...(signal ? { signal } : {}) });
    return {
      body: new Uint8Array(),
      attributes: { ...m.attributes, [CLAIM_CHECK_ATTRIBUTE]: key },
      delaySeconds: m.delaySeconds,
      groupId: m.groupId,
      deduplicationId: m.deduplicationId,
    };
  }

  private wrap(m: DriverMessage, signal?: AbortSignal): Promise<Message<T>> {
    return decodeDriverMessage(m, {
      codec: this.codec,
      queueName: this.name,
      claimCheck: this.shared.claimCheck,
      signal,
      provider: this.provider,
    });
  }

  private async releaseClaims(msgs: readonly ReceivedMessage<T>[], results: readonly AckResult[]) {
    const bucket = this.shared.claimCheck?.bucket;
    if (!bucket) return;
    const keys = msgs.filter((m, i) => m.claimKey !== undefined && results[i]?.ok).map((m) => m.claimKey!);
    if (keys.length > 0) await bucket.deleteMany(keys);
  }
}
