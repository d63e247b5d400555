import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { DriverMessage } from '@polycloud/core';
import { BODY_MARKER, decodeAttribute, decodeBody } from './codec.js';
import { UNGROUPED_PREFIX } from './ungrouped.js';

/** An SQS message as ReceiveMessage returns it, or as a Lambda SQS record carries it. */
export interface SqsReceivedInput {
  readonly messageId: string | undefined;
  readonly body: string | undefined;
  readonly messageAttributes: Readonly<Record<string, MessageAttributeValue>> | undefined;
  /** System attributes: ApproximateReceiveCount, SentTimestamp, MessageGroupId. */
  readonly systemAttributes: Readonly<Record<string, string | undefined>> | undefined;
  readonly receipt: string | undefined;
}

/**
 * The driver-level message for an SQS message: body marker and attribute encodings undone.
 * The queue driver's receive and the Lambda SQS binding both use it, so a message decodes the
 * same way whichever path delivers it.
 */
export function sqsDriverMessage(m: SqsReceivedInput, fifo: boolean): DriverMessage {
  const attributes: Record<string, string> = {};
  let marker: string | undefined;
  for (const [k, v] of Object.entries(m.messageAttributes ?? {})) {
    if (k === BODY_MARKER) marker = v.StringValue;
    else attributes[k] = decodeAttribute(v);
  }
  const sys = m.systemAttributes ?? {};
  const count = Number(sys.ApproximateReceiveCount);
  const sent = Number(sys.SentTimestamp);
  const group = sys.MessageGroupId;
  return {
    id: m.messageId ?? '',
    body: decodeBody(m.body, marker),
    attributes,
    deliveryCount: Number.isFinite(count) && count > 0 ? count : 1,
    enqueuedAt: Number.isFinite(sent) && sent > 0 ? new Date(sent) : new Date(),
    groupId: fifo && group !== undefined && !group.startsWith(UNGROUPED_PREFIX) ? group : undefined,
    receipt: m.receipt,
  };
}
