import type {
  BlobEventFunction,
  Bucket,
  HttpFunction,
  PortableFunction,
  Queue,
  QueueFunction,
  ScheduleFunction,
} from '@polycloud/core';
import type { HarnessInfo } from './harness.js';

/** An HTTP function served through a binding: `fetch` goes through the platform's request path. */
export interface FunctionsHttpRig {
  fetch(req: Request): Promise<Response>;
  close(): Promise<void>;
}

/**
 * A fresh queue of the provider, opened with `claimCheck` as its claim-check bucket. Messages
 * are sent with its real `send`; `deliver(fn)` runs one round of the platform's trigger over
 * what the queue holds (receive as the platform does, build its native event, call the
 * binding, delete what succeeded and make failures visible again).
 */
export interface FunctionsQueueRig {
  readonly queue: Queue<unknown>;
  readonly claimCheck: Bucket;
  deliver(fn: QueueFunction<unknown>): Promise<{ readonly failed?: readonly string[] }>;
  cleanup(): Promise<void>;
}

/** A fresh bucket; `put` / `remove` change it for real and deliver the platform's event for it. */
export interface FunctionsBlobRig {
  readonly bucket: Bucket;
  put(key: string, body: Uint8Array): Promise<void>;
  remove(key: string): Promise<void>;
  cleanup(): Promise<void>;
}

/**
 * Functions harness: one binding (Lambda, Cloud Functions, Azure Functions, serve()) and the
 * provider services its triggers come from.
 */
export interface FunctionsHarness extends HarnessInfo {
  /** The binding's name as its errors say it (e.g. "@polycloud/aws/functions", "serve()"). */
  readonly binding: string;
  /** What `ctx.provider` must say. */
  readonly provider: string;
  /** Whether the binding's context has a platform deadline. */
  readonly hasDeadline: boolean;
  http(fn: HttpFunction): Promise<FunctionsHttpRig>;
  queue(): Promise<FunctionsQueueRig>;
  /** Fires one tick of the schedule through the binding. */
  schedule(fn: ScheduleFunction): Promise<void>;
  blob(fn: BlobEventFunction): Promise<FunctionsBlobRig>;
  /**
   * Delivers a malformed event to the binding: returns what the binding threw, or the Response
   * when the binding answers over HTTP.
   */
  malformed(fn: PortableFunction): Promise<unknown>;
  beforeAll?(): Promise<void>;
  afterAll?(): Promise<void>;
}
