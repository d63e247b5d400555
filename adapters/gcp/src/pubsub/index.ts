/**
 * Pub/Sub for polycloud: `gcppubsub://projects/P/topics/T?subscription=S` URLs,
 * `pubsubQueue({ topic, subscription })`, and the driver.
 *
 * @example
 * import { pubsubQueue } from '@polycloud/gcp/pubsub';
 * await using jobs = await pubsubQueue<{ id: number }>({ topic: 'projects/p/topics/jobs', subscription: 'jobs-worker' });
 * await jobs.send({ id: 1 });
 */
import type { PubSub } from '@google-cloud/pubsub';
import {
  type DriverOpenOptions,
  invalidArgument,
  type QueueDriver,
  urlParams,
} from '@polycloud/core/driver/base';
import { Queue, type QueueOptions } from '@polycloud/core/queue';
import { allowInsecure } from '../endpoint.js';
import { gcpError } from '../errors.js';
import {
  fullName,
  type PubSubQueueConfig,
  PubSubQueueDriver,
  pubsubClient,
  readSubscriptionConfig,
  type SubscriptionConfig,
} from './driver.js';

export {
  fullName,
  type PubSubQueueConfig,
  PubSubQueueDriver,
  pubsubCapabilities,
  pubsubClient,
  readSubscriptionConfig,
  type SubscriptionConfig,
} from './driver.js';

/** Options for `pubsubQueue`: topic, subscription, client, and the portable options. */
export type PubSubQueueOptions<T> = PubSubQueueConfig & QueueOptions<T>;

/** A Queue whose `native()` is the Pub/Sub client. */
export type PubSubQueue<T = unknown> = Queue<T, PubSub>;

/**
 * Opens a Pub/Sub topic + subscription as a portable Queue. The subscription's configuration
 * (dead-letter policy, message ordering, ack deadline) is read once to decide the capabilities,
 * unless `subscriptionConfig` is given.
 *
 * @example
 * const q = await pubsubQueue({ topic: 'orders', subscription: 'orders-worker', projectId: 'p', client: new PubSub() });
 */
export async function pubsubQueue<T = unknown>(opts: PubSubQueueOptions<T>): Promise<PubSubQueue<T>> {
  const driver = await createDriver(opts);
  return new Queue<T, PubSub>(driver, opts);
}

async function createDriver(opts: PubSubQueueConfig, signal?: AbortSignal): Promise<PubSubQueueDriver> {
  const project =
    opts.projectId ?? (opts.topic.startsWith('projects/') ? opts.topic.split('/')[1] : undefined);
  const subscription = fullName('subscriptions', opts.subscription, project);
  const topic = fullName('topics', opts.topic, project);
  if (opts.visibilityTimeoutSeconds !== undefined) {
    const v = opts.visibilityTimeoutSeconds;
    if (!Number.isInteger(v) || v < 0 || v > 600) {
      throw invalidArgument(`visibilityTimeoutSeconds must be an integer from 0 to 600, got ${v}`, {
        service: 'queue',
        operation: 'open',
      });
    }
  }
  consumeOptions(opts.consumePull, opts.pullStreams);
  const client = opts.client ?? pubsubClient(opts);
  let config: SubscriptionConfig | undefined = opts.subscriptionConfig;
  if (!config) {
    // Opening past its bound: a client made here is closed, so its channel and the lookup's
    // RPC do not keep the process alive after the caller heard TIMEOUT.
    const onAbort = () => void (opts.client ? undefined : client.close().catch(() => {}));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      config = await readSubscriptionConfig(client, subscription, signal);
    } catch (err) {
      const e = gcpError(err, { service: 'queue', operation: 'open', name: subscription }, 'grpc');
      if (e.code !== 'PERMISSION_DENIED') {
        if (!opts.client) await client.close().catch(() => {});
        throw e;
      }
      // Allowed to publish and pull but not to read the subscription: assume the defaults.
      config = { deadLetter: false, messageOrdering: false, ackDeadlineSeconds: 10 };
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }
  return new PubSubQueueDriver({
    ...opts,
    topic,
    subscription,
    client,
    subscriptionConfig: config,
    ...(opts.client ? {} : { ownsClient: true }),
  });
}

/**
 * URL opener used by core's `openQueue('gcppubsub://projects/P/topics/T?subscription=S')`.
 * `driverOptions` may carry `client` (a PubSub), `apiEndpoint`, `visibilityTimeoutSeconds`
 * and `subscriptionConfig`.
 */
export async function openQueueDriver(url: URL, opts: DriverOpenOptions): Promise<QueueDriver> {
  const params = urlParams(url, ['subscription', 'allowInsecureHttp', 'consumePull', 'pullStreams'], 'queue');
  const topic = `${url.host}${url.pathname}`.replace(/\/+$/, '');
  if (!/^projects\/[^/]+\/topics\/[^/]+$/.test(topic)) {
    throw invalidArgument(
      `${url.href} does not name a topic; use gcppubsub://projects/P/topics/T?subscription=S`,
      {
        service: 'queue',
        operation: 'open',
      },
    );
  }
  if (!params.subscription) {
    throw invalidArgument(
      `${url.href} names no subscription; add ?subscription=S (an id or projects/P/subscriptions/S)`,
      {
        service: 'queue',
        operation: 'open',
      },
    );
  }
  const d = opts.driverOptions ?? {};
  const client = d.client;
  if (
    client !== undefined &&
    (typeof client !== 'object' || client === null || typeof (client as PubSub).topic !== 'function')
  ) {
    throw invalidArgument('driverOptions.client must be a @google-cloud/pubsub PubSub', {
      service: 'queue',
      operation: 'open',
    });
  }
  return createDriver(
    {
      topic: decodeURIComponent(topic),
      subscription: decodeURIComponent(params.subscription),
      ...(client !== undefined ? { client: client as PubSub } : {}),
      ...(typeof d.apiEndpoint === 'string' ? { apiEndpoint: d.apiEndpoint } : {}),
      ...allowInsecure(params.allowInsecureHttp, d.allowInsecureHttp, 'queue'),
      ...(typeof d.visibilityTimeoutSeconds === 'number'
        ? { visibilityTimeoutSeconds: d.visibilityTimeoutSeconds }
        : {}),
      ...(isConfig(d.subscriptionConfig) ? { subscriptionConfig: d.subscriptionConfig } : {}),
      ...consumeOptions(params.consumePull ?? d.consumePull, params.pullStreams ?? d.pullStreams),
    },
    opts.signal,
  );
}

/** `consumePull` (streaming | sync) and `pullStreams` (1..32) from the URL or driverOptions. */
function consumeOptions(
  mode: unknown,
  streams: unknown,
): Pick<PubSubQueueConfig, 'consumePull' | 'pullStreams'> {
  const ctx = { service: 'queue' as const, operation: 'open' };
  if (mode !== undefined && mode !== 'streaming' && mode !== 'sync') {
    throw invalidArgument(`consumePull must be "streaming" or "sync", got ${String(mode)}`, ctx);
  }
  const n = typeof streams === 'string' ? Number(streams) : streams;
  if (n !== undefined && (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 32)) {
    throw invalidArgument(`pullStreams must be an integer from 1 to 32, got ${String(streams)}`, ctx);
  }
  return {
    ...(mode !== undefined ? { consumePull: mode } : {}),
    ...(n !== undefined ? { pullStreams: n } : {}),
  };
}

function isConfig(v: unknown): v is SubscriptionConfig {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as SubscriptionConfig).deadLetter === 'boolean' &&
    typeof (v as SubscriptionConfig).messageOrdering === 'boolean' &&
    typeof (v as SubscriptionConfig).ackDeadlineSeconds === 'number'
  );
}
