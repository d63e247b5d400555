import type { Bucket } from '../blob/bucket.js';
import { invalidArgument } from '../errors.js';
import { type Codec, jsonCodec } from '../queue/codec.js';
import type { DriverMessage } from '../queue/driver.js';
import { claimKeyOf, decodeDriverMessage } from '../queue/queue.js';
import type { Message } from '../queue/types.js';
import type { FunctionContext } from './context.js';

/** Handles one message; a throw reports that message as failed, so the platform redelivers it. */
export type QueueHandler<T> = (message: Message<T>, ctx: FunctionContext) => void | Promise<void>;

/** Options of `queueFunction`; they must match how the sending queue was opened, so bodies decode the same. */
export interface QueueFunctionOptions<T> {
  /** How bodies were encoded by `Queue.send`; JSON by default (as `openQueue`). */
  readonly codec?: Codec<T>;
  /** The claim-check bucket the sender's queue was opened with, for bodies over the message limit. */
  readonly claimCheck?: { readonly bucket: Bucket; readonly prefix?: string };
  /** Messages of one batch handled at once (different groups only); default 1. */
  readonly concurrency?: number;
}

/** A portable queue worker; bind it with a platform binding or `serve()`. */
export interface QueueFunction<T = unknown> {
  readonly kind: 'queue';
  // Method syntax keeps a QueueFunction<Job> usable where any queue function is taken (PortableFunction).
  /** Handles one decoded message; a throw makes the platform deliver it again. */
  handler(message: Message<T>, ctx: FunctionContext): void | Promise<void>;
  readonly codec: Codec<T>;
  readonly claimCheck: QueueFunctionOptions<T>['claimCheck'];
  readonly concurrency: number;
}

/**
 * Declares a queue worker. It gets the same `Message<T>` that `consume()` gives (body,
 * attributes, id, deliveryCount) from the platform's trigger.
 *
 * @example
 * export const worker = queueFunction<{ userId: string }>(async (msg, ctx) => { await work(msg.body) });
 */
export function queueFunction<T = unknown>(
  handler: QueueHandler<T>,
  opts: QueueFunctionOptions<T> = {},
): QueueFunction<T> {
  if (typeof handler !== 'function')
    throw invalidArgument('queueFunction: handler must be a function', { service: 'functions' });
  const concurrency = opts.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw invalidArgument('queueFunction: concurrency must be a positive integer', { service: 'functions' });
  return {
    kind: 'queue',
    handler,
    codec: opts.codec ?? (jsonCodec as Codec<T>),
    claimCheck: opts.claimCheck,
    concurrency,
  };
}

/** One message of a batch that was not handled: the platform must deliver it again. */
export interface QueueItemFailure {
  readonly id: string;
  readonly error: unknown;
}

/**
 * Runs a batch of trigger messages through the handler: decoded exactly as `receive()` decodes
 * them, groups kept in order (after a failure, the rest of that group fails too, so order
 * holds on redelivery), claim-check blobs deleted once their message succeeded.
 */
export async function runQueueBatch<T>(
  fn: QueueFunction<T>,
  messages: readonly DriverMessage[],
  ctx: FunctionContext,
  source: { readonly queueName: string; readonly provider: string },
): Promise<readonly QueueItemFailure[]> {
  const failures: QueueItemFailure[] = [];
  const lanes = new Map<string, DriverMessage[]>();
  messages.forEach((m, i) => {
    const lane = m.groupId !== undefined ? `g:${m.groupId}` : `m:${i}`;
    const list = lanes.get(lane);
    if (list) list.push(m);
    else lanes.set(lane, [m]);
  });
  const queue = [...lanes.values()];
  const runLane = async (lane: DriverMessage[]) => {
    for (let i = 0; i < lane.length; i++) {
      const m = lane[i]!;
      try {
        await runOne(fn, m, ctx, source);
      } catch (error) {
        failures.push({ id: m.id, error });
        for (const rest of lane.slice(i + 1)) {
          failures.push({
            id: rest.id,
            error: new Error(`an earlier message of group "${m.groupId}" failed`),
          });
        }
        return;
      }
    }
  };
  const workers = Array.from({ length: Math.min(fn.concurrency, queue.length) }, async () => {
    for (let lane = queue.shift(); lane !== undefined; lane = queue.shift()) await runLane(lane);
  });
  await Promise.all(workers);
  const order = new Map(messages.map((m, i) => [m.id, i]));
  return failures.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
}

async function runOne<T>(
  fn: QueueFunction<T>,
  m: DriverMessage,
  ctx: FunctionContext,
  source: { readonly queueName: string; readonly provider: string },
): Promise<void> {
  let message: Message<T>;
  try {
    message = await decodeDriverMessage(m, {
      codec: fn.codec,
      queueName: source.queueName,
      claimCheck: fn.claimCheck,
      signal: ctx.signal,
      provider: source.provider,
    });
    await fn.handler(message, ctx);
  } catch (err) {
    ctx.logger.error('the queue handler failed; the message will be delivered again', {
      messageId: m.id,
      deliveryCount: m.deliveryCount,
      error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    });
    throw err;
  }
  const key = claimKeyOf(message);
  if (key !== undefined && fn.claimCheck) {
    // The platform deletes the message after success; its claim-check blob goes with it. A
    // failed delete leaves an orphan blob, not a lost message, so it is only logged.
    await fn.claimCheck.bucket.delete(key).catch((err: unknown) => {
      ctx.logger.warn('could not delete the claim-check blob of a handled message', {
        messageId: m.id,
        key,
        error: String(err),
      });
    });
  }
}
