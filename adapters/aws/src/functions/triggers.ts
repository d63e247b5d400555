import {
  type BlobEvent,
  type BlobEventFunction,
  describeEvent,
  type FunctionContext,
  invalidEvent,
  type QueueFunction,
  runQueueBatch,
  type ScheduleFunction,
} from '@polycloud/core';
import { sqsDriverMessage } from '../sqs/received.js';
import type { S3EventRecord, ScheduledEvent, SqsBatchResponse, SqsRecord } from './events.js';

const SQS = '@polycloud/aws/functions (SQS)';
const S3 = '@polycloud/aws/functions (S3)';
const SCHEDULE = '@polycloud/aws/functions (EventBridge schedule)';

function records(event: unknown): unknown[] | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const r = (event as { Records?: unknown }).Records;
  return Array.isArray(r) ? r : undefined;
}

export function isSqsEvent(event: unknown): boolean {
  const r = records(event);
  return r !== undefined && r.length > 0 && (r[0] as { eventSource?: unknown })?.eventSource === 'aws:sqs';
}

export function isS3Event(event: unknown): boolean {
  const r = records(event);
  return r !== undefined && r.length > 0 && (r[0] as { eventSource?: unknown })?.eventSource === 'aws:s3';
}

export function isScheduledEvent(event: unknown): boolean {
  return (
    typeof event === 'object' &&
    event !== null &&
    (event as Record<string, unknown>)['detail-type'] === 'Scheduled Event'
  );
}

/** The queue name from an SQS ARN (arn:aws:sqs:region:account:name). */
function queueNameOf(arn: string): string {
  return arn.split(':').at(-1) ?? arn;
}

function checkSqsRecord(r: unknown, i: number): SqsRecord {
  const rec = r as Partial<SqsRecord> | null;
  if (
    typeof rec !== 'object' ||
    rec === null ||
    rec.eventSource !== 'aws:sqs' ||
    typeof rec.messageId !== 'string' ||
    typeof rec.body !== 'string' ||
    typeof rec.eventSourceARN !== 'string'
  ) {
    throw invalidEvent(
      SQS,
      `record ${i} (${describeEvent(r)})`,
      'is not an SQS record with messageId, body and eventSourceARN',
    );
  }
  return rec as SqsRecord;
}

/** The driver-level message for a Lambda SQS record: the same decoding as the SQS queue driver's receive. */
export function sqsRecordToDriverMessage(record: SqsRecord) {
  const messageAttributes: Record<
    string,
    { DataType: string; StringValue?: string; BinaryValue?: Uint8Array }
  > = {};
  for (const [k, v] of Object.entries(record.messageAttributes ?? {})) {
    messageAttributes[k] = {
      DataType: v.dataType,
      ...(v.stringValue != null ? { StringValue: v.stringValue } : {}),
      ...(v.binaryValue != null ? { BinaryValue: new Uint8Array(Buffer.from(v.binaryValue, 'base64')) } : {}),
    };
  }
  return sqsDriverMessage(
    {
      messageId: record.messageId,
      body: record.body,
      messageAttributes,
      systemAttributes: record.attributes,
      receipt: record.receiptHandle,
    },
    record.eventSourceARN.endsWith('.fifo'),
  );
}

/** Runs a queue function over an SQS batch; failed messages come back in `batchItemFailures`. */
export async function handleSqsEvent<T>(
  fn: QueueFunction<T>,
  event: unknown,
  ctx: FunctionContext,
): Promise<SqsBatchResponse> {
  const rs = records(event);
  if (!rs || !isSqsEvent(event)) {
    throw invalidEvent(
      SQS,
      `event (${describeEvent(event)})`,
      'is not an SQS event (Records with eventSource "aws:sqs"); wire this function to an SQS event source mapping',
    );
  }
  const recs = rs.map(checkSqsRecord);
  const msgs = recs.map(sqsRecordToDriverMessage);
  const failures = await runQueueBatch(fn, msgs, ctx, {
    queueName: queueNameOf(recs[0]!.eventSourceARN),
    provider: 'aws',
  });
  return { batchItemFailures: failures.map((f) => ({ itemIdentifier: f.id })) };
}

/** S3 event keys are URL-encoded with '+' for spaces. */
export function decodeS3Key(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch (err) {
    throw invalidEvent(S3, `object key "${key}"`, 'is not valid URL encoding', err);
  }
}

/**
 * Turns one S3 notification record into a portable `BlobEvent` (index `i` names the record in errors).
 * Throws INVALID_ARGUMENT when the record is not an S3 object event.
 */
export function s3RecordToBlobEvent(r: unknown, i: number): BlobEvent {
  const rec = r as Partial<S3EventRecord> | null;
  const obj = rec?.s3?.object;
  const bucket = rec?.s3?.bucket?.name;
  if (
    typeof rec !== 'object' ||
    rec === null ||
    typeof rec.eventName !== 'string' ||
    typeof obj?.key !== 'string' ||
    typeof bucket !== 'string'
  ) {
    throw invalidEvent(
      S3,
      `record ${i} (${describeEvent(r)})`,
      'is not an S3 notification record with eventName, s3.bucket.name and s3.object.key',
    );
  }
  let type: BlobEvent['type'];
  if (rec.eventName.startsWith('ObjectCreated:')) type = 'created';
  else if (rec.eventName.startsWith('ObjectRemoved:')) type = 'deleted';
  else
    throw invalidEvent(
      S3,
      `record ${i} event "${rec.eventName}"`,
      'is neither ObjectCreated:* nor ObjectRemoved:*; subscribe only to those',
    );
  return {
    type,
    bucket,
    key: decodeS3Key(obj.key),
    size: typeof obj.size === 'number' ? obj.size : undefined,
    etag: typeof obj.eTag === 'string' && obj.eTag !== '' ? obj.eTag.replace(/^"|"$/g, '') : undefined,
    time: rec.eventTime ? new Date(rec.eventTime) : new Date(),
  };
}

/** Runs a blob-event function for every record; a throw fails the invocation so Lambda retries it. */
export async function handleS3Event(
  fn: BlobEventFunction,
  event: unknown,
  ctx: FunctionContext,
): Promise<void> {
  const rs = records(event);
  if (!rs || !isS3Event(event)) {
    throw invalidEvent(
      S3,
      `event (${describeEvent(event)})`,
      'is not an S3 event notification (Records with eventSource "aws:s3")',
    );
  }
  const events = rs.map(s3RecordToBlobEvent);
  for (const e of events) await fn.handler(e, ctx);
}

/**
 * Runs a schedule function for an EventBridge scheduled event; any other event is rejected with
 * INVALID_ARGUMENT, so a misrouted trigger fails loudly rather than firing the schedule.
 */
export async function handleScheduledEvent(
  fn: ScheduleFunction,
  event: unknown,
  ctx: FunctionContext,
): Promise<void> {
  if (!isScheduledEvent(event)) {
    throw invalidEvent(
      SCHEDULE,
      `event (${describeEvent(event)})`,
      'is not an EventBridge "Scheduled Event"; use the rule\'s default input (no input transformer)',
    );
  }
  const e = event as ScheduledEvent;
  const time = new Date(e.time);
  await fn.handler(
    {
      scheduledTime: Number.isNaN(time.getTime()) ? new Date() : time,
      cron: fn.cron,
      source: e.resources?.[0],
    },
    ctx,
  );
}
