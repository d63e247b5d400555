import type { DriverMessage } from '@polycloud/core';
import type { AzureReceipt } from './driver.js';
import { decodeEnvelope } from './envelope.js';

/** A Queue Storage message as receiveMessages returns it, or as a queue trigger's input and metadata carry it. */
export interface QueueMessageInput {
  readonly messageId: string;
  readonly messageText: string;
  readonly dequeueCount: number;
  readonly insertedOn: Date;
  readonly popReceipt: string;
}

/**
 * The driver-level message for a Queue Storage message: the polycloud envelope decoded. The
 * queue driver's receive and the Azure Functions queue trigger both use it, so a message
 * decodes the same way whichever path delivers it.
 */
export function queueDriverMessage(m: QueueMessageInput): DriverMessage {
  const { body, attributes } = decodeEnvelope(m.messageText);
  const receipt: AzureReceipt = { messageId: m.messageId, popReceipt: m.popReceipt };
  return {
    id: m.messageId,
    body,
    attributes,
    deliveryCount: m.dequeueCount,
    enqueuedAt: m.insertedOn,
    groupId: undefined,
    receipt,
  };
}
