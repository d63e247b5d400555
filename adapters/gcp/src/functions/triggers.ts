import {
  type BlobEvent,
  type BlobEventFunction,
  describeEvent,
  type FunctionContext,
  invalidEvent,
  type QueueFunction,
  type QueueItemFailure,
  runQueueBatch,
  type ScheduleFunction,
} from '@polycloud/core';
import { pubsubDriverMessage } from '../pubsub/received.js';
import { decodeName } from '../storage/names.js';
import {
  type CloudEventLike,
  PUBSUB_PUBLISHED,
  type PubsubPushBody,
  STORAGE_DELETED,
  STORAGE_FINALIZED,
  type StorageObjectData,
} from './events.js';

const PUBSUB = '@polycloud/gcp/functions (Pub/Sub)';
const STORAGE = '@polycloud/gcp/functions (Cloud Storage)';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks a push body / messagePublished data and returns it typed. */
export function checkPushBody(body: unknown, what: string): PubsubPushBody {
  if (!isObject(body) || !isObject(body.message)) {
    throw invalidEvent(
      PUBSUB,
      `${what} (${describeEvent(body)})`,
      'has no "message" object; expected a Pub/Sub push body or messagePublished data',
    );
  }
  const m = body.message;
  const id = m.messageId ?? m.message_id;
  if (typeof id !== 'string' || (m.data !== undefined && typeof m.data !== 'string')) {
    throw invalidEvent(PUBSUB, what, 'has a message without a messageId or with non-base64 data');
  }
  if (m.attributes !== undefined && !isObject(m.attributes)) {
    throw invalidEvent(PUBSUB, what, 'has message attributes that are not an object');
  }
  return body as unknown as PubsubPushBody;
}

/** The driver-level message for a push body: the same decoding as the subscription driver's pull. */
export function pushBodyToDriverMessage(body: PubsubPushBody) {
  const m = body.message;
  const deliveryCount =
    typeof body.deliveryAttempt === 'number' && body.deliveryAttempt > 0 ? body.deliveryAttempt : 1;
  return pubsubDriverMessage(
    {
      data: m.data ?? null,
      attributes: m.attributes ?? null,
      messageId: m.messageId ?? m.message_id ?? null,
      publishTime: m.publishTime ?? m.publish_time ?? null,
      orderingKey: m.orderingKey ?? null,
    },
    deliveryCount,
    undefined,
  );
}

/** The subscription's short name, used as the queue name of decoded messages. */
function subscriptionName(body: PubsubPushBody): string {
  return body.subscription?.split('/').at(-1) ?? 'pubsub';
}

/** Runs a queue function for one pushed message; the failure (if any) is returned, not thrown. */
export async function runPushedMessage<T>(
  fn: QueueFunction<T>,
  body: PubsubPushBody,
  ctx: FunctionContext,
): Promise<QueueItemFailure | undefined> {
  const msg = pushBodyToDriverMessage(body);
  const [failure] = await runQueueBatch(fn, [msg], ctx, {
    queueName: subscriptionName(body),
    provider: 'gcp',
  });
  return failure;
}

/**
 * Turns a Cloud Storage finalized / deleted CloudEvent into a portable `BlobEvent`; any other
 * event type is rejected with INVALID_ARGUMENT.
 */
export function storageEventToBlobEvent(ce: CloudEventLike): BlobEvent {
  let type: BlobEvent['type'];
  if (ce.type === STORAGE_FINALIZED) type = 'created';
  else if (ce.type === STORAGE_DELETED) type = 'deleted';
  else {
    throw invalidEvent(
      STORAGE,
      `CloudEvent type "${ce.type}"`,
      `is neither ${STORAGE_FINALIZED} nor ${STORAGE_DELETED}`,
    );
  }
  const d = ce.data;
  if (!isObject(d) || typeof d.bucket !== 'string' || typeof d.name !== 'string') {
    throw invalidEvent(STORAGE, `CloudEvent ${ce.id} data (${describeEvent(d)})`, 'has no bucket and name');
  }
  const data = d as unknown as StorageObjectData;
  const size = data.size !== undefined ? Number(data.size) : Number.NaN;
  const time = new Date(ce.time ?? data.updated ?? Date.now());
  return {
    type,
    bucket: data.bucket,
    key: decodeName(data.name),
    size: Number.isFinite(size) ? size : undefined,
    // The adapter's etag is the object generation (what ifMatch takes), not Cloud Storage's etag field.
    etag: typeof data.generation === 'string' && data.generation !== '' ? data.generation : undefined,
    time: Number.isNaN(time.getTime()) ? new Date() : time,
  };
}

/** Runs a function for a CloudEvent: messagePublished for queue/schedule, storage events for blob. */
export async function handleCloudEvent(
  fn: QueueFunction<unknown> | ScheduleFunction | BlobEventFunction,
  ce: CloudEventLike,
  ctx: FunctionContext,
): Promise<void> {
  if (!isObject(ce) || typeof ce.type !== 'string') {
    throw invalidEvent(
      '@polycloud/gcp/functions (CloudEvents)',
      `event (${describeEvent(ce)})`,
      'is not a CloudEvent',
    );
  }
  if (fn.kind === 'blob') {
    await fn.handler(storageEventToBlobEvent(ce), ctx);
    return;
  }
  if (ce.type !== PUBSUB_PUBLISHED) {
    throw invalidEvent(
      PUBSUB,
      `CloudEvent type "${ce.type}"`,
      `is not ${PUBSUB_PUBLISHED}; wire this function to a Pub/Sub trigger`,
    );
  }
  const body = checkPushBody(ce.data, `CloudEvent ${ce.id} data`);
  if (fn.kind === 'schedule') {
    // A Cloud Scheduler job with a Pub/Sub target: the message is the tick.
    await fn.handler(
      { scheduledTime: new Date(ce.time ?? Date.now()), cron: fn.cron, source: ce.source },
      ctx,
    );
    return;
  }
  const failure = await runPushedMessage(fn, body, ctx);
  // The trigger redelivers a message whose function failed: rethrow (the handler's error was logged).
  if (failure) throw failure.error;
}
