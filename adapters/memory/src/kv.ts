import type { KvCapabilities, KvValue, PolycloudError } from '@polycloud/core';
import { type DriverKvEntry, defineCapabilities, type KvDriver, pcError } from '@polycloud/core/driver';
import { SortedKeys } from './sorted.js';
import { checkSignal, decodeCursor, encodeCursor, nextToken, PROVIDER } from './util.js';

/**
 * What the memory key-value store supports: conditional writes, TTL and atomic increments, like
 * the strongest cloud stores, so code tested on it does not rely on less.
 */
export const MEMORY_KV_CAPABILITIES: KvCapabilities = defineCapabilities({
  ifVersion: true,
  ifAbsent: true,
  ttl: true,
  increment: true,
  binaryValues: true,
  maxKeyBytes: 1024,
  // DynamoDB's item limit, the strictest of the real providers.
  maxValueBytes: 400 * 1024,
  maxBatchSize: 25,
  maxListLimit: 1000,
});

/**
 * One stored entry. JSON values are kept as JSON text, so what a reader gets is exactly what
 * a JSON round trip through a real service gives, and never the caller's own object.
 */
export interface MemoryKvRecord {
  readonly stored: { readonly json: string } | { readonly bytes: Uint8Array };
  readonly version: string;
  /** Epoch ms; the entry is gone from this moment on. */
  readonly expiresAt: number | undefined;
}

/** One namespace of one table: keys in UTF-8 byte order. */
export class MemoryKvNamespace {
  readonly records = new Map<string, MemoryKvRecord>();
  readonly index = new SortedKeys();

  constructor(
    readonly table: string,
    readonly namespace: string,
  ) {}

  /** The live record for `key`; an expired one is removed and reported as absent. */
  live(key: string, now = Date.now()): MemoryKvRecord | undefined {
    const r = this.records.get(key);
    if (r === undefined) return undefined;
    if (r.expiresAt !== undefined && r.expiresAt <= now) {
      this.remove(key);
      return undefined;
    }
    return r;
  }

  /** Stores or replaces a record, keeping the key index in order. */
  put(key: string, r: MemoryKvRecord): void {
    if (!this.records.has(key)) this.index.add(key);
    this.records.set(key, r);
  }

  /** Deletes a record; whether it existed. */
  remove(key: string): boolean {
    if (!this.records.delete(key)) return false;
    this.index.delete(key);
    return true;
  }

  /** Deletes every record (test resets). */
  clear(): void {
    this.records.clear();
    this.index.clear();
  }
}

/** A table: namespaces that never see each other's keys. */
export class MemoryKvTable {
  readonly namespaces = new Map<string, MemoryKvNamespace>();
  constructor(readonly name: string) {}

  /** The namespace of this table named `ns`, created empty on first use. */
  namespace(ns: string): MemoryKvNamespace {
    let n = this.namespaces.get(ns);
    if (!n) {
      n = new MemoryKvNamespace(this.name, ns);
      this.namespaces.set(ns, n);
    }
    return n;
  }
}

const tables = new Map<string, MemoryKvTable>();

/** The shared namespace `ns` of table `name`, created on first use. */
export function kvNamespace(name: string, ns: string): MemoryKvNamespace {
  let t = tables.get(name);
  if (!t) {
    t = new MemoryKvTable(name);
    tables.set(name, t);
  }
  return t.namespace(ns);
}

export function resetKv(): void {
  for (const t of tables.values()) for (const n of t.namespaces.values()) n.clear();
  tables.clear();
}

type Sig = { signal: AbortSignal | undefined };

/**
 * The reference key-value driver. Every write is atomic and gets a new version; conditions,
 * TTL and counters treat an expired entry exactly like a missing one.
 */
export class MemoryKvDriver implements KvDriver {
  readonly provider = PROVIDER;
  readonly capabilities = MEMORY_KV_CAPABILITIES;
  /** Every call is a synchronous Map operation: see KvDriver.settlesSynchronously. */
  readonly settlesSynchronously = true;
  readonly name: string;
  readonly namespace: string;

  constructor(readonly store: MemoryKvNamespace) {
    this.name = store.table;
    this.namespace = store.namespace;
  }

  async get(key: string, opts: Sig): Promise<DriverKvEntry | undefined> {
    checkSignal(opts.signal, this.what('get', key));
    const r = this.store.live(key);
    return r && entry(key, r);
  }

  async getMany(keys: readonly string[], opts: Sig): Promise<readonly (DriverKvEntry | undefined)[]> {
    checkSignal(opts.signal, `getMany on kv "${this.name}"`);
    const now = Date.now();
    return keys.map((k) => {
      const r = this.store.live(k, now);
      return r && entry(k, r);
    });
  }

  async set(
    key: string,
    value: KvValue,
    opts: { ifVersion: string | undefined; ifAbsent: boolean; expiresAt: Date | undefined } & Sig,
  ): Promise<{ version: string }> {
    checkSignal(opts.signal, this.what('set', key));
    const current = this.store.live(key);
    if (opts.ifAbsent && current) {
      throw this.error(
        'ALREADY_EXISTS',
        'set',
        key,
        'the key exists and ifAbsent is set; nothing was written',
      );
    }
    if (opts.ifVersion !== undefined) this.checkVersion(current, opts.ifVersion, 'set', key);
    return this.write(key, value, opts.expiresAt?.getTime());
  }

  async delete(key: string, opts: { ifVersion: string | undefined } & Sig): Promise<boolean> {
    checkSignal(opts.signal, this.what('delete', key));
    const current = this.store.live(key);
    if (opts.ifVersion !== undefined) this.checkVersion(current, opts.ifVersion, 'delete', key);
    if (!current) return false;
    this.store.remove(key);
    return true;
  }

  async setMany(
    items: readonly { key: string; value: KvValue; expiresAt: Date | undefined }[],
    opts: Sig,
  ): Promise<readonly ({ version: string } | { error: PolycloudError })[]> {
    checkSignal(opts.signal, `setMany on kv "${this.name}"`);
    return items.map((it) => this.write(it.key, it.value, it.expiresAt?.getTime()));
  }

  async deleteMany(
    keys: readonly string[],
    opts: Sig,
  ): Promise<readonly ({ existed: boolean } | { error: PolycloudError })[]> {
    checkSignal(opts.signal, `deleteMany on kv "${this.name}"`);
    const now = Date.now();
    return keys.map((k) => {
      const existed = this.store.live(k, now) !== undefined;
      if (existed) this.store.remove(k);
      return { existed };
    });
  }

  async list(
    opts: { prefix: string; cursor: string | undefined; limit: number } & Sig,
  ): Promise<{ entries: readonly DriverKvEntry[]; cursor: string | undefined }> {
    checkSignal(opts.signal, `list on kv "${this.name}"`);
    const after =
      opts.cursor === undefined
        ? undefined
        : decodeCursor(opts.cursor, ['k'], { service: 'kv', name: this.name }).key;
    const now = Date.now();
    const entries: DriverKvEntry[] = [];
    const expired: string[] = [];
    let more = false;
    for (const key of this.store.index.scan(opts.prefix, after)) {
      const r = this.store.records.get(key)!;
      if (r.expiresAt !== undefined && r.expiresAt <= now) {
        expired.push(key);
        continue;
      }
      if (entries.length >= opts.limit) {
        more = true;
        break;
      }
      entries.push(entry(key, r));
    }
    for (const k of expired) this.store.remove(k);
    const last = entries.at(-1);
    return { entries, cursor: more && last ? encodeCursor('k', last.key) : undefined };
  }

  async increment(key: string, by: number, opts: Sig): Promise<{ value: number; version: string }> {
    checkSignal(opts.signal, this.what('increment', key));
    const current = this.store.live(key);
    let base = 0;
    if (current) {
      const v = 'json' in current.stored ? (JSON.parse(current.stored.json) as unknown) : undefined;
      if (typeof v !== 'number') {
        throw this.error('PRECONDITION_FAILED', 'increment', key, 'the stored value is not a number');
      }
      base = v;
    }
    const value = base + by;
    // A counter keeps its expiry, as an update of one attribute does on the real services.
    const { version } = this.write(key, value, current?.expiresAt);
    return { value, version };
  }

  async close(): Promise<void> {}

  /** The namespace's in-memory state (records by key). */
  native(): MemoryKvNamespace {
    return this.store;
  }

  private write(key: string, value: KvValue, expiresAt: number | undefined): { version: string } {
    const stored =
      value instanceof Uint8Array ? { bytes: new Uint8Array(value) } : { json: JSON.stringify(value) };
    const version = nextToken();
    this.store.put(key, { stored, version, expiresAt });
    return { version };
  }

  private checkVersion(current: MemoryKvRecord | undefined, expected: string, op: string, key: string) {
    if (!current)
      throw this.error(
        'PRECONDITION_FAILED',
        op,
        key,
        `the key does not exist, so it is not at version ${expected}`,
      );
    if (current.version !== expected) {
      throw this.error(
        'PRECONDITION_FAILED',
        op,
        key,
        `the key is at version ${current.version}, not ${expected}; nothing was changed`,
      );
    }
  }

  private error(code: 'ALREADY_EXISTS' | 'PRECONDITION_FAILED', op: string, key: string, why: string) {
    return pcError(code, `${this.what(op, key)}: ${why}`, {
      provider: PROVIDER,
      service: 'kv',
      operation: op,
      resource: { name: this.name, key },
      retryable: false,
    });
  }

  private what(op: string, key: string) {
    return `${op} on kv "${this.name}" (namespace "${this.namespace}") key "${key}"`;
  }
}

/** A fresh copy of a stored entry for the caller. */
function entry(key: string, r: MemoryKvRecord): DriverKvEntry {
  const value: KvValue =
    'bytes' in r.stored ? r.stored.bytes.slice() : (JSON.parse(r.stored.json) as KvValue);
  return {
    key,
    value,
    version: r.version,
    ...(r.expiresAt === undefined ? {} : { expiresAt: new Date(r.expiresAt) }),
  };
}
