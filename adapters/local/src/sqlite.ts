import { EventEmitter } from 'node:events';
import { type ErrorCode, isPolycloudError, type PolycloudError, pcError, sleep } from '@polycloud/core';
import { PROVIDER } from './util.js';

/** A value SQLite hands back or takes as a parameter. */
export type SqlValue = null | number | bigint | string | Uint8Array;
/** A result row: column name → value. */
export type Row = Record<string, SqlValue>;

/** The part of node:sqlite's StatementSync this adapter uses. */
export interface SqliteStatement {
  /** Runs the statement; how many rows changed and the last inserted rowid. */
  run(...params: SqlValue[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  /** The first result row. */
  get(...params: SqlValue[]): Row | undefined;
  /** Every result row. */
  all(...params: SqlValue[]): Row[];
}

/** The part of node:sqlite's DatabaseSync this adapter uses (typed here so @types/node 20 builds). */
export interface SqliteDatabase {
  /** Runs one or more SQL statements without results. */
  exec(sql: string): void;
  /** Compiles one SQL statement. */
  prepare(sql: string): SqliteStatement;
  /** Closes the connection. */
  close(): void;
}

interface SqliteModule {
  DatabaseSync: new (path: string, opts?: { readOnly?: boolean }) => SqliteDatabase;
}

/** "plcd" in ASCII: marks a file as a polycloud store in the SQLite header (PRAGMA application_id). */
export const APPLICATION_ID = 0x706c6364;
/** Bumped when the schema changes incompatibly. */
export const SCHEMA_VERSION = 1;
/** How long SQLite itself waits for a lock before returning SQLITE_BUSY (it blocks the thread). */
const BUSY_TIMEOUT_MS = 250;
/** How long a call keeps retrying a locked database before it gives up with UNAVAILABLE. */
export const DEFAULT_LOCK_TIMEOUT_MS = 30_000;

/**
 * Every polycloud table. One file may hold queues and kv tables together; a bucket's index is
 * the same schema in its own file. Keys are BLOBs of UTF-8 so ORDER BY is byte order.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS polycloud_objects (
  key BLOB PRIMARY KEY,
  file TEXT NOT NULL,
  size INTEGER NOT NULL,
  content_type TEXT,
  content_encoding TEXT,
  content_disposition TEXT,
  cache_control TEXT,
  metadata TEXT NOT NULL,
  last_modified INTEGER NOT NULL,
  md5 TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS polycloud_messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  queue TEXT NOT NULL,
  id TEXT NOT NULL UNIQUE,
  body BLOB NOT NULL,
  attributes TEXT NOT NULL,
  group_id TEXT,
  enqueued_at INTEGER NOT NULL,
  visible_at INTEGER NOT NULL,
  delivery_count INTEGER NOT NULL DEFAULT 0,
  receipt TEXT
);
CREATE INDEX IF NOT EXISTS polycloud_messages_visible ON polycloud_messages (queue, visible_at);
CREATE INDEX IF NOT EXISTS polycloud_messages_order ON polycloud_messages (queue, seq);
CREATE INDEX IF NOT EXISTS polycloud_messages_group ON polycloud_messages (queue, group_id, seq)
  WHERE group_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS polycloud_dedup (
  queue TEXT NOT NULL,
  dedup_id TEXT NOT NULL,
  id TEXT NOT NULL,
  until INTEGER NOT NULL,
  PRIMARY KEY (queue, dedup_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS polycloud_dedup_until ON polycloud_dedup (queue, until);
CREATE TABLE IF NOT EXISTS polycloud_kv (
  tbl TEXT NOT NULL,
  ns TEXT NOT NULL,
  key BLOB NOT NULL,
  kind INTEGER NOT NULL,
  value BLOB NOT NULL,
  version TEXT NOT NULL,
  expires_at INTEGER,
  PRIMARY KEY (tbl, ns, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS polycloud_kv_expiry ON polycloud_kv (tbl, ns, expires_at)
  WHERE expires_at IS NOT NULL;
`;

const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_READONLY = 8;
const SQLITE_IOERR = 10;
const SQLITE_CORRUPT = 11;
const SQLITE_FULL = 13;
const SQLITE_CANTOPEN = 14;
const SQLITE_NOTADB = 26;

let sqlite: SqliteModule | undefined;

/**
 * Loads node:sqlite. On Node 22 loading it prints "ExperimentalWarning: SQLite is an
 * experimental feature"; that one warning (and only it) is filtered while the module loads,
 * because the application did not ask for SQLite and cannot act on it. Every other warning,
 * including the application's own experimental warnings, passes through untouched.
 */
function loadSqlite(service: 'blob' | 'queue' | 'kv'): SqliteModule {
  if (sqlite) return sqlite;
  const getBuiltin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  const original = process.emitWarning;
  let mod: unknown;
  if (getBuiltin) {
    process.emitWarning = function filtered(this: unknown, warning: string | Error, ...rest: unknown[]) {
      const text = typeof warning === 'string' ? warning : warning.message;
      if (text.startsWith('SQLite is an experimental feature')) return;
      return (original as (...a: unknown[]) => void).call(process, warning, ...rest);
    } as typeof process.emitWarning;
    try {
      mod = getBuiltin.call(process, 'node:sqlite');
    } catch {
      mod = undefined;
    } finally {
      process.emitWarning = original;
    }
  }
  if (!mod || typeof (mod as Partial<SqliteModule>).DatabaseSync !== 'function') {
    throw pcError(
      'UNSUPPORTED',
      `@polycloud/local needs Node's built-in node:sqlite (Node >= 22.13 or 24); this is Node ${process.version}. Install Node 24 LTS`,
      { provider: PROVIDER, service, operation: 'open', retryable: false },
    );
  }
  sqlite = mod as SqliteModule;
  return sqlite;
}

interface SqliteErrorShape {
  code?: unknown;
  errcode?: unknown;
  errstr?: unknown;
  message?: unknown;
}

/** The primary SQLite result code of an error from node:sqlite, if it is one. */
export function sqliteCode(err: unknown): number | undefined {
  const e = err as SqliteErrorShape | null;
  if (e && typeof e === 'object' && typeof e.errcode === 'number') return e.errcode & 0xff;
  return undefined;
}

export function isBusy(err: unknown): boolean {
  const c = sqliteCode(err);
  return c === SQLITE_BUSY || c === SQLITE_LOCKED;
}

export interface ErrorContext {
  readonly service: 'blob' | 'queue' | 'kv';
  readonly operation: string;
  readonly name: string;
  readonly key?: string | undefined;
  /** How long to retry a locked database (default DEFAULT_LOCK_TIMEOUT_MS). */
  readonly lockTimeoutMs?: number | undefined;
  /** The call's signal: retries of a locked database stop when it fires. */
  readonly signal?: AbortSignal | undefined;
}

/** Turns an error from node:sqlite (or the file system) into a PolycloudError naming the file. */
export function mapSqliteError(err: unknown, file: string, ctx: ErrorContext): PolycloudError {
  if (isPolycloudError(err)) return err;
  const c = sqliteCode(err);
  const detail = err instanceof Error ? err.message : String(err);
  let code: ErrorCode = 'INTERNAL';
  let retryable = false;
  let advice = '';
  switch (c) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      code = 'UNAVAILABLE';
      retryable = true;
      advice = 'another process holds the write lock; retry later or find the process that keeps it';
      break;
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
      code = 'PERMISSION_DENIED';
      advice =
        'the file or its folder cannot be written (SQLite needs to create <file>-wal and <file>-shm beside it); check permissions and that the folder exists';
      break;
    case SQLITE_NOTADB:
      code = 'INVALID_ARGUMENT';
      advice =
        'the file is not an SQLite database; point the URL at a new file or a polycloud store. The file was not changed';
      break;
    case SQLITE_CORRUPT:
      code = 'INTERNAL';
      advice =
        'the database is corrupt; restore it from a backup or move it aside. polycloud did not write to it';
      break;
    case SQLITE_FULL:
      code = 'UNAVAILABLE';
      advice = 'the disk is full; free space and retry';
      break;
    case SQLITE_IOERR:
      code = 'UNAVAILABLE';
      retryable = true;
      advice = 'the file system reported an I/O error';
      break;
    default:
      advice = 'this is unexpected; please report it';
  }
  const target = `${ctx.service} "${ctx.name}"${ctx.key === undefined ? '' : ` key "${ctx.key}"`}`;
  return pcError(code, `${ctx.operation} on ${target} (database ${file}): ${detail}; ${advice}`, {
    provider: PROVIDER,
    service: ctx.service,
    operation: ctx.operation,
    resource: { name: ctx.name, ...(ctx.key === undefined ? {} : { key: ctx.key }) },
    retryable,
    cause: err,
  });
}

/**
 * One open SQLite file, shared by every driver of this process that names it (refcounted).
 * Every transaction runs synchronously between BEGIN and COMMIT, so sharing one connection
 * between concurrent async callers is safe; contention with other processes is retried
 * asynchronously, so a locked file never blocks the event loop for long.
 */
export class SqliteFile {
  /** Emits an event named after a queue after a commit that its waiting receives may care about. */
  readonly events = new EventEmitter();
  private readonly statements = new Map<string, SqliteStatement>();
  private refs = 0;
  private closed = false;

  private constructor(
    readonly path: string,
    readonly db: SqliteDatabase,
  ) {
    this.events.setMaxListeners(0);
  }

  private static readonly open = new Map<string, Promise<SqliteFile>>();

  /**
   * Opens (or shares) the database at `path`, creating it if missing, with every polycloud
   * table. A file that holds other tables and is not a polycloud store is refused untouched.
   * Several processes may open a new file at once: initialisation is retried while locked.
   */
  static async acquire(path: string, ctx: ErrorContext): Promise<SqliteFile> {
    for (;;) {
      let p = SqliteFile.open.get(path);
      if (!p) {
        p = SqliteFile.create(path, ctx);
        SqliteFile.open.set(path, p);
        p.catch(() => SqliteFile.open.delete(path));
      }
      const f = await p;
      // The last user may have closed it while this call waited; then open it afresh.
      if (f.closed) continue;
      f.refs++;
      return f;
    }
  }

  private static async create(path: string, ctx: ErrorContext): Promise<SqliteFile> {
    const { DatabaseSync } = loadSqlite(ctx.service);
    let db: SqliteDatabase;
    try {
      db = new DatabaseSync(path);
    } catch (err) {
      throw mapSqliteError(err, path, ctx);
    }
    const f = new SqliteFile(path, db);
    try {
      await f.retrying(ctx, DEFAULT_LOCK_TIMEOUT_MS, () => initialise(db, path, ctx));
    } catch (err) {
      db.close();
      throw err;
    }
    return f;
  }

  release(): void {
    this.refs--;
    if (this.refs > 0) return;
    this.closed = true;
    SqliteFile.open.delete(this.path);
    this.statements.clear();
    this.events.removeAllListeners();
    this.db.close();
  }

  /** A cached prepared statement. */
  sql(text: string): SqliteStatement {
    let s = this.statements.get(text);
    if (!s) {
      s = this.db.prepare(text);
      this.statements.set(text, s);
    }
    return s;
  }

  /**
   * Runs `fn` in a write transaction (BEGIN IMMEDIATE, so the write lock is taken up front and
   * no deadlock between two upgrading readers is possible). SQLITE_BUSY is retried with backoff
   * until `lockTimeoutMs`; a PolycloudError thrown by `fn` rolls back and propagates.
   */
  async write<T>(ctx: ErrorContext, fn: () => T, lockTimeoutMs = DEFAULT_LOCK_TIMEOUT_MS): Promise<T> {
    return this.retrying(ctx, lockTimeoutMs, () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const out = fn();
        this.db.exec('COMMIT');
        return out;
      } catch (err) {
        try {
          this.db.exec('ROLLBACK');
        } catch {
          // Already rolled back by SQLite (e.g. after an I/O error); nothing left to undo.
        }
        throw err;
      }
    });
  }

  /** Runs a read; WAL readers rarely wait, but a checkpoint or recovery can make them. */
  async read<T>(ctx: ErrorContext, fn: () => T, lockTimeoutMs = DEFAULT_LOCK_TIMEOUT_MS): Promise<T> {
    return this.retrying(ctx, lockTimeoutMs, fn);
  }

  async retrying<T>(ctx: ErrorContext, defaultTimeoutMs: number, fn: () => T): Promise<T> {
    const lockTimeoutMs = ctx.lockTimeoutMs ?? defaultTimeoutMs;
    const deadline = Date.now() + lockTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return fn();
      } catch (err) {
        if (isPolycloudError(err)) throw err;
        if (!isBusy(err) || Date.now() >= deadline) {
          const e = mapSqliteError(err, this.path, ctx);
          if (isBusy(err)) {
            throw pcError(
              'UNAVAILABLE',
              `${ctx.operation} on ${ctx.service} "${ctx.name}": the database ${this.path} stayed locked by another process for more than ${lockTimeoutMs} ms; retry later, or find the process holding it`,
              {
                provider: PROVIDER,
                service: ctx.service,
                operation: ctx.operation,
                resource: { name: ctx.name },
                retryable: true,
                cause: err,
              },
            );
          }
          throw e;
        }
        // Full jitter keeps several waiting processes from retrying in lockstep. A cancelled or
        // timed-out call stops here, so it cannot commit after its caller gave up on it.
        await sleep(
          Math.random() * Math.min(200, 5 * 2 ** attempt),
          ctx.signal,
          `${ctx.operation} on ${ctx.service} "${ctx.name}"`,
        );
      }
    }
  }
}

function initialise(db: SqliteDatabase, path: string, ctx: ErrorContext): void {
  // Look before writing anything: a foreign or corrupt file must be left exactly as it was
  // (even switching to WAL rewrites the header).
  db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  const appId = Number(db.prepare('PRAGMA application_id').get()?.application_id ?? 0);
  const tables = db
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .all()
    .map((r) => String(r.name));
  if (appId !== APPLICATION_ID && (appId !== 0 || tables.length > 0)) {
    throw pcError(
      'INVALID_ARGUMENT',
      `${ctx.operation} on ${ctx.service} "${ctx.name}": ${path} is an SQLite database that polycloud did not create (tables: ${tables.slice(0, 5).join(', ') || 'none'}${tables.length > 5 ? ', …' : ''}); it was left untouched. Point the URL at a new file or at a polycloud store`,
      {
        provider: PROVIDER,
        service: ctx.service,
        operation: ctx.operation,
        resource: { name: ctx.name },
        retryable: false,
      },
    );
  }
  if (appId === APPLICATION_ID) {
    const version = Number(db.prepare('PRAGMA user_version').get()?.user_version ?? 0);
    if (version > SCHEMA_VERSION) {
      throw pcError(
        'UNSUPPORTED',
        `${ctx.operation} on ${ctx.service} "${ctx.name}": ${path} was written by a newer @polycloud/local (schema ${version}, this one knows ${SCHEMA_VERSION}); upgrade @polycloud/local`,
        { provider: PROVIDER, service: ctx.service, operation: ctx.operation, retryable: false },
      );
    }
  }
  db.exec('PRAGMA journal_mode = WAL');
  // NORMAL in WAL mode: a killed process loses nothing committed; a power cut may roll back
  // the last transactions but never corrupts the file.
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA foreign_keys = OFF');
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec(SCHEMA);
    db.exec(`PRAGMA application_id = ${APPLICATION_ID}`);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec('COMMIT');
  } catch (err) {
    try {
      db.exec('ROLLBACK');
    } catch {
      // Nothing to undo.
    }
    throw err;
  }
}

/** Waits `ms`; the timer is ref'd on purpose: a waiting receive keeps the process alive. */
export function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
