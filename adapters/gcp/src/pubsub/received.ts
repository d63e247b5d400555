import type { DriverMessage } from '@polycloud/core';

/** Pub/Sub refuses a message with neither data nor attributes; an empty body carries this. */
export const EMPTY_MARKER = 'polycloud-empty';

/**
 * A Pub/Sub message as the pull API, a push request or a messagePublished CloudEvent carries it.
 * Push and CloudEvents give `data` as base64 text and `publishTime` as RFC 3339 text.
 */
export interface PubsubMessageInput {
  readonly data?: Uint8Array | string | null;
  readonly attributes?: Readonly<Record<string, string>> | null;
  readonly messageId?: string | null;
  readonly publishTime?:
    | string
    | { seconds?: number | string | { toString(): string } | null; nanos?: number | null }
    | null;
  readonly orderingKey?: string | null;
}

/**
 * The driver-level message for a Pub/Sub message: the empty-body marker dropped, data decoded.
 * The subscription driver and the Cloud Functions binding both use it, so a message decodes
 * the same way whichever path delivers it.
 */
export function pubsubDriverMessage(
  m: PubsubMessageInput,
  deliveryCount: number,
  receipt: unknown,
): DriverMessage {
  const raw = m.data;
  const body =
    raw == null
      ? new Uint8Array()
      : typeof raw === 'string'
        ? new Uint8Array(Buffer.from(raw, 'base64'))
        : new Uint8Array(raw);
  const attributes: Record<string, string> = { ...(m.attributes ?? {}) };
  delete attributes[EMPTY_MARKER];
  const t = m.publishTime;
  let enqueuedAt: Date;
  if (typeof t === 'string') enqueuedAt = new Date(t);
  else if (t) enqueuedAt = new Date(Number(String(t.seconds ?? 0)) * 1000 + Math.floor((t.nanos ?? 0) / 1e6));
  else enqueuedAt = new Date();
  if (Number.isNaN(enqueuedAt.getTime())) enqueuedAt = new Date();
  return {
    id: m.messageId ?? '',
    body,
    attributes,
    deliveryCount,
    enqueuedAt,
    groupId: m.orderingKey ? m.orderingKey : undefined,
    receipt,
  };
}
