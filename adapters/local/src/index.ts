/**
 * @polycloud/local — the embedded, persistent default: blob storage in a folder
 * (`file:///dir`), queues and key-value data in an SQLite file
 * (`local:///path.db?queue=name`, `local:///path.db?table=t`), safe to share between
 * processes. No server, no dependencies beyond Node's built-in node:sqlite.
 *
 * @example
 * const uploads = await openBucket('file:///var/lib/app/uploads');   // via @polycloud/core
 * const jobs = await localQueue<{ id: number }>('./data/app.db', 'jobs');  // or directly
 */
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  Bucket,
  type BucketOptions,
  type DriverOpenOptions,
  KvStore,
  type KvStoreOptions,
  type KvValue,
  pcError,
  Queue,
  type QueueOptions,
  urlParams,
} from '@polycloud/core';
import { type LocalBucketDriver, openLocalBucket } from './blob.js';
import { LocalKvDriver } from './kv.js';
import { LocalQueueDriver, type LocalQueueOptions } from './queue.js';
import { SqliteFile } from './sqlite.js';
import { mkdirp, PROVIDER } from './util.js';

export {
  INDEX_FILE,
  LOCAL_BUCKET_CAPABILITIES,
  type LocalBucketDriver,
  type LocalBucketHandle,
} from './blob.js';
export { LOCAL_KV_CAPABILITIES, LocalKvDriver, type LocalKvHandle } from './kv.js';
export {
  DEDUPLICATION_WINDOW_MS,
  DEFAULT_VISIBILITY_SECONDS,
  LOCAL_QUEUE_CAPABILITIES,
  LocalQueueDriver,
  type LocalQueueHandle,
  type LocalQueueOptions,
} from './queue.js';
export type { Row, SqliteDatabase, SqliteStatement, SqlValue } from './sqlite.js';

/** The namespace a kv store uses when none is named. */
export const DEFAULT_NAMESPACE = 'default';

type Service = 'blob' | 'queue' | 'kv';

function invalid(service: Service, message: string) {
  return pcError('INVALID_ARGUMENT', message, {
    provider: PROVIDER,
    service,
    operation: 'open',
    retryable: false,
  });
}

function optionsObject(opts: DriverOpenOptions | undefined, allowed: readonly string[], service: Service) {
  const d = opts?.driverOptions ?? {};
  for (const k of Object.keys(d)) {
    if (!allowed.includes(k)) {
      throw invalid(
        service,
        `unknown local ${service} driver option "${k}"; ${allowed.length ? `allowed: ${allowed.join(', ')}` : 'it takes none'}`,
      );
    }
  }
  return d;
}

/** `file:///dir` → an absolute folder path. */
function folderFromUrl(url: URL): string {
  const expected = 'expected file:///absolute/folder';
  if (url.protocol !== 'file:') throw invalid('blob', `${url.href} is not a file URL; ${expected}`);
  if (url.username !== '' || url.password !== '' || url.hash !== '') {
    throw invalid('blob', `${url.href}: a file URL takes no credentials or fragment; ${expected}`);
  }
  const bare = new URL(url.href);
  bare.search = '';
  let path: string;
  try {
    path = fileURLToPath(bare);
  } catch (err) {
    throw invalid('blob', `${url.href} does not name a folder on this machine (${String(err)}); ${expected}`);
  }
  if (path === '' || path === '/')
    throw invalid('blob', `${url.href}: refusing to use the file system root as a bucket; ${expected}`);
  return resolve(path);
}

/**
 * `local:///abs/path.db` or `local:relative/path.db` → an absolute file path. The folder is
 * created when missing; a path that is a folder is refused.
 */
async function databaseFromUrl(url: URL, service: Service): Promise<string> {
  const expected = `expected local:///absolute/path.db?${service === 'queue' ? 'queue=name' : 'table=t'} (or local:relative/path.db?…)`;
  if (url.protocol !== 'local:') throw invalid(service, `${url.href} is not a local URL; ${expected}`);
  if (url.username !== '' || url.password !== '' || url.hash !== '' || url.port !== '') {
    throw invalid(service, `${url.href}: a local URL takes no credentials, port or fragment; ${expected}`);
  }
  if (url.host !== '' && url.host !== 'localhost') {
    throw invalid(service, `${url.href}: "${url.host}" is read as a host name; ${expected}`);
  }
  let path: string;
  try {
    path = url.pathname.startsWith('/')
      ? fileURLToPath(`file://${url.pathname}`)
      : resolve(decodeURIComponent(url.pathname));
  } catch (err) {
    throw invalid(service, `${url.href} does not name a file (${String(err)}); ${expected}`);
  }
  if (url.pathname === '' || url.pathname === '/' || path.endsWith('/')) {
    throw invalid(service, `${url.href} names no database file; ${expected}`);
  }
  path = resolve(path);
  const fail = (code: 'INVALID_ARGUMENT' | 'PERMISSION_DENIED', why: string, cause?: unknown) =>
    pcError(code, `open ${service} at ${path}: ${why}`, {
      provider: PROVIDER,
      service,
      operation: 'open',
      retryable: false,
      ...(cause === undefined ? {} : { cause }),
    });
  const st = await stat(path).catch(() => undefined);
  if (st?.isDirectory())
    throw fail('INVALID_ARGUMENT', 'the path is a folder; name a database file, e.g. …/app.db');
  if (!st) {
    await mkdirp(dirname(path)).catch((err: NodeJS.ErrnoException) => {
      throw fail(
        err.code === 'EACCES' || err.code === 'EPERM' || err.code === 'EROFS'
          ? 'PERMISSION_DENIED'
          : 'INVALID_ARGUMENT',
        `cannot create the folder ${dirname(path)} (${err.code ?? err.message})`,
        err,
      );
    });
  }
  return path;
}

function queueOptions(d: Readonly<Record<string, unknown>>): LocalQueueOptions {
  const v = d.visibilityTimeoutSeconds;
  if (v !== undefined && typeof v !== 'number') {
    throw invalid('queue', 'driverOptions.visibilityTimeoutSeconds must be a number of seconds');
  }
  const lock = lockTimeout(d, 'queue');
  return {
    ...(v === undefined ? {} : { visibilityTimeoutSeconds: v }),
    ...(lock === undefined ? {} : { lockTimeoutMs: lock }),
  };
}

/** `driverOptions.lockTimeoutMs`: how long a call retries while another process holds the lock. */
function lockTimeout(d: Readonly<Record<string, unknown>>, service: Service): number | undefined {
  const v = d.lockTimeoutMs;
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw invalid(service, 'driverOptions.lockTimeoutMs must be a non-negative number of milliseconds');
  }
  return v;
}

function required(q: Record<string, string>, param: string, url: URL, service: Service): string {
  const v = q[param];
  if (v === undefined || v === '') {
    throw invalid(
      service,
      `${url.href} names no ${service === 'queue' ? 'queue' : 'table'}; add ?${param}=name`,
    );
  }
  return v;
}

/**
 * Opens `file:///dir`: the bucket kept in that folder (created when missing). Takes no URL
 * parameters; `driverOptions` may set `lockTimeoutMs` (see openQueueDriver).
 */
export async function openBucketDriver(url: URL, opts: DriverOpenOptions = {}): Promise<LocalBucketDriver> {
  urlParams(url, [], 'blob');
  const d = optionsObject(opts, ['lockTimeoutMs'], 'blob');
  return openLocalBucket(folderFromUrl(url), lockTimeout(d, 'blob'));
}

/**
 * Opens `local:///path.db?queue=name`. `driverOptions` may set `visibilityTimeoutSeconds`
 * (the default for receives; 30) and `lockTimeoutMs` (how long a call retries while another
 * process holds the write lock; 30 000).
 */
export async function openQueueDriver(url: URL, opts: DriverOpenOptions = {}): Promise<LocalQueueDriver> {
  const q = urlParams(url, ['queue'], 'queue');
  const d = optionsObject(opts, ['visibilityTimeoutSeconds', 'lockTimeoutMs'], 'queue');
  const name = required(q, 'queue', url, 'queue');
  const options = queueOptions(d);
  const path = await databaseFromUrl(url, 'queue');
  const file = await SqliteFile.acquire(path, { service: 'queue', operation: 'open', name });
  try {
    return new LocalQueueDriver(file, name, options);
  } catch (err) {
    file.release();
    throw err;
  }
}

/**
 * Opens `local:///path.db?table=t&namespace=ns`: one namespace of a table in that file.
 * `driverOptions` may set `lockTimeoutMs` (see openQueueDriver).
 */
export async function openKvDriver(url: URL, opts: DriverOpenOptions = {}): Promise<LocalKvDriver> {
  const q = urlParams(url, ['table', 'namespace'], 'kv');
  const d = optionsObject(opts, ['lockTimeoutMs'], 'kv');
  const table = required(q, 'table', url, 'kv');
  const namespace = q.namespace ?? DEFAULT_NAMESPACE;
  if (namespace === '') throw invalid('kv', 'the kv namespace is empty; omit it for the default or name one');
  const path = await databaseFromUrl(url, 'kv');
  const file = await SqliteFile.acquire(path, { service: 'kv', operation: 'open', name: table });
  return new LocalKvDriver(file, table, namespace, lockTimeout(d, 'kv'));
}

function fileUrl(path: string): URL {
  return pathToFileURL(resolve(path));
}

/**
 * A bucket kept in folder `dir` (relative paths resolve against the working directory).
 *
 * @example
 * await using uploads = await localBucket('./data/uploads');
 */
export async function localBucket(dir: string, opts: BucketOptions = {}): Promise<Bucket> {
  const url = fileUrl(dir);
  return new Bucket(await openBucketDriver(url), opts);
}

/**
 * A queue named `name` in the SQLite file at `path`.
 *
 * @example
 * await using jobs = await localQueue<{ id: number }>('./data/app.db', 'jobs');
 */
export async function localQueue<T = unknown>(
  path: string,
  name: string,
  opts: QueueOptions<T> & LocalQueueOptions = {},
): Promise<Queue<T>> {
  const { visibilityTimeoutSeconds, lockTimeoutMs, ...rest } = opts;
  const url = new URL(`local://${fileUrl(path).pathname}`);
  url.searchParams.set('queue', name);
  const driver = await openQueueDriver(url, {
    driverOptions: {
      ...(visibilityTimeoutSeconds === undefined ? {} : { visibilityTimeoutSeconds }),
      ...(lockTimeoutMs === undefined ? {} : { lockTimeoutMs }),
    },
  });
  return new Queue<T>(driver, rest);
}

/**
 * A key-value store: namespace `namespace` of table `table` in the SQLite file at `path`.
 *
 * @example
 * await using sessions = await localKv<{ user: string }>('./data/app.db', 'sessions');
 */
export async function localKv<V extends KvValue = KvValue>(
  path: string,
  table: string,
  namespace: string = DEFAULT_NAMESPACE,
  opts: KvStoreOptions = {},
): Promise<KvStore<V>> {
  const url = new URL(`local://${fileUrl(path).pathname}`);
  url.searchParams.set('table', table);
  url.searchParams.set('namespace', namespace);
  return new KvStore<V>(await openKvDriver(url), opts);
}
