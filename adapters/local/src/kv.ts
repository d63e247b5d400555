import {
  type DriverKvEntry,
  defineCapabilities,
  fromUtf8,
  type KvCapabilities,
  type KvDriver,
  type KvValue,
  type PolycloudError,
  pcError,
  utf8,
} from '@polycloud/core';
import type { ErrorContext, Row, SqliteDatabase, SqliteFile } from './sqlite.js';
import {
  after,
  bindBytes,
  checkSignal,
  decodeCursor,
  encodeCursor,
  lowerBound,
  newToken,
  num,
  PROVIDER,
  prefixEnd,
  readBytes,
} from './util.js';

/** What a `local://` kv store can do: every kv capability, with DynamoDB's limits. */
export const LOCAL_KV_CAPABILITIES: KvCapabilities = defineCapabilities({
  ifVersion: true,
  ifAbsent: true,
  ttl: true,
  increment: true,
  binaryValues: true,
  maxKeyBytes: 1024,
  // DynamoDB's item limit, the strictest of the real providers, so code moved there still fits.
  maxValueBytes: 400 * 1024,
  maxBatchSize: 25,
  maxListLimit: 1000,
});

/** What `native()` returns: the open database and where this store lives in it. */
export interface LocalKvHandle {
  readonly path: string;
  readonly table: string;
  readonly namespace: string;
  /** The node:sqlite connection (shared by every driver of this process on the file). */
  readonly database: SqliteDatabase;
  /** Deletes every entry of this namespace. */
  clear(): Promise<void>;
}

/** How often a writing driver deletes the expired entries of its namespace. */
const PURGE_EVERY_MS = 60_000;
const KIND_JSON = 0;
const KIND_BYTES = 1;

type Sig = { signal: AbortSignal | undefined };

const COLUMNS = 'key, kind, value, version, expires_at';

/**
 * Key-value data in an SQLite file: one namespace of one table. Every write runs in a write
 * transaction that checks its condition and writes, so conditions and counters hold across
 * processes; expired entries count as missing everywhere.
 */
export class LocalKvDriver implements KvDriver<LocalKvHandle> {
  readonly provider = PROVIDER;
  readonly capabilities = LOCAL_KV_CAPABILITIES;
  private closed = false;
  /** When this driver last removed expired entries of its namespace (they are hidden anyway). */
  private purgedAt = 0;

  /** @internal Use the open functions or the `local*` constructors. */
  constructor(
    private readonly file: SqliteFile,
    readonly name: string,
    readonly namespace: string,
    private readonly lockTimeoutMs?: number,
  ) {}

  /** The live entry, or undefined. */
  async get(key: string, opts: Sig): Promise<DriverKvEntry | undefined> {
    checkSignal(opts.signal, this.what('get', key));
    return this.file.read(this.ctx('get', key, opts.signal), () => this.live(key, Date.now()));
  }

  async getMany(keys: readonly string[], opts: Sig): Promise<readonly (DriverKvEntry | undefined)[]> {
    checkSignal(opts.signal, `getMany on kv "${this.name}"`);
    return this.file.read(this.ctx('getMany', undefined, opts.signal), () => {
      const now = Date.now();
      return keys.map((k) => this.live(k, now));
    });
  }

  async set(
    key: string,
    value: KvValue,
    opts: { ifVersion: string | undefined; ifAbsent: boolean; expiresAt: Date | undefined } & Sig,
  ): Promise<{ version: string }> {
    checkSignal(opts.signal, this.what('set', key));
    return this.file.write(this.ctx('set', key, opts.signal), () => {
      const current = this.live(key, Date.now());
      if (opts.ifAbsent && current) {
        throw this.error(
          'ALREADY_EXISTS',
          'set',
          key,
          'the key exists and ifAbsent is set; nothing was written',
        );
      }
      if (opts.ifVersion !== undefined) this.checkVersion(current, opts.ifVersion, 'set', key);
      return this.put(key, value, opts.expiresAt?.getTime());
    });
  }

  async delete(key: string, opts: { ifVersion: string | undefined } & Sig): Promise<boolean> {
    checkSignal(opts.signal, this.what('delete', key));
    return this.file.write(this.ctx('delete', key, opts.signal), () => {
      const current = this.live(key, Date.now());
      if (opts.ifVersion !== undefined) this.checkVersion(current, opts.ifVersion, 'delete', key);
      this.remove(key);
      return current !== undefined;
    });
  }

  async setMany(
    items: readonly { key: string; value: KvValue; expiresAt: Date | undefined }[],
    opts: Sig,
  ): Promise<readonly ({ version: string } | { error: PolycloudError })[]> {
    checkSignal(opts.signal, `setMany on kv "${this.name}"`);
    return this.file.write(this.ctx('setMany', undefined, opts.signal), () =>
      items.map((it) => this.put(it.key, it.value, it.expiresAt?.getTime())),
    );
  }

  /** Deletes keys in one transaction; whether each existed. */
  async deleteMany(
    keys: readonly string[],
    opts: Sig,
  ): Promise<readonly ({ existed: boolean } | { error: PolycloudError })[]> {
    checkSignal(opts.signal, `deleteMany on kv "${this.name}"`);
    return this.file.write(this.ctx('deleteMany', undefined, opts.signal), () => {
      const now = Date.now();
      return keys.map((k) => {
        const existed = this.live(k, now) !== undefined;
        this.remove(k);
        return { existed };
      });
    });
  }

  async list(
    opts: { prefix: string; cursor: string | undefined; limit: number } & Sig,
  ): Promise<{ entries: readonly DriverKvEntry[]; cursor: string | undefined }> {
    checkSignal(opts.signal, `list on kv "${this.name}"`);
    const prefix = utf8(opts.prefix);
    let lower: Uint8Array = prefix;
    if (opts.cursor !== undefined) {
      const from = after(utf8(decodeCursor(opts.cursor, ['k'], { service: 'kv', name: this.name }).key));
      if (Buffer.compare(from, lower) > 0) lower = from;
    }
    const rows = await this.file.read(this.ctx('list', undefined, opts.signal), () =>
      this.file
        .sql(
          `SELECT ${COLUMNS} FROM polycloud_kv
           WHERE tbl = ? AND ns = ? AND key >= ? AND key < ? AND (expires_at IS NULL OR expires_at > ?)
           ORDER BY key LIMIT ?`,
        )
        .all(this.name, this.namespace, lowerBound(lower), prefixEnd(prefix), Date.now(), opts.limit + 1),
    );
    const more = rows.length > opts.limit;
    const entries = rows.slice(0, opts.limit).map((r) => entry(r));
    const last = entries.at(-1);
    return { entries, cursor: more && last ? encodeCursor('k', last.key) : undefined };
  }

  async increment(key: string, by: number, opts: Sig): Promise<{ value: number; version: string }> {
    checkSignal(opts.signal, this.what('increment', key));
    return this.file.write(this.ctx('increment', key, opts.signal), () => {
      const current = this.live(key, Date.now());
      let base = 0;
      if (current) {
        if (typeof current.value !== 'number') {
          throw this.error('PRECONDITION_FAILED', 'increment', key, 'the stored value is not a number');
        }
        base = current.value;
      }
      const value = base + by;
      // A counter keeps its expiry, as an update of one attribute does on the real services.
      const { version } = this.put(key, value, current?.expiresAt?.getTime());
      return { value, version };
    });
  }

  /** Releases the database (shared with other drivers of this process). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.file.release();
  }

  /** The SQLite file and this store's table and namespace in it. */
  native(): LocalKvHandle {
    const f = this.file;
    return {
      path: f.path,
      table: this.name,
      namespace: this.namespace,
      database: f.db,
      clear: async () => {
        await f.write(this.ctx('clear'), () => {
          f.sql('DELETE FROM polycloud_kv WHERE tbl = ? AND ns = ?').run(this.name, this.namespace);
        });
      },
    };
  }

  /** The live entry for `key`, or undefined when missing or expired. */
  private live(key: string, now: number): DriverKvEntry | undefined {
    const r = this.file
      .sql(`SELECT ${COLUMNS} FROM polycloud_kv WHERE tbl = ? AND ns = ? AND key = ?`)
      .get(this.name, this.namespace, utf8(key));
    if (!r) return undefined;
    if (r.expires_at !== null && num(r.expires_at) <= now) return undefined;
    return entry(r);
  }

  private put(key: string, value: KvValue, expiresAt: number | undefined): { version: string } {
    const now = Date.now();
    if (now - this.purgedAt > PURGE_EVERY_MS) {
      // Expired entries are never returned; deleting them now and then keeps the file small.
      this.purgedAt = now;
      this.file
        .sql(
          'DELETE FROM polycloud_kv WHERE tbl = ? AND ns = ? AND expires_at IS NOT NULL AND expires_at <= ?',
        )
        .run(this.name, this.namespace, now);
    }
    const bytes = value instanceof Uint8Array;
    const version = newToken();
    this.file
      .sql(
        `INSERT OR REPLACE INTO polycloud_kv (tbl, ns, key, kind, value, version, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        this.name,
        this.namespace,
        utf8(key),
        bytes ? KIND_BYTES : KIND_JSON,
        bytes ? bindBytes(value) : JSON.stringify(value),
        version,
        expiresAt ?? null,
      );
    return { version };
  }

  private remove(key: string): void {
    this.file
      .sql('DELETE FROM polycloud_kv WHERE tbl = ? AND ns = ? AND key = ?')
      .run(this.name, this.namespace, utf8(key));
  }

  private checkVersion(current: DriverKvEntry | undefined, expected: string, op: string, key: string) {
    if (!current) {
      throw this.error(
        'PRECONDITION_FAILED',
        op,
        key,
        `the key does not exist, so it is not at version ${expected}`,
      );
    }
    if (current.version !== expected) {
      throw this.error(
        'PRECONDITION_FAILED',
        op,
        key,
        `the key is at version ${current.version}, not ${expected}; nothing was changed`,
      );
    }
  }

  private ctx(operation: string, key?: string, signal?: AbortSignal): ErrorContext {
    return { service: 'kv', operation, name: this.name, key, lockTimeoutMs: this.lockTimeoutMs, signal };
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
    return `${op} on kv "${this.name}" (namespace "${this.namespace}", ${this.file.path}) key "${key}"`;
  }
}

function entry(r: Row): DriverKvEntry {
  const key = fromUtf8(r.key as Uint8Array);
  const value: KvValue =
    num(r.kind) === KIND_BYTES
      ? readBytes(r.value)
      : (JSON.parse(typeof r.value === 'string' ? r.value : fromUtf8(r.value as Uint8Array)) as KvValue);
  return {
    key,
    value,
    version: String(r.version),
    ...(r.expires_at === null ? {} : { expiresAt: new Date(num(r.expires_at)) }),
  };
}
