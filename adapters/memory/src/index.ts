/**
 * @polycloud/memory — the in-memory reference adapter: blob storage, queues and key-value data
 * with the full semantics of the polycloud contract, in process memory and with no
 * dependencies. State is shared per name within the process, so opening `mem://x` twice sees
 * the same data.
 *
 * @example
 * const bucket = await openBucket('mem://uploads');   // via @polycloud/core
 * const jobs = memoryQueue('jobs');                    // or directly
 */
import {
  Bucket,
  type BucketOptions,
  KvStore,
  type KvStoreOptions,
  type KvValue,
  type KvValueOf,
  Queue,
  type QueueOptions,
} from '@polycloud/core';
import { type DriverOpenOptions, pcError, urlParams } from '@polycloud/core/driver';
import { bucketStore, MemoryBucketDriver, resetBuckets } from './blob.js';
import { kvNamespace, MemoryKvDriver, resetKv } from './kv.js';
import { MemoryQueueDriver, type MemoryQueueOptions, queueStore, resetQueues } from './queue.js';
import { PROVIDER } from './util.js';

export {
  MEMORY_BUCKET_CAPABILITIES,
  MemoryBucketDriver,
  MemoryBucketStore,
  type MemoryObject,
} from './blob.js';
export {
  MEMORY_KV_CAPABILITIES,
  MemoryKvDriver,
  MemoryKvNamespace,
  type MemoryKvRecord,
  MemoryKvTable,
} from './kv.js';
export {
  DEDUPLICATION_WINDOW_MS,
  DEFAULT_VISIBILITY_SECONDS,
  MEMORY_QUEUE_CAPABILITIES,
  type MemoryMessage,
  MemoryQueueDriver,
  type MemoryQueueOptions,
  MemoryQueueStore,
} from './queue.js';

/** The namespace a kv store uses when none is named. */
export const DEFAULT_NAMESPACE = 'default';

type Service = 'blob' | 'queue' | 'kv';

/** `mem://name` (or `mem://name/more/path`) → the store name. */
function nameFromUrl(url: URL, service: Service): string {
  const fail = (why: string) =>
    pcError('INVALID_ARGUMENT', `${url.href} is not a memory ${service} URL: ${why}; expected mem://name`, {
      provider: PROVIDER,
      service,
      operation: 'open',
      retryable: false,
    });
  if (url.protocol !== 'mem:') throw fail(`the scheme is ${url.protocol}`);
  if (url.username !== '' || url.password !== '') throw fail('credentials do not belong in URLs');
  if (url.port !== '') throw fail('a memory store has no port');
  if (url.hash !== '') throw fail('a fragment means nothing here');
  let name: string;
  try {
    name = decodeURIComponent(url.host + url.pathname.replace(/\/+$/, ''));
  } catch (err) {
    throw fail(`the name is not valid percent-encoding (${String(err)})`);
  }
  if (url.host === '' || name === '') throw fail('the name is missing');
  return name;
}

function optionsObject(opts: DriverOpenOptions | undefined, allowed: readonly string[], service: Service) {
  const d = opts?.driverOptions ?? {};
  for (const k of Object.keys(d)) {
    if (!allowed.includes(k)) {
      throw pcError(
        'INVALID_ARGUMENT',
        `unknown memory ${service} driver option "${k}"; ${allowed.length ? `allowed: ${allowed.join(', ')}` : 'it takes none'}`,
        { provider: PROVIDER, service, operation: 'open', retryable: false },
      );
    }
  }
  return d;
}

/** Opens `mem://name`: the bucket of that name in this process. Takes no parameters. */
export async function openBucketDriver(url: URL, opts: DriverOpenOptions = {}): Promise<MemoryBucketDriver> {
  urlParams(url, [], 'blob');
  optionsObject(opts, [], 'blob');
  return new MemoryBucketDriver(bucketStore(nameFromUrl(url, 'blob')));
}

/**
 * Opens `mem://name`: the queue of that name in this process. `driverOptions` may set
 * `visibilityTimeoutSeconds` (the default for receives; 30).
 */
export async function openQueueDriver(url: URL, opts: DriverOpenOptions = {}): Promise<MemoryQueueDriver> {
  urlParams(url, [], 'queue');
  const d = optionsObject(opts, ['visibilityTimeoutSeconds'], 'queue');
  const v = d.visibilityTimeoutSeconds;
  if (v !== undefined && typeof v !== 'number') {
    throw pcError('INVALID_ARGUMENT', 'driverOptions.visibilityTimeoutSeconds must be a number of seconds', {
      provider: PROVIDER,
      service: 'queue',
      operation: 'open',
      retryable: false,
    });
  }
  return new MemoryQueueDriver(
    queueStore(nameFromUrl(url, 'queue')),
    v === undefined ? {} : { visibilityTimeoutSeconds: v },
  );
}

/** Opens `mem://table?namespace=ns`: one namespace of the table of that name in this process. */
export async function openKvDriver(url: URL, opts: DriverOpenOptions = {}): Promise<MemoryKvDriver> {
  const q = urlParams(url, ['namespace'], 'kv');
  optionsObject(opts, [], 'kv');
  return new MemoryKvDriver(
    kvNamespace(nameFromUrl(url, 'kv'), checkNamespace(q.namespace ?? DEFAULT_NAMESPACE)),
  );
}

function checkNamespace(ns: string): string {
  if (ns === '') {
    throw pcError('INVALID_ARGUMENT', 'the kv namespace is empty; omit it for the default or name one', {
      provider: PROVIDER,
      service: 'kv',
      operation: 'open',
      retryable: false,
    });
  }
  return ns;
}

let anonymous = 0;
/** A name no URL has used, for stores that should be private to one caller. */
function freshName(kind: string): string {
  anonymous++;
  return `${kind}-${anonymous}-${crypto.randomUUID()}`;
}

/**
 * A bucket in memory. Without a name it is private to the caller; with one it is the same
 * bucket `mem://name` opens.
 *
 * @example
 * const bucket = memoryBucket();
 * await bucket.put('a.txt', 'hello');
 */
export function memoryBucket(name?: string, opts: BucketOptions = {}): Bucket {
  return new Bucket(new MemoryBucketDriver(bucketStore(name ?? freshName('bucket'))), opts);
}

/**
 * A queue in memory. Without a name it is private to the caller.
 *
 * @example
 * const jobs = memoryQueue<{ id: number }>('jobs');
 */
export function memoryQueue<T = unknown>(
  name?: string,
  opts: QueueOptions<T> & MemoryQueueOptions = {},
): Queue<T> {
  const { visibilityTimeoutSeconds, ...rest } = opts;
  const driver = new MemoryQueueDriver(
    queueStore(name ?? freshName('queue')),
    visibilityTimeoutSeconds === undefined ? {} : { visibilityTimeoutSeconds },
  );
  return new Queue<T>(driver, rest);
}

/**
 * A key-value store in memory: one namespace of a table. Without a name it is private.
 *
 * @example
 * const sessions = memoryKv<{ user: string }>('sessions', 'web');
 */
export function memoryKv<V extends KvValueOf<V> = KvValue>(
  name?: string,
  namespace?: string,
  opts: KvStoreOptions = {},
): KvStore<V> {
  return new KvStore<V>(
    new MemoryKvDriver(kvNamespace(name ?? freshName('kv'), checkNamespace(namespace ?? DEFAULT_NAMESPACE))),
    opts,
  );
}

/**
 * Forgets every memory bucket, queue and table in this process, and ends waiting receives.
 * Objects opened before see their old stores emptied and no longer shared; open again to share.
 *
 * @example
 * afterEach(() => resetMemory()); // each test starts from empty buckets, queues and tables
 */
export function resetMemory(): void {
  resetBuckets();
  resetQueues();
  resetKv();
}
