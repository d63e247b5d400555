import { createHash } from 'node:crypto';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { PolycloudError, QueueCapabilities } from '@polycloud/core';
import {
  type DriverMessage,
  type DriverOutgoing,
  defineCapabilities,
  pcError,
  type QueueDriver,
} from '@polycloud/core/driver/base';
import { mapAwsError } from '../errors.js';
import { attributeSize, BODY_MARKER, encodeAttribute, encodeBody } from './codec.js';
import { sqsDriverMessage } from './received.js';
import { UNGROUPED_PREFIX } from './ungrouped.js';

/** SQS batch limit for send, delete and receive. */
const MAX_BATCH = 10;
/** SQS allows 10 message attributes; polycloud keeps one for its body marker and one for claim checks. */
const MAX_USER_ATTRIBUTES = 8;
/** Bytes reserved for attribute data types and the body marker when sizing a message. */
const ENVELOPE_OVERHEAD = 256;

/** Prefix of the MessageGroupId of FIFO messages sent without a `groupId` (see ungrouped.ts). */
export { UNGROUPED_PREFIX } from './ungrouped.js';

/**
 * The MessageGroupId of a FIFO message sent without a `groupId`: a group of its own, named after
 * the message's deduplication key (the caller's or generated deduplication id, or with
 * content-based deduplication the SHA-256 of the body SQS hashes). Messages without a group are
 * therefore neither ordered nor blocked behind one another (as on every polycloud queue, order
 * is promised only within a `groupId`), and two sends SQS would deduplicate land in the same
 * group, so deduplication holds under either `DeduplicationScope` (`queue` or `messageGroup`).
 */
export function ungroupedGroupId(deduplicationKey: string): string {
  return `${UNGROUPED_PREFIX}${createHash('sha256').update(deduplicationKey, 'utf8').digest('base64url')}`;
}

/** What the driver learnt about the queue when it was opened. */
export interface SqsQueueInfo {
  readonly queueUrl: string;
  readonly name: string;
  readonly fifo: boolean;
  readonly contentBasedDeduplication: boolean;
  /** The queue's MaximumMessageSize (bytes of body plus attributes, also the batch total). */
  readonly maximumMessageSize: number;
  /** A RedrivePolicy is configured: SQS dead-letters messages itself. */
  readonly redrive: boolean;
}

/**
 * Reads the attributes that decide the capabilities. Capabilities are frozen per opened queue:
 * reopen after changing the queue's RedrivePolicy or MaximumMessageSize.
 */
export async function describeQueue(
  client: SQSClient,
  queueUrl: string,
  name: string,
  signal?: AbortSignal,
): Promise<SqsQueueInfo> {
  try {
    const out = await client.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['RedrivePolicy', 'MaximumMessageSize', 'FifoQueue', 'ContentBasedDeduplication'],
      }),
      { abortSignal: signal },
    );
    const a = out.Attributes ?? {};
    const max = Number(a.MaximumMessageSize);
    return {
      queueUrl,
      name,
      fifo: a.FifoQueue === 'true' || name.endsWith('.fifo'),
      contentBasedDeduplication: a.ContentBasedDeduplication === 'true',
      maximumMessageSize: Number.isFinite(max) && max > 0 ? max : 262_144,
      redrive: typeof a.RedrivePolicy === 'string' && a.RedrivePolicy.trim() !== '',
    };
  } catch (err) {
    throw mapAwsError(err, { service: 'queue', operation: 'open', name });
  }
}

/**
 * What an SQS queue supports, from its attributes: FIFO queues take no per-message delay but
 * add message groups and deduplication; a redrive policy means native dead-lettering.
 */
export function sqsCapabilities(info: SqsQueueInfo): QueueCapabilities {
  return defineCapabilities({
    // FIFO queues take a delay only as a queue setting, not per message.
    delay: !info.fifo,
    maxDelaySeconds: info.fifo ? 0 : 900,
    attributes: true,
    maxAttributes: MAX_USER_ATTRIBUTES,
    groupId: info.fifo,
    deduplicationId: info.fifo,
    nack: true,
    nackDelay: true,
    extend: true,
    visibilityTimeout: true,
    maxVisibilitySeconds: 43_200,
    nativeDeadLetter: info.redrive,
    deliveryCount: true,
    // Binary bodies travel as base64 (4/3 of their size), so the declared limit is what any
    // body fits in after encoding.
    maxMessageBytes: Math.floor(((info.maximumMessageSize - ENVELOPE_OVERHEAD) * 3) / 4),
    maxBatchSize: MAX_BATCH,
    maxReceiveMessages: MAX_BATCH,
    maxWaitSeconds: 20,
  });
}

type Sig = { signal: AbortSignal | undefined };
type SendResult = { id: string } | { error: PolycloudError };

interface Prepared {
  readonly index: number;
  readonly entry: Omit<SendMessageBatchRequestEntry, 'Id'>;
  readonly size: number;
}

/**
 * SQS `QueueDriver`: SendMessageBatch (≤10 entries and ≤ the queue's size limit per call, with
 * per-entry results), long-polling ReceiveMessage, DeleteMessageBatch, ChangeMessageVisibility.
 */
export class SqsQueueDriver implements QueueDriver {
  readonly provider = 'aws';
  readonly name: string;
  readonly capabilities: QueueCapabilities;
  /** Every SQS call passes the attempt's signal, and the SDK's HTTP handler destroys the request on abort. */
  readonly signalEndsRequests = true;
  readonly queueUrl: string;
  private readonly client: SQSClient;
  private readonly ownsClient: boolean;
  private readonly info: SqsQueueInfo;
  /** FIFO deduplication ids the driver generated, kept per message so a retried send reuses them. */
  private readonly dedup = new WeakMap<DriverOutgoing, string>();

  constructor(cfg: { client: SQSClient; info: SqsQueueInfo; ownsClient: boolean }) {
    this.client = cfg.client;
    this.info = cfg.info;
    this.name = cfg.info.name;
    this.queueUrl = cfg.info.queueUrl;
    this.ownsClient = cfg.ownsClient;
    this.capabilities = sqsCapabilities(cfg.info);
  }

  native(): SQSClient {
    return this.client;
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }

  private err(err: unknown, operation: string): PolycloudError {
    return mapAwsError(err, { service: 'queue', operation, name: this.name });
  }

  private prepare(m: DriverOutgoing, index: number): Prepared {
    const { text, marker } = encodeBody(m.body);
    const attrs: Record<string, MessageAttributeValue> = {};
    for (const [k, v] of Object.entries(m.attributes)) attrs[k] = encodeAttribute(v);
    if (marker !== undefined) attrs[BODY_MARKER] = { DataType: 'String', StringValue: marker };
    let size = Buffer.byteLength(text, 'utf8');
    for (const [k, v] of Object.entries(attrs)) size += attributeSize(k, v);
    const entry: Omit<SendMessageBatchRequestEntry, 'Id'> = {
      MessageBody: text,
      ...(Object.keys(attrs).length > 0 ? { MessageAttributes: attrs } : {}),
    };
    if (this.info.fifo) {
      // SQS requires a MessageDeduplicationId unless the queue has content-based deduplication:
      // generate one (kept per message, so a send the portable layer retries is still
      // deduplicated) rather than let identical bodies be dropped.
      let dedup = m.deduplicationId;
      if (dedup === undefined && !this.info.contentBasedDeduplication) {
        dedup = this.dedup.get(m);
        if (dedup === undefined) {
          dedup = crypto.randomUUID();
          this.dedup.set(m, dedup);
        }
      }
      if (dedup !== undefined) entry.MessageDeduplicationId = dedup;
      // SQS also requires a MessageGroupId: without a groupId, the message gets a group of its own.
      entry.MessageGroupId = m.groupId ?? ungroupedGroupId(dedup ?? `body:${text}`);
    } else if (m.delaySeconds !== undefined && m.delaySeconds > 0) {
      entry.DelaySeconds = m.delaySeconds;
    }
    return { index, entry, size };
  }

  async send(messages: readonly DriverOutgoing[], opts: Sig): Promise<readonly SendResult[]> {
    const results: (SendResult | undefined)[] = new Array(messages.length);
    const limit = this.info.maximumMessageSize;
    // Split by count and by SQS's limit on the total payload of one batch call.
    const batches: Prepared[][] = [];
    let current: Prepared[] = [];
    let bytes = 0;
    messages.forEach((m, i) => {
      if (this.info.fifo && m.groupId?.startsWith(UNGROUPED_PREFIX)) {
        results[i] = {
          error: pcError(
            'INVALID_ARGUMENT',
            `send on queue "${this.name}" (aws): groupId must not start with "${UNGROUPED_PREFIX}", which marks messages sent without a groupId`,
            {
              provider: 'aws',
              service: 'queue',
              operation: 'send',
              resource: { name: this.name },
              retryable: false,
            },
          ),
        };
        return;
      }
      const p = this.prepare(m, i);
      if (p.size > limit) {
        results[i] = {
          error: pcError(
            'PAYLOAD_TOO_LARGE',
            `send on queue "${this.name}" (aws): the encoded message is ${p.size} bytes, over the queue's MaximumMessageSize of ${limit}`,
            {
              provider: 'aws',
              service: 'queue',
              operation: 'send',
              resource: { name: this.name },
              retryable: false,
            },
          ),
        };
        return;
      }
      if (current.length === MAX_BATCH || (current.length > 0 && bytes + p.size > limit)) {
        batches.push(current);
        current = [];
        bytes = 0;
      }
      current.push(p);
      bytes += p.size;
    });
    if (current.length > 0) batches.push(current);

    // One message alone goes out as SendMessage: the batch call costs the SDK ~20% more CPU
    // (entry ids, per-entry MD5 checks, the Successful/Failed lists) for the same request.
    const only = batches.length === 1 && batches[0]?.length === 1 ? batches[0][0] : undefined;
    if (only !== undefined) {
      try {
        await this.sendOne(only, results, opts.signal);
      } catch (err) {
        throw this.err(err, 'send');
      }
      return results.map(
        (r) =>
          r ?? {
            error: pcError('INTERNAL', 'SQS returned no message id', { provider: 'aws', service: 'queue' }),
          },
      );
    }
    let anySent = false;
    for (const batch of batches) {
      try {
        await this.sendBatch(batch, results, opts.signal);
        anySent = true;
      } catch (err) {
        // Nothing sent yet: let the portable layer retry the whole call. Otherwise report the
        // failure per message, so what was sent is not sent twice.
        if (!anySent) throw this.err(err, 'send');
        const e = this.err(err, 'send');
        for (const p of batch) results[p.index] = { error: e };
      }
    }
    return results.map(
      (r) =>
        r ?? {
          error: pcError('INTERNAL', 'SQS returned no result for a message', {
            provider: 'aws',
            service: 'queue',
          }),
        },
    );
  }

  /** One SendMessage call; a failure throws, so the portable layer retries it whole. */
  private async sendOne(p: Prepared, results: (SendResult | undefined)[], signal: AbortSignal | undefined) {
    const out = await this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, ...p.entry }), {
      abortSignal: signal,
    });
    if (out.MessageId) results[p.index] = { id: out.MessageId };
  }

  /**
   * One SendMessageBatch call. Entries the service failed on its side get a retryable error;
   * the portable layer re-sends just those (it owns retries; FIFO deduplication ids are kept
   * per message, so a re-send cannot duplicate).
   */
  private async sendBatch(
    batch: Prepared[],
    results: (SendResult | undefined)[],
    signal: AbortSignal | undefined,
  ) {
    const out = await this.client.send(
      new SendMessageBatchCommand({
        QueueUrl: this.queueUrl,
        Entries: batch.map((p, j) => ({ Id: String(j), ...p.entry })),
      }),
      { abortSignal: signal },
    );
    for (const s of out.Successful ?? []) {
      const p = batch[Number(s.Id)];
      if (p && s.MessageId) results[p.index] = { id: s.MessageId };
    }
    for (const f of out.Failed ?? []) {
      const p = batch[Number(f.Id)];
      if (!p) continue;
      const native = Object.assign(new Error(f.Message ?? f.Code ?? 'send failed'), {
        name: f.Code ?? 'Error',
        $fault: f.SenderFault ? 'client' : 'server',
      });
      let e = this.err(native, 'send');
      if (!f.SenderFault && !e.retryable)
        e = mapAwsError(native, { service: 'queue', operation: 'send', name: this.name }, 'UNAVAILABLE');
      results[p.index] = { error: e };
    }
  }

  async receive(opts: {
    maxMessages: number;
    waitSeconds: number;
    visibilityTimeoutSeconds: number | undefined;
    signal: AbortSignal | undefined;
  }): Promise<readonly DriverMessage[]> {
    try {
      const out = await this.client.send(
        new ReceiveMessageCommand({
          QueueUrl: this.queueUrl,
          MaxNumberOfMessages: opts.maxMessages,
          WaitTimeSeconds: opts.waitSeconds,
          VisibilityTimeout: opts.visibilityTimeoutSeconds,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp', 'MessageGroupId'],
          // Older servers (and emulators) know only the deprecated name.
          AttributeNames: ['All'],
        }),
        { abortSignal: opts.signal },
      );
      return (out.Messages ?? []).map((m) =>
        sqsDriverMessage(
          {
            messageId: m.MessageId,
            body: m.Body,
            messageAttributes: m.MessageAttributes,
            systemAttributes: m.Attributes,
            receipt: m.ReceiptHandle,
          },
          this.info.fifo,
        ),
      );
    } catch (err) {
      throw this.err(err, 'receive');
    }
  }

  async ack(receipts: readonly unknown[], opts: Sig): Promise<readonly (PolycloudError | undefined)[]> {
    const results: (PolycloudError | undefined)[] = new Array(receipts.length).fill(undefined);
    for (let i = 0; i < receipts.length; i += MAX_BATCH) {
      const chunk = receipts.slice(i, i + MAX_BATCH);
      try {
        const out = await this.client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: chunk.map((r, j) => ({ Id: String(j), ReceiptHandle: receiptOf(r) })),
          }),
          { abortSignal: opts.signal },
        );
        for (const f of out.Failed ?? []) {
          const j = Number(f.Id);
          if (!Number.isInteger(j) || j < 0 || j >= chunk.length) continue;
          const native = Object.assign(new Error(f.Message ?? f.Code ?? 'delete failed'), {
            name: f.Code ?? 'Error',
          });
          results[i + j] = this.err(native, 'ack');
        }
      } catch (err) {
        const e = this.err(err, 'ack');
        for (let j = 0; j < chunk.length; j++) results[i + j] = e;
      }
    }
    return results;
  }

  async changeVisibility(receipt: unknown, seconds: number, opts: Sig): Promise<unknown> {
    try {
      await this.client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.queueUrl,
          ReceiptHandle: receiptOf(receipt),
          VisibilityTimeout: seconds,
        }),
        { abortSignal: opts.signal },
      );
      return undefined;
    } catch (err) {
      throw this.err(err, 'changeVisibility');
    }
  }
}

function receiptOf(r: unknown): string {
  if (typeof r !== 'string') {
    throw pcError(
      'INVALID_ARGUMENT',
      'this message has no SQS receipt handle; pass a message received from this queue',
      {
        provider: 'aws',
        service: 'queue',
      },
    );
  }
  return r;
}
