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
  /** Sends `req` through the binding as the platform would deliver it. */
  fetch(req: Request): Promise<Response>;
  /** Stops whatever serves the function. */
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
  /** Runs one trigger round over the queue; `failed` lists the ids the binding reported as failed. */
  deliver(fn: QueueFunction<unknown>): Promise<{ readonly failed?: readonly string[] }>;
  /** Deletes the queue and the claim-check objects. */
  cleanup(): Promise<void>;
}

/** A fresh bucket; `put` / `remove` change it for real and deliver the platform's event for it. */
export interface FunctionsBlobRig {
  readonly bucket: Bucket;
  /** Writes `key` and delivers the platform's created event for it. */
  put(key: string, body: Uint8Array): Promise<void>;
  /** Deletes `key` and delivers the platform's deleted event for it. */
  remove(key: string): Promise<void>;
  /** Deletes the bucket and what is in it. */
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
  /** Serves `fn` through the binding. */
  http(fn: HttpFunction): Promise<FunctionsHttpRig>;
  /** A fresh queue wired to the binding's queue trigger. */
  queue(): Promise<FunctionsQueueRig>;
  /** Fires one tick of the schedule through the binding. */
  schedule(fn: ScheduleFunction): Promise<void>;
  /** A fresh bucket whose changes reach `fn` through the binding's blob trigger. */
  blob(fn: BlobEventFunction): Promise<FunctionsBlobRig>;
  /**
   * Delivers a malformed event to the binding: returns what the binding threw, or the Response
   * when the binding answers over HTTP.
   */
  malformed(fn: PortableFunction): Promise<unknown>;
  /** Optional: suite-wide setup (start a runtime, create shared resources). */
  beforeAll?(): Promise<void>;
  /** Optional: suite-wide teardown. */
  afterAll?(): Promise<void>;
}
