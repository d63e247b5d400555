import type { QueueCapabilities } from '../capabilities.js';
import type { PolycloudError } from '../errors.js';

/** A message as the driver sends it: body already encoded. */
export interface DriverOutgoing {
  readonly body: Uint8Array;
  readonly attributes: Readonly<Record<string, string>>;
  readonly delaySeconds: number | undefined;
  readonly groupId: string | undefined;
  readonly deduplicationId: string | undefined;
}

/** A message as the driver receives it. `receipt` is whatever the service needs to ack it. */
export interface DriverMessage {
  readonly id: string;
  readonly body: Uint8Array;
  readonly attributes: Readonly<Record<string, string>>;
  readonly deliveryCount: number;
  readonly enqueuedAt: Date;
  readonly groupId: string | undefined;
  readonly receipt: unknown;
}

/**
 * A receiver over a long-lived connection that pushes messages (Pub/Sub streaming pull), which
 * `consume()` reads instead of polling `QueueDriver.receive`. It holds at most about
 * `maxOutstanding` delivered messages it has not handed out, and keeps their leases alive.
 */
export interface DriverReceiver {
  /** As `QueueDriver.receive`: ≤ maxMessages of what was delivered, waiting up to waitSeconds for one. */
  receive(opts: {
    maxMessages: number;
    waitSeconds: number;
    signal: AbortSignal | undefined;
  }): Promise<readonly DriverMessage[]>;
  /** Ends the connection and gives back (nacks) what was delivered but not handed out. */
  close(): Promise<void>;
}

/**
 * What an adapter implements for a queue. The portable `Queue` validates, encodes, batches,
 * retries and runs consumers; the driver only talks to its service.
 */
export interface QueueDriver<TNative = unknown> {
  readonly provider: string;
  readonly name: string;
  readonly capabilities: QueueCapabilities;
  /**
   * True when every request the driver makes takes the signal it is given (the SDK destroys
   * the request when it aborts): calls then skip core's node:http safety net, whose
   * async-context scope and per-request listener cost CPU on every send. Leave it unset for an
   * SDK that ignores signals on some request.
   */
  readonly signalEndsRequests?: boolean;

  /** Sends ≤ capabilities.maxBatchSize messages; one result per message in order (id or error). */
  send(
    messages: readonly DriverOutgoing[],
    opts: { signal: AbortSignal | undefined },
  ): Promise<readonly ({ id: string } | { error: PolycloudError })[]>;

  /** Waits up to waitSeconds for at least one message; returns ≤ maxMessages (may be empty). */
  receive(opts: {
    maxMessages: number;
    waitSeconds: number;
    visibilityTimeoutSeconds: number | undefined;
    signal: AbortSignal | undefined;
  }): Promise<readonly DriverMessage[]>;

  /** Deletes received messages; an already-acked message is not an error. Results in order. */
  ack(
    receipts: readonly unknown[],
    opts: { signal: AbortSignal | undefined },
  ): Promise<readonly (PolycloudError | undefined)[]>;

  /**
   * Makes a received message visible again after `seconds` (0: now). Returns the new receipt
   * where the service issues one (Azure's pop receipt), else undefined.
   */
  changeVisibility(
    receipt: unknown,
    seconds: number,
    opts: { signal: AbortSignal | undefined },
  ): Promise<unknown>;

  /**
   * Optional: a push receiver for `consume()`, bounded by the consumer's concurrency, with every
   * handed-out message hidden for `visibilityTimeoutSeconds` (else the queue's own setting).
   * Returning undefined (or not implementing it) makes `consume()` poll `receive`.
   */
  openReceiver?(opts: {
    maxOutstanding: number;
    visibilityTimeoutSeconds: number | undefined;
  }): DriverReceiver | undefined;

  /** Releases clients and sockets the driver owns (not a native client the user passed in). */
  close(): Promise<void>;
  /** The provider SDK client the driver uses, for calls polycloud does not cover. */
  native(): TNative;
}
