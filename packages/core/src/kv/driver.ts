import type { KvCapabilities } from '../capabilities.js';
import type { PolycloudError } from '../errors.js';
import type { KvValue } from './types.js';

/** One stored entry as a driver returns it: value, opaque version (for `ifVersion`) and expiry. */
export interface DriverKvEntry {
  readonly key: string;
  readonly value: KvValue;
  readonly version: string;
  /** Drivers return it as stored; the portable layer hides entries past it. */
  readonly expiresAt?: Date | undefined;
}

type Sig = { signal: AbortSignal | undefined };

/**
 * What an adapter implements for key-value data, within one table and namespace.
 * Keys arrive validated. Values arrive as given (JSON or Uint8Array); `encodeKvValue` and
 * `decodeKvValue` help drivers that store bytes only.
 */
export interface KvDriver<TNative = unknown> {
  readonly provider: string;
  /** Table name (used in messages). */
  readonly name: string;
  readonly namespace: string;
  readonly capabilities: KvCapabilities;
  /**
   * True when every call settles within the turn of the event loop that made it (no I/O, no
   * timers, no waiting on other tasks), as the in-memory driver's do. The portable layer then
   * skips the per-attempt signal and bound when the caller gives no signal or `timeoutMs`: such
   * a bound could never fire. Leave it unset for anything that waits.
   */
  readonly settlesSynchronously?: boolean;
  /**
   * True when every request the driver makes takes the signal it is given (the SDK destroys
   * the request when it aborts): calls then skip core's node:http safety net, whose
   * async-context scope and per-request listener cost CPU on every call. Leave it unset for an
   * SDK that ignores signals on some request.
   */
  readonly signalEndsRequests?: boolean;

  /** The entry, or undefined when missing. May return an expired entry; the caller hides it. */
  get(key: string, opts: Sig): Promise<DriverKvEntry | undefined>;
  /** Results in input order; keys.length ≤ capabilities.maxBatchSize. */
  getMany(keys: readonly string[], opts: Sig): Promise<readonly (DriverKvEntry | undefined)[]>;
  /**
   * Writes atomically. ifAbsent: ALREADY_EXISTS when a live (unexpired) entry exists;
   * ifVersion: PRECONDITION_FAILED when missing or different. Nothing is written on failure.
   */
  set(
    key: string,
    value: KvValue,
    opts: { ifVersion: string | undefined; ifAbsent: boolean; expiresAt: Date | undefined } & Sig,
  ): Promise<{ version: string }>;
  /** Whether a live entry existed. ifVersion mismatch: PRECONDITION_FAILED. */
  delete(key: string, opts: { ifVersion: string | undefined } & Sig): Promise<boolean>;
  /** Unconditional writes; results in input order; items.length ≤ capabilities.maxBatchSize. */
  setMany(
    items: readonly { key: string; value: KvValue; expiresAt: Date | undefined }[],
    opts: Sig,
  ): Promise<readonly ({ version: string } | { error: PolycloudError })[]>;
  /** Unconditional deletes; results in input order; keys.length ≤ capabilities.maxBatchSize. */
  deleteMany(
    keys: readonly string[],
    opts: Sig,
  ): Promise<readonly ({ existed: boolean } | { error: PolycloudError })[]>;
  /** Ordered by UTF-8 bytes of the key; may include expired entries (filtered by the caller). */
  list(opts: { prefix: string; cursor: string | undefined; limit: number } & Sig): Promise<{
    entries: readonly DriverKvEntry[];
    cursor: string | undefined;
  }>;
  /** Atomic add; a missing (or expired) key counts from 0. A non-numeric value: PRECONDITION_FAILED. */
  increment(key: string, by: number, opts: Sig): Promise<{ value: number; version: string }>;

  /** Releases clients and sockets the driver owns (not a native client the user passed in). */
  close(): Promise<void>;
  /** The provider SDK client the driver uses, for calls polycloud does not cover. */
  native(): TNative;
}
