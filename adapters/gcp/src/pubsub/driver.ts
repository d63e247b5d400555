import { type ClientConfig, PubSub, type Topic } from '@google-cloud/pubsub';
import type { PolycloudError, QueueCapabilities } from '@polycloud/core';
import {
  checkEndpointTransport,
  type DriverMessage,
  type DriverOutgoing,
  type DriverReceiver,
  defineCapabilities,
  invalidArgument,
  type QueueDriver,
} from '@polycloud/core/driver/base';
import { emulatorAuthClient } from '../endpoint.js';
import { deadlineOf, type ErrorContext, gcpError, grpcCodeOf, raceSignal } from '../errors.js';
import { EMPTY_MARKER, pubsubDriverMessage } from './received.js';
import { type PulledMessage, StreamingPullReceiver } from './streaming.js';

/** Messages per publish RPC: bounds the duplicates a retried, already-landed publish can cause. */
const PUBLISH_BATCH = 100;
/**
 * Pub/Sub's limit is 10 MB for a message (data, attributes, ordering key) and for a publish
 * request. Portable bodies plus attributes may use all but 64 KiB of it, which leaves room
 * for the ordering key (≤ 1 KiB), the request framing and attribute-count overhead.
 */
const MAX_MESSAGE_BYTES = 10_000_000 - 64 * 1024;
/** In-process delivery counts kept for subscriptions without a dead-letter policy. */
const MAX_TRACKED = 100_000;

/**
 * What a Pub/Sub queue driver is built from: the topic it sends to, the subscription it
 * receives from, and how to reach the service.
 */
export interface PubSubQueueConfig {
  /** `projects/P/topics/T`, or the topic id with `projectId`. */
  readonly topic: string;
  /** `projects/P/subscriptions/S`, or the subscription id (same project as the topic). */
  readonly subscription: string;
  /** Project for a topic or subscription given as a bare id; required then (INVALID_ARGUMENT without it). */
  readonly projectId?: string;
  /** An already-configured client; `apiEndpoint` is then ignored. */
  readonly client?: PubSub;
  /** e.g. `127.0.0.1:8085` for an emulator; default PUBSUB_EMULATOR_HOST, else the service. */
  readonly apiEndpoint?: string;
  /**
   * Allows a plain-text endpoint on a host other than this machine (refused by default:
   * credentials and data would cross the network unencrypted). Loopback emulators need nothing.
   */
  readonly allowInsecureHttp?: boolean;
  /**
   * Hide received messages this long unless a receive says otherwise (applied with
   * modifyAckDeadline right after each pull). Default: the subscription's ack deadline.
   * Use it for visibility timeouts under Pub/Sub's 10-second minimum ack deadline.
   */
  readonly visibilityTimeoutSeconds?: number;
  /**
   * What the subscription is configured with. Read from the service when the queue is
   * opened (`pubsubQueue`, URL opening); pass it to skip that lookup.
   */
  readonly subscriptionConfig?: SubscriptionConfig;
  /**
   * How `consume()` gets messages: `'streaming'` (default) keeps StreamingPull calls open with
   * flow control bounded by the consumer's concurrency, as Google recommends for throughput and
   * latency; `'sync'` polls with synchronous Pull like `receive()`. `receive()` always uses Pull.
   */
  readonly consumePull?: 'streaming' | 'sync';
  /**
   * StreamingPull calls a consumer keeps open, sharing its flow control. Default min(5, the
   * consumer's concurrency): the library's default (maxStreams 5). pstest sends each stream at
   * most about one message per 10 ms, so there throughput grows with the streams.
   */
  readonly pullStreams?: number;
}

/** The parts of a subscription's configuration the capabilities depend on. */
export interface SubscriptionConfig {
  /** The subscription has a dead-letter policy: the service counts deliveries and dead-letters. */
  readonly deadLetter: boolean;
  /** Message ordering is enabled: ordering keys (groupId) are delivered in order. */
  readonly messageOrdering: boolean;
  /** The subscription's ack deadline in seconds. */
  readonly ackDeadlineSeconds: number;
}

/** Capabilities for a subscription configured as `sub` says. */
export function pubsubCapabilities(sub: SubscriptionConfig): QueueCapabilities {
  return defineCapabilities({
    // Pub/Sub has no per-message delay.
    delay: false,
    maxDelaySeconds: 0,
    attributes: true,
    // 100 per message; one is left for the portable layer's claim-check reference.
    maxAttributes: 99,
    groupId: sub.messageOrdering,
    deduplicationId: false,
    nack: true,
    nackDelay: true,
    extend: true,
    visibilityTimeout: true,
    maxVisibilitySeconds: 600,
    nativeDeadLetter: sub.deadLetter,
    // deliveryAttempt where a dead-letter policy exists, else counted by this driver.
    deliveryCount: true,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    maxBatchSize: 1000,
    maxReceiveMessages: 1000,
    maxWaitSeconds: 20,
  });
}

interface Receipt {
  readonly ackId: string;
  readonly messageId: string;
}

const PUBLISH_OPTIONS = {
  // Ordering keys need this on the publisher; messages without a key are unaffected.
  messageOrdering: true,
  // A publish RPC that is cut off after it landed is re-sent by the portable layer with all
  // its messages: at most PUBLISH_BATCH duplicates per reset, not a whole sendBatch.
  batching: { maxMessages: PUBLISH_BATCH, maxMilliseconds: 10, maxBytes: 9 * 1024 * 1024 },
  // gax's own retries are off: the portable layer is the one retry owner.
  gaxOpts: { retry: null },
};

/** The publisher of messages without an ordering key (no messageOrdering: flushed at will). */
const PLAIN_PUBLISH_OPTIONS = {
  batching: PUBLISH_OPTIONS.batching,
  gaxOpts: { retry: null },
};

/** `projects/P/topics/T` from a full name or an id. */
export function fullName(
  kind: 'topics' | 'subscriptions',
  name: string,
  projectId: string | undefined,
): string {
  if (name.startsWith('projects/')) {
    const parts = name.split('/');
    if (parts.length !== 4 || parts[2] !== kind || !parts[1] || !parts[3]) {
      throw invalidArgument(`"${name}" is not a ${kind.slice(0, -1)} name (projects/P/${kind}/NAME)`, {
        service: 'queue',
        operation: 'open',
      });
    }
    return name;
  }
  if (!projectId) {
    throw invalidArgument(
      `${kind.slice(0, -1)} "${name}" needs a project: pass projects/P/${kind}/${name} or projectId`,
      {
        service: 'queue',
        operation: 'open',
      },
    );
  }
  return `projects/${projectId}/${kind}/${name}`;
}

/**
 * The PubSub client a driver makes when none is given.
 *
 * @example
 * const client = pubsubClient({ projectId: 'p' });
 * const jobs = await pubsubQueue({ topic: 'jobs', subscription: 'jobs-worker', projectId: 'p', client });
 */
export function pubsubClient(opts: {
  projectId?: string;
  apiEndpoint?: string;
  allowInsecureHttp?: boolean;
}): PubSub {
  const endpoint = opts.apiEndpoint ?? process.env.PUBSUB_EMULATOR_HOST;
  let emulator = false;
  if (endpoint) {
    // The SDK's emulator mode (no TLS) is any endpoint outside googleapis.com.
    const host = endpoint.replace(/^https?:\/\//, '').split(/[:/]/)[0] ?? '';
    emulator = !host.endsWith('.googleapis.com');
    checkEndpointTransport(endpoint, {
      service: 'queue',
      provider: 'gcp',
      source: opts.apiEndpoint ? 'the apiEndpoint option' : 'PUBSUB_EMULATOR_HOST',
      plaintext: emulator,
      allow: opts.allowInsecureHttp,
    });
  }
  return new PubSub({
    ...(opts.projectId ? { projectId: opts.projectId } : {}),
    ...(opts.apiEndpoint ? { apiEndpoint: opts.apiEndpoint } : {}),
    ...(emulator ? { authClient: emulatorAuthClient as unknown as ClientConfig['authClient'] } : {}),
  });
}

/** Reads the capability-relevant configuration of a subscription. */
export async function readSubscriptionConfig(
  client: PubSub,
  subscription: string,
  signal?: AbortSignal,
): Promise<SubscriptionConfig> {
  // gax's retries are off here too: they would turn a refused connection into a TIMEOUT after
  // the whole open bound, where every other adapter answers UNAVAILABLE at once.
  const [md] = await client
    .subscription(subscription)
    .getMetadata({ retry: null, ...deadlineOf(signal, undefined) });
  return {
    deadLetter: Boolean(md.deadLetterPolicy?.deadLetterTopic),
    messageOrdering: md.enableMessageOrdering === true,
    ackDeadlineSeconds: md.ackDeadlineSeconds ?? 10,
  };
}

/**
 * The Pub/Sub driver: publishes to a topic (batched, per-message results, ordering keys for
 * groupId) and pulls synchronously from a subscription.
 */
export class PubSubQueueDriver implements QueueDriver {
  readonly provider = 'gcp';
  readonly name: string;
  readonly capabilities: QueueCapabilities;
  readonly topicName: string;
  readonly subscriptionName: string;
  private readonly client: PubSub;
  private readonly owned: boolean;
  private readonly publisher: Topic;
  /** Messages without an ordering key: flushed early (see send), which ordered queues forbid. */
  private readonly plain: Topic;
  /** Messages handed to `plain` and not settled yet. */
  private unsettled = 0;
  private kickQueued = false;
  private readonly sub: SubscriptionConfig;
  private readonly visibility: number | undefined;
  /** Whether the publisher carries a per-call deadline (cleared for calls without one). */
  private publishDeadline = false;
  /** messageId → deliveries seen by this driver (subscriptions without dead-letter policy). */
  private readonly deliveries = new Map<string, number>();
  private readonly consumePull: 'streaming' | 'sync';
  private readonly pullStreams: number | undefined;
  /** Open StreamingPull receivers, ended by close() if a consumer was not stopped first. */
  private readonly receivers = new Set<StreamingPullReceiver>();

  constructor(opts: PubSubQueueConfig & { subscriptionConfig: SubscriptionConfig; ownsClient?: boolean }) {
    const project =
      opts.projectId ?? (opts.topic.startsWith('projects/') ? opts.topic.split('/')[1] : undefined);
    this.topicName = fullName('topics', opts.topic, project);
    this.subscriptionName = fullName('subscriptions', opts.subscription, project);
    this.name = `${this.topicName.split('/')[3]}/${this.subscriptionName.split('/')[3]}`;
    this.client = opts.client ?? pubsubClient(opts);
    this.owned = opts.ownsClient ?? opts.client === undefined;
    this.sub = opts.subscriptionConfig;
    this.capabilities = pubsubCapabilities(this.sub);
    this.visibility = opts.visibilityTimeoutSeconds;
    this.consumePull = opts.consumePull ?? 'streaming';
    this.pullStreams = opts.pullStreams;
    this.publisher = this.client.topic(this.topicName, PUBLISH_OPTIONS);
    // An ordered queue must not be flushed while one of its batches is in flight (the library
    // would send the next batch alongside it), so messages without a key get their own publisher.
    this.plain = this.client.topic(this.topicName, PLAIN_PUBLISH_OPTIONS);
  }

  async send(
    messages: readonly DriverOutgoing[],
    opts: { signal: AbortSignal | undefined },
  ): Promise<readonly ({ id: string } | { error: PolycloudError })[]> {
    const ctx = this.ctx('send');
    const publish = (m: DriverOutgoing): Promise<string> => {
      const attributes: Record<string, string> = { ...m.attributes };
      if (m.body.byteLength === 0 && Object.keys(attributes).length === 0) attributes[EMPTY_MARKER] = '1';
      const data = Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength);
      try {
        if (m.groupId === undefined) return this.plain.publishMessage({ data, attributes });
        return this.publisher
          .publishMessage({
            data,
            attributes,
            ...(m.groupId !== undefined ? { orderingKey: m.groupId } : {}),
          })
          .catch((err: unknown) => {
            // An ordering key stops publishing after a failure until it is resumed.
            if (m.groupId !== undefined) this.publisher.resumePublishing(m.groupId);
            throw err;
          });
      } catch (err) {
        return Promise.reject(err);
      }
    };
    // One publish RPC in flight at a time: publish calls share one HTTP/2 connection, so a
    // reset fails every call in flight, landed or not, and the portable layer re-sends them.
    // Sending a batch's RPCs one after another bounds that to PUBLISH_BATCH duplicates.
    const out: ({ id: string } | { error: PolycloudError })[] = [];
    for (let i = 0; i < messages.length; i += PUBLISH_BATCH) {
      // The publish RPC takes a deadline, not a signal: give it the attempt's, so a timed-out
      // send does not leave an RPC running (and the process alive) for gax's default 60 s.
      const deadline = deadlineOf(opts.signal, undefined);
      if (deadline.timeout !== undefined || this.publishDeadline) {
        this.publishDeadline = deadline.timeout !== undefined;
        this.publisher.setPublishOptions({
          ...PUBLISH_OPTIONS,
          gaxOpts: { ...PUBLISH_OPTIONS.gaxOpts, ...deadline },
        });
        this.plain.setPublishOptions({
          ...PLAIN_PUBLISH_OPTIONS,
          gaxOpts: { ...PLAIN_PUBLISH_OPTIONS.gaxOpts, ...deadline },
        });
      }
      const chunk = messages.slice(i, i + PUBLISH_BATCH);
      const plain = chunk.filter((m) => m.groupId === undefined).length;
      // A send that finds nothing in flight is published at once instead of waiting out the
      // batching window; sends that arrive while a publish is in flight share the next request,
      // which goes out as soon as that publish returns (or when the window ends).
      const idle = this.unsettled === 0;
      this.unsettled += plain;
      const all = Promise.allSettled(chunk.map(publish));
      if (idle && plain > 0) this.flushPlain();
      const settled = await raceSignal(
        all.finally(() => {
          this.unsettled -= plain;
          if (plain > 0) this.kick();
        }),
        opts.signal,
      );
      for (const r of settled)
        out.push(r.status === 'fulfilled' ? { id: r.value } : { error: gcpError(r.reason, ctx, 'grpc') });
    }
    return out;
  }

  async receive(opts: {
    maxMessages: number;
    waitSeconds: number;
    visibilityTimeoutSeconds: number | undefined;
    signal: AbortSignal | undefined;
  }): Promise<readonly DriverMessage[]> {
    const ctx = this.ctx('receive');
    const deadline = Date.now() + opts.waitSeconds * 1000;
    let pulled: PulledMessage[] = [];
    for (;;) {
      // Long-poll while at least a second is left; the rest is one immediate pull (a call cut
      // off by its deadline can leave messages leased until their ack deadline passes).
      const left = deadline - Date.now();
      const immediate = opts.waitSeconds === 0 || left < 1000;
      const timeout = immediate ? 30_000 : left;
      const started = Date.now();
      try {
        pulled = await raceSignal(
          this.call<{ receivedMessages?: PulledMessage[] | null }>(
            'SubscriberClient',
            'pull',
            {
              subscription: this.subscriptionName,
              maxMessages: opts.maxMessages,
              returnImmediately: immediate,
            },
            immediate ? { timeout } : { timeout, retry: null },
            opts.signal,
          ).then((r) => r.receivedMessages ?? []),
          opts.signal,
        );
      } catch (err) {
        // The deadline ending a long poll means "nothing yet". grpc-js reports it as
        // DEADLINE_EXCEEDED, or now and then as CANCELLED when its timer wins a race.
        const code = grpcCodeOf(err);
        const expired = Date.now() - started >= timeout - 20;
        if (!immediate && !opts.signal?.aborted && (code === 4 || (code === 1 && expired))) pulled = [];
        else throw gcpError(err, ctx, 'grpc');
      }
      if (pulled.length > 0 || immediate) break;
    }
    if (pulled.length === 0) return [];
    const visibility = opts.visibilityTimeoutSeconds ?? this.visibility;
    if (visibility !== undefined && visibility !== this.sub.ackDeadlineSeconds) {
      const ackIds = pulled.map((p) => p.ackId ?? '').filter((a) => a.length > 0);
      try {
        await this.call(
          'SubscriberClient',
          'modifyAckDeadline',
          { subscription: this.subscriptionName, ackIds, ackDeadlineSeconds: visibility },
          undefined,
          opts.signal,
        );
      } catch (err) {
        // The messages stay received with the subscription's deadline; report the failure.
        throw gcpError(err, ctx, 'grpc');
      }
    }
    return pulled.map((p) => this.toMessage(p));
  }

  async ack(
    receipts: readonly unknown[],
    opts: { signal: AbortSignal | undefined },
  ): Promise<readonly (PolycloudError | undefined)[]> {
    const rs = receipts as readonly Receipt[];
    try {
      await raceSignal(
        this.call(
          'SubscriberClient',
          'acknowledge',
          { subscription: this.subscriptionName, ackIds: rs.map((r) => r.ackId) },
          undefined,
          opts.signal,
        ),
        opts.signal,
      );
    } catch (err) {
      const e = gcpError(err, this.ctx('ack'), 'grpc');
      return rs.map(() => e);
    }
    for (const r of rs) this.deliveries.delete(r.messageId);
    return rs.map(() => undefined);
  }

  async changeVisibility(
    receipt: unknown,
    seconds: number,
    opts: { signal: AbortSignal | undefined },
  ): Promise<unknown> {
    const r = receipt as Receipt;
    try {
      await raceSignal(
        this.call(
          'SubscriberClient',
          'modifyAckDeadline',
          { subscription: this.subscriptionName, ackIds: [r.ackId], ackDeadlineSeconds: seconds },
          undefined,
          opts.signal,
        ),
        opts.signal,
      );
    } catch (err) {
      throw gcpError(err, this.ctx(seconds === 0 ? 'nack' : 'changeVisibility'), 'grpc');
    }
    return undefined;
  }

  /** `consume()` reads StreamingPull (unless `consumePull: 'sync'`): see StreamingPullReceiver. */
  openReceiver(opts: {
    maxOutstanding: number;
    visibilityTimeoutSeconds: number | undefined;
  }): DriverReceiver | undefined {
    if (this.consumePull !== 'streaming') return undefined;
    const visibility = opts.visibilityTimeoutSeconds ?? this.visibility;
    const receiver = new StreamingPullReceiver(
      {
        client: this.client,
        subscription: this.subscriptionName,
        ackDeadlineSeconds: this.sub.ackDeadlineSeconds,
        toMessage: (p) => this.toMessage(p),
        modify: (ackIds, seconds, timeoutMs) =>
          this.call(
            'SubscriberClient',
            'modifyAckDeadline',
            { subscription: this.subscriptionName, ackIds, ackDeadlineSeconds: seconds },
            { timeout: timeoutMs },
          ).then(() => undefined),
        ctx: (operation) => this.ctx(operation),
      },
      {
        maxOutstanding: opts.maxOutstanding,
        visibilityTimeoutSeconds: visibility,
        streams: Math.min(this.pullStreams ?? 5, opts.maxOutstanding),
      },
    );
    this.receivers.add(receiver);
    const close = receiver.close.bind(receiver);
    receiver.close = () => close().finally(() => this.receivers.delete(receiver));
    return receiver;
  }

  /** Publishes what waits in the unordered batch now; errors reach each message's own promise. */
  private flushPlain(): void {
    this.plain.flush().catch(() => {});
  }

  /** After a publish returns: send what queued up meanwhile (once per tick, not per message). */
  private kick(): void {
    if (this.kickQueued) return;
    this.kickQueued = true;
    queueMicrotask(() => {
      this.kickQueued = false;
      if (this.unsettled > 0) this.flushPlain();
    });
  }

  async close(): Promise<void> {
    try {
      await Promise.all([
        this.publisher.flush(),
        this.plain.flush(),
        ...[...this.receivers].map((r) => r.close()),
      ]);
    } finally {
      if (this.owned) await this.client.close();
    }
  }

  /** The Pub/Sub client. */
  native(): PubSub {
    return this.client;
  }

  private toMessage(p: PulledMessage): DriverMessage {
    const m = p.message ?? {};
    const id = m.messageId ?? '';
    let deliveryCount: number;
    if (this.sub.deadLetter && p.deliveryAttempt) {
      deliveryCount = p.deliveryAttempt;
    } else {
      deliveryCount = (this.deliveries.get(id) ?? 0) + 1;
      this.deliveries.delete(id);
      this.deliveries.set(id, deliveryCount);
      if (this.deliveries.size > MAX_TRACKED) {
        const oldest = this.deliveries.keys().next().value;
        if (oldest !== undefined) this.deliveries.delete(oldest);
      }
    }
    const receipt: Receipt = { ackId: p.ackId ?? '', messageId: id };
    return pubsubDriverMessage(m, deliveryCount, receipt);
  }

  private call<T = unknown>(
    client: 'SubscriberClient' | 'PublisherClient',
    method: string,
    reqOpts: object,
    gaxOpts?: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // gax's own retries are off unless a call says otherwise: the portable layer retries.
      const opts = { retry: null, ...gaxOpts, ...deadlineOf(signal, gaxOpts?.timeout) };
      this.client.request<T>({ client, method, reqOpts, gaxOpts: opts }, (err, res) => {
        if (err) reject(err);
        else resolve(res as T);
      });
    });
  }

  private ctx(operation: string): ErrorContext {
    return { service: 'queue', operation, name: this.name };
  }
}
