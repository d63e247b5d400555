import type { Bucket, KvStore, KvValue, Queue } from '@polycloud/core';
import type { EmulatorId } from './emulators/types.js';

/** What every suite harness says about where it runs. */
export interface HarnessInfo {
  /** Adapter name as shown in reports: 'memory', 'aws', 'gcp', 'azure', 'local'. */
  readonly adapter: string;
  /** The emulator the adapter runs against, or null for none (memory, local). */
  readonly emulator: EmulatorId | null;
  /**
   * Report file stem; default `${adapter}-${service}`. Second-opinion runs set it, e.g.
   * 'aws-queue-elasticmq', so both reports are kept.
   */
  readonly reportName?: string;
  /**
   * When set, the emulator could not be had and POLYCLOUD_EMULATORS=optional allowed that:
   * every test is reported "not-run" with this reason (never passed).
   */
  readonly notRun?: string | undefined;
  /** Where the code under test runs when that is not plain Node (shown in the matrix). */
  readonly runtime?: string | undefined;
}

/**
 * Blob harness. `open()` returns a bucket that is empty and belongs to this call alone
 * (a fresh bucket/container, or a fresh random prefix the harness hides). Suites call it
 * once per test; `cleanup` is awaited after the test.
 */
export interface BucketHarness extends HarnessInfo {
  /** A bucket for one test, empty and used by nothing else. */
  open(): Promise<{
    bucket: Bucket;
    /** Removes what the test left (its bucket or prefix); awaited after the test. */
    cleanup?: () => Promise<void>;
  }>;
  /** Optional: suite-wide setup (create a bucket once). */
  beforeAll?(): Promise<void>;
  /** Optional: suite-wide teardown (delete what `beforeAll` created). */
  afterAll?(): Promise<void>;
}

/**
 * Queue harness. `open()` creates a fresh queue (random name). With `deadLetter: true` it also
 * creates a dead-letter queue and, where the service has a native redrive policy, configures
 * it with `maxDeliveries` (then `nativeDeadLetter` is true on the returned queue's capabilities
 * and the suite does not pass `deadLetter` to consume()).
 */
export interface QueueHarness extends HarnessInfo {
  /** A fresh queue for one test, with its dead-letter queue when `deadLetter` is given. */
  open(opts?: { deadLetter?: { maxDeliveries: number }; visibilityTimeoutSeconds?: number }): Promise<{
    queue: Queue<unknown>;
    deadLetter?: Queue<unknown>;
    /** Deletes the queues the test used; awaited after the test. */
    cleanup?: () => Promise<void>;
  }>;
  /** Optional: suite-wide setup (create the shared resources once). */
  beforeAll?(): Promise<void>;
  /** Optional: suite-wide teardown (delete what `beforeAll` created). */
  afterAll?(): Promise<void>;
}

/** KV harness. `open(namespace)` opens the shared table under a fresh random namespace. */
export interface KvHarness extends HarnessInfo {
  /** The shared table opened under `namespace`, which no other test uses. */
  open(namespace: string): Promise<{
    kv: KvStore<KvValue>;
    /** Removes the test's entries; awaited after the test. */
    cleanup?: () => Promise<void>;
  }>;
  /** Optional: suite-wide setup (create the shared resources once). */
  beforeAll?(): Promise<void>;
  /** Optional: suite-wide teardown (delete what `beforeAll` created). */
  afterAll?(): Promise<void>;
}
