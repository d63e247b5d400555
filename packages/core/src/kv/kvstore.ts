import { type KvCapabilities, requireCapability } from '../capabilities.js';
import { invalidArgument, pcError } from '../errors.js';
import { CallRunner, type PortableOptions } from '../internal/context.js';
import { perItem } from '../internal/per-item.js';
import { checkInt, checkOptions, checkString, optionsOk } from '../internal/validate.js';
import { validateKey, validatePrefix } from '../keys.js';
import type { DriverKvEntry, KvDriver } from './driver.js';
import type {
  KvDeleteResult,
  KvEntry,
  KvListOptions,
  KvListPage,
  KvSetOptions,
  KvSetResult,
  KvValue,
  KvValueOf,
} from './types.js';
import { checkKvValue, kvValueBound, kvValueSize } from './value.js';

/** Options for a KvStore: retry policy and default timeout of every call (see PortableOptions). */
export type KvStoreOptions = PortableOptions;

type Sig = { signal?: AbortSignal };

// Allowed option names, built once (an array literal in a method is a new array per call).
const SIGNAL_ONLY = ['signal'] as const;
const SET_OPTIONS = ['ifVersion', 'ifAbsent', 'ttlSeconds', 'signal'] as const;
const NOT_IDEMPOTENT = Object.freeze({ idempotent: false });

/**
 * Key-value data on any provider: a table plus a namespace, keys ordered by UTF-8 bytes,
 * versions for optimistic concurrency, TTL, atomic counters.
 *
 * @example
 * await using kv = await openKv<{ name: string }>('dynamodb://users?namespace=prod');
 * const { version } = await kv.set('u1', { name: 'Ada' }, { ifAbsent: true });
 * await kv.set('u1', { name: 'Ada L.' }, { ifVersion: version });
 */
export class KvStore<V extends KvValueOf<V> = KvValue, TNative = unknown> {
  readonly capabilities: KvCapabilities;
  readonly name: string;
  readonly namespace: string;
  readonly provider: string;
  private readonly runner: CallRunner;
  private readonly keyCtxs = new Map<
    string,
    { provider: string; service: 'kv'; operation: string; name: string }
  >();

  constructor(
    private readonly driver: KvDriver<TNative>,
    opts: KvStoreOptions = {},
  ) {
    this.capabilities = driver.capabilities;
    this.name = driver.name;
    this.namespace = driver.namespace;
    this.provider = driver.provider;
    this.runner = new CallRunner(
      driver.provider,
      'kv',
      driver.name,
      opts,
      driver.settlesSynchronously === true,
      driver.signalEndsRequests === true,
    );
  }

  /** The entry, or undefined when missing or expired. */
  async get(key: string, opts: Sig = {}): Promise<KvEntry<V> | undefined> {
    const op = 'get';
    this.runner.ensureOpen(op);
    this.key(key, op);
    if (!optionsOk(opts, SIGNAL_ONLY)) checkOptions(opts, SIGNAL_ONLY, this.runner.ctx(op, key));
    const e = await this.runner.run(op, key, opts.signal, (signal) => this.driver.get(key, { signal }));
    return this.live(e);
  }

  /** Entries for many keys, in input order (undefined where missing). */
  async getMany(keys: readonly string[], opts: Sig = {}): Promise<(KvEntry<V> | undefined)[]> {
    const op = 'getMany';
    this.runner.ensureOpen(op);
    this.keys(keys, op);
    if (!optionsOk(opts, SIGNAL_ONLY)) checkOptions(opts, SIGNAL_ONLY, this.runner.ctx(op));
    const out: (KvEntry<V> | undefined)[] = [];
    const size = Math.max(1, this.capabilities.maxBatchSize);
    for (let i = 0; i < keys.length; i += size) {
      const chunk = keys.slice(i, i + size);
      const got = await this.runner.run(op, undefined, opts.signal, (signal) =>
        this.driver.getMany(chunk, { signal }),
      );
      for (let j = 0; j < chunk.length; j++) out.push(this.live(got[j]));
    }
    return out;
  }

  /**
   * Writes a value. With `ifAbsent` or `ifVersion` the write is atomic and conditional:
   * on conflict nothing is written and ALREADY_EXISTS / PRECONDITION_FAILED is thrown.
   */
  async set(key: string, value: V, opts: KvSetOptions = {}): Promise<{ version: string }> {
    const op = 'set';
    this.runner.ensureOpen(op);
    this.key(key, op);
    if (!optionsOk(opts, SET_OPTIONS)) checkOptions(opts, SET_OPTIONS, this.runner.ctx(op, key));
    this.value(value, op, key);
    if (opts.ifVersion !== undefined || opts.ifAbsent !== undefined) this.conditions(opts, op, key);
    const expiresAt = this.expiry(opts.ttlSeconds, op, key);
    const conditional = opts.ifAbsent === true || opts.ifVersion !== undefined;
    return this.runner.run(
      op,
      key,
      opts.signal,
      (signal) =>
        this.driver.set(key, value as KvValue, {
          ifVersion: opts.ifVersion,
          ifAbsent: opts.ifAbsent === true,
          expiresAt,
          signal,
        }),
      // A conditional write that timed out may have landed; a retry would then report a conflict.
      { idempotent: !conditional },
    );
  }

  /** Deletes a key; returns whether a live entry existed. */
  async delete(key: string, opts: { ifVersion?: string; signal?: AbortSignal } = {}): Promise<boolean> {
    const op = 'delete';
    this.runner.ensureOpen(op);
    this.key(key, op);
    const ctx = this.runner.ctx(op, key);
    checkOptions(opts, ['ifVersion', 'signal'], ctx);
    if (opts.ifVersion !== undefined) {
      checkString(opts.ifVersion, 'ifVersion', ctx);
      requireCapability(this.capabilities.ifVersion, 'ifVersion', this.capCtx(op, key));
    }
    return this.runner.run(
      op,
      key,
      opts.signal,
      (signal) => this.driver.delete(key, { ifVersion: opts.ifVersion, signal }),
      {
        idempotent: opts.ifVersion === undefined,
      },
    );
  }

  /** Unconditional writes of many entries; a result per item, in input order. */
  async setMany(
    items: readonly { key: string; value: V; ttlSeconds?: number }[],
    opts: Sig = {},
  ): Promise<KvSetResult[]> {
    const op = 'setMany';
    this.runner.ensureOpen(op);
    if (!Array.isArray(items))
      throw invalidArgument(`${this.site(op)}: items must be an array`, this.runner.ctx(op));
    checkOptions(opts, ['signal'], this.runner.ctx(op));
    const prepared = items.map((it) => {
      if (typeof it !== 'object' || it === null)
        throw invalidArgument(`${this.site(op)}: each item must be { key, value }`, this.runner.ctx(op));
      checkOptions(it, ['key', 'value', 'ttlSeconds'], this.runner.ctx(op));
      this.key(it.key, op);
      this.value(it.value, op, it.key);
      return { key: it.key, value: it.value as KvValue, expiresAt: this.expiry(it.ttlSeconds, op, it.key) };
    });
    const out: KvSetResult[] = [];
    const size = Math.max(1, this.capabilities.maxBatchSize);
    for (let i = 0; i < prepared.length; i += size) {
      const chunk = prepared.slice(i, i + size);
      // Unconditional writes are idempotent: items that failed retryably are written again.
      const res = await perItem(
        this.runner,
        op,
        chunk.length,
        opts.signal,
        (indexes, signal) =>
          this.driver.setMany(
            indexes.map((j) => chunk[j]!),
            { signal },
          ),
        (r) => ('error' in r ? r.error : undefined),
      );
      chunk.forEach((it, j) => {
        const r = res[j]!;
        if ('ok' in r && 'version' in r.ok) out.push({ key: it.key, ok: true, version: r.ok.version });
        else
          out.push({
            key: it.key,
            ok: false,
            error: this.runner.normalize('error' in r ? r.error : undefined, op, it.key),
          });
      });
    }
    return out;
  }

  /** Deletes many keys; a result per key, in input order. */
  async deleteMany(keys: readonly string[], opts: Sig = {}): Promise<KvDeleteResult[]> {
    const op = 'deleteMany';
    this.runner.ensureOpen(op);
    this.keys(keys, op);
    checkOptions(opts, ['signal'], this.runner.ctx(op));
    const out: KvDeleteResult[] = [];
    const size = Math.max(1, this.capabilities.maxBatchSize);
    for (let i = 0; i < keys.length; i += size) {
      const chunk = keys.slice(i, i + size);
      // Deletes are idempotent: items that failed retryably are deleted again.
      const res = await perItem(
        this.runner,
        op,
        chunk.length,
        opts.signal,
        (indexes, signal) =>
          this.driver.deleteMany(
            indexes.map((j) => chunk[j]!),
            { signal },
          ),
        (r) => ('error' in r ? r.error : undefined),
      );
      chunk.forEach((key, j) => {
        const r = res[j]!;
        if ('ok' in r && 'existed' in r.ok) out.push({ key, ok: true, existed: r.ok.existed });
        else
          out.push({
            key,
            ok: false,
            error: this.runner.normalize('error' in r ? r.error : undefined, op, key),
          });
      });
    }
    return out;
  }

  /**
   * One page of entries under a prefix, ordered by the UTF-8 bytes of the keys.
   * A page may hold fewer than `limit` entries (expired ones are hidden); only a missing
   * cursor means the end.
   */
  async list(opts: KvListOptions = {}): Promise<KvListPage<V>> {
    const op = 'list';
    this.runner.ensureOpen(op);
    const ctx = this.runner.ctx(op);
    checkOptions(opts, ['prefix', 'cursor', 'limit', 'signal'], ctx);
    const prefix = opts.prefix ?? '';
    validatePrefix(prefix, this.capabilities.maxKeyBytes, this.keyCtx(op));
    checkString(opts.cursor, 'cursor', ctx);
    checkInt(opts.limit, 'limit', 1, this.capabilities.maxListLimit, ctx);
    const limit = opts.limit ?? Math.min(100, this.capabilities.maxListLimit);
    const page = await this.runner.run(op, undefined, opts.signal, (signal) =>
      this.driver.list({ prefix, cursor: opts.cursor, limit, signal }),
    );
    const entries: KvEntry<V>[] = [];
    for (const e of page.entries) {
      const l = this.live(e);
      if (l) entries.push(l);
    }
    return { entries, cursor: page.cursor };
  }

  /**
   * Every live entry under a prefix.
   *
   * @example
   * for await (const { key, value } of kv.entries({ prefix: 'session:' })) console.log(key, value);
   */
  async *entries(opts: Omit<KvListOptions, 'cursor'> = {}): AsyncGenerator<KvEntry<V>> {
    let cursor: string | undefined;
    do {
      const page = await this.list({ ...opts, ...(cursor === undefined ? {} : { cursor }) });
      yield* page.entries;
      cursor = page.cursor;
    } while (cursor !== undefined);
  }

  /**
   * Atomically adds `by` (default 1) and returns the new value; a missing key starts at 0.
   *
   * @example
   * const { value } = await kv.increment('page-views');
   */
  async increment(key: string, by = 1, opts: Sig = {}): Promise<{ value: number; version: string }> {
    const op = 'increment';
    this.runner.ensureOpen(op);
    this.key(key, op);
    if (!optionsOk(opts, SIGNAL_ONLY)) checkOptions(opts, SIGNAL_ONLY, this.runner.ctx(op, key));
    if (!this.capabilities.increment) {
      requireCapability(this.capabilities.increment, 'increment', this.capCtx(op, key));
    }
    if (typeof by !== 'number' || !Number.isSafeInteger(by)) {
      throw invalidArgument(
        `${this.site(op, key)}: by must be a safe integer, got ${String(by)}`,
        this.runner.ctx(op, key),
      );
    }
    // Not idempotent: retry only what the service rejected before acting.
    return this.runner.run(
      op,
      key,
      opts.signal,
      (signal) => this.driver.increment(key, by, { signal }),
      NOT_IDEMPOTENT,
    );
  }

  /** The native SDK client, typed when the store came from an adapter's own constructor. */
  native(): TNative {
    return this.driver.native();
  }

  /** Releases the driver's resources; later calls fail. */
  async close(): Promise<void> {
    if (this.runner.isClosed) return;
    this.runner.markClosed();
    await this.driver.close();
  }

  /**
   * Closes the store at the end of an `await using` block.
   *
   * @example
   * await using kv = await openKv('mem://app/users');
   * await kv.set('u1', { name: 'Ada' });
   * // closed here
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** set's ifVersion / ifAbsent checks, in the order the messages promise. */
  private conditions(opts: KvSetOptions, op: string, key: string): void {
    const ctx = this.runner.ctx(op, key);
    if (opts.ifVersion !== undefined) {
      checkString(opts.ifVersion, 'ifVersion', ctx);
      requireCapability(this.capabilities.ifVersion, 'ifVersion', this.capCtx(op, key));
    }
    if (opts.ifAbsent !== undefined && typeof opts.ifAbsent !== 'boolean') {
      throw invalidArgument(`${this.site(op, key)}: ifAbsent must be a boolean`, ctx);
    }
    if (opts.ifAbsent) requireCapability(this.capabilities.ifAbsent, 'ifAbsent', this.capCtx(op, key));
    if (opts.ifAbsent && opts.ifVersion !== undefined) {
      throw invalidArgument(
        `${this.site(op, key)}: ifAbsent and ifVersion cannot be combined; use one of them`,
        ctx,
      );
    }
  }

  private live(e: DriverKvEntry | undefined): KvEntry<V> | undefined {
    if (!e) return undefined;
    if (e.expiresAt !== undefined && e.expiresAt.getTime() <= Date.now()) return undefined;
    // Two literals rather than a spread: this runs on every read.
    return e.expiresAt === undefined
      ? { key: e.key, value: e.value as V, version: e.version }
      : { key: e.key, value: e.value as V, version: e.version, expiresAt: e.expiresAt };
  }

  private key(key: unknown, op: string): asserts key is string {
    validateKey(key, this.capabilities.maxKeyBytes, this.keyCtx(op));
  }

  private keys(keys: unknown, op: string): asserts keys is string[] {
    if (!Array.isArray(keys))
      throw invalidArgument(`${this.site(op)}: keys must be an array of strings`, this.runner.ctx(op));
    for (const k of keys) this.key(k, op);
  }

  private value(value: unknown, op: string, key: string) {
    // One walk checks the value and bounds its size; messages and the exact size only on need.
    const bound = kvValueBound(value);
    if (bound === undefined) {
      try {
        checkKvValue(value, `${op} on kv "${this.name}" key "${key}"`);
      } catch (err) {
        throw this.runner.normalize(err, op, key);
      }
    }
    if (value instanceof Uint8Array && !this.capabilities.binaryValues) {
      requireCapability(false, 'binaryValues', this.capCtx(op, key));
    }
    if (bound === undefined || bound > this.capabilities.maxValueBytes) {
      const size = kvValueSize(value as KvValue);
      if (size > this.capabilities.maxValueBytes) {
        throw pcError(
          'PAYLOAD_TOO_LARGE',
          `${op} on kv "${this.name}" key "${key}": the value is ${size} bytes, over this provider's limit of ${this.capabilities.maxValueBytes}`,
          { ...this.runner.ctx(op, key), retryable: false },
        );
      }
    }
  }

  private expiry(ttl: number | undefined, op: string, key: string): Date | undefined {
    if (ttl === undefined) return undefined;
    requireCapability(this.capabilities.ttl, 'ttl', this.capCtx(op, key));
    if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0) {
      throw invalidArgument(
        `${op} on kv "${this.name}" key "${key}": ttlSeconds must be a positive number of seconds, got ${String(ttl)}`,
        this.runner.ctx(op, key),
      );
    }
    return new Date(Date.now() + ttl * 1000);
  }

  /** Where a call failed, for messages: `set on kv "t" key "k"`. */
  private site(op: string, key?: string): string {
    return `${op} on kv "${this.name}"${key === undefined ? '' : ` key "${key}"`}`;
  }

  /** Built once per operation name: validateKey reads it only to word a failure. */
  private keyCtx(operation: string) {
    let c = this.keyCtxs.get(operation);
    if (c === undefined) {
      c = { provider: this.provider, service: 'kv' as const, operation, name: this.name };
      this.keyCtxs.set(operation, c);
    }
    return c;
  }

  private capCtx(operation: string, key?: string) {
    return {
      provider: this.provider,
      service: 'kv' as const,
      operation,
      name: this.name,
      ...(key === undefined ? {} : { key }),
    };
  }
}
