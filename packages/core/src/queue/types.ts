import type { PolycloudError } from '../errors.js';

/** Options of `Queue.send`: attributes, delay, FIFO group and deduplication id. */
export interface SendOptions {
  /** String→string attributes carried with the message. */
  readonly attributes?: Readonly<Record<string, string>>;
  /** Invisible for this many seconds after sending (capability `delay`). */
  readonly delaySeconds?: number;
  /** Messages with one group id are delivered in order (capability `groupId`). */
  readonly groupId?: string;
  /** Messages with the same id within the service's window are delivered once (capability `deduplicationId`). */
  readonly deduplicationId?: string;
  readonly signal?: AbortSignal;
}

/** One message of `Queue.sendBatch`: a body and its send options. */
export interface OutgoingMessage<T> extends Omit<SendOptions, 'signal'> {
  readonly body: T;
}

/** The outcome of one message of `Queue.sendBatch`: its id, or the error it met. */
export type SendResult =
  | { readonly ok: true; readonly id: string }
  | { readonly ok: false; readonly error: PolycloudError };

/** Options of `Queue.receive`: batch size, long-poll wait and visibility timeout. */
export interface ReceiveOptions {
  /** 1..capabilities.maxReceiveMessages; default 1. */
  readonly maxMessages?: number;
  /** Long-poll up to this many seconds for the first message; default 0 (return at once). */
  readonly waitSeconds?: number;
  /** Hidden from other receivers this long; default the queue's own setting. */
  readonly visibilityTimeoutSeconds?: number;
  readonly signal?: AbortSignal;
}

/** A received message; ack it when done. */
export interface Message<T> {
  readonly id: string;
  readonly body: T;
  /** The raw body bytes. */
  readonly bytes: Uint8Array;
  readonly attributes: Readonly<Record<string, string>>;
  /** 1 on first delivery. */
  readonly deliveryCount: number;
  readonly enqueuedAt: Date;
  readonly groupId: string | undefined;
}

/** The outcome of one message of a batch `Queue.ack`. */
export type AckResult =
  | { readonly id: string; readonly ok: true }
  | { readonly id: string; readonly ok: false; readonly error: PolycloudError };
