import { Bucket, type BucketOptions } from './blob/bucket.js';
import type { BucketDriver } from './blob/driver.js';
import { invalidArgument, isPolycloudError, pcError } from './errors.js';
import { DEFAULT_ATTEMPT_TIMEOUT_MS } from './internal/context.js';
import { linkSignals, raceAbort } from './internal/signal.js';
import { checkOpenArgs } from './internal/validate.js';
import type { KvDriver } from './kv/driver.js';
import { KvStore, type KvStoreOptions } from './kv/kvstore.js';
import type { KvValue, KvValueOf } from './kv/types.js';
import type { QueueDriver } from './queue/driver.js';
import { Queue, type QueueOptions } from './queue/queue.js';

type Service = 'blob' | 'queue' | 'kv';

/** Adapter-specific options passed through to the driver opener (e.g. a native client). */
export interface DriverOpenOptions {
  readonly driverOptions?: Readonly<Record<string, unknown>>;
  /**
   * Set by core for the opener: aborted when opening runs past its bound (timeoutMs, else
   * 30 s). Openers that do I/O should pass it to their requests so nothing lingers.
   */
  readonly signal?: AbortSignal;
}

/** What an adapter's service module exports for URL opening. */
export interface BlobModule {
  openBucketDriver(url: URL, opts: DriverOpenOptions): Promise<BucketDriver>;
}
export interface QueueModule {
  openQueueDriver(url: URL, opts: DriverOpenOptions): Promise<QueueDriver>;
}
export interface KvModule {
  openKvDriver(url: URL, opts: DriverOpenOptions): Promise<KvDriver>;
}

interface SchemeEntry {
  readonly module: string;
  readonly services: readonly Service[];
}

/**
 * URL scheme → adapter module. Modules load lazily with `import()`, so an application only
 * needs the adapter it actually opens, and nothing registers itself as a side effect.
 */
const SCHEMES: Readonly<Record<string, SchemeEntry>> = {
  mem: { module: '@polycloud/memory', services: ['blob', 'queue', 'kv'] },
  file: { module: '@polycloud/local', services: ['blob'] },
  local: { module: '@polycloud/local', services: ['queue', 'kv'] },
  s3: { module: '@polycloud/aws/s3', services: ['blob'] },
  sqs: { module: '@polycloud/aws/sqs', services: ['queue'] },
  dynamodb: { module: '@polycloud/aws/dynamodb', services: ['kv'] },
  gs: { module: '@polycloud/gcp/storage', services: ['blob'] },
  gcppubsub: { module: '@polycloud/gcp/pubsub', services: ['queue'] },
  bigtable: { module: '@polycloud/gcp/bigtable', services: ['kv'] },
  azblob: { module: '@polycloud/azure/blob', services: ['blob'] },
  azqueue: { module: '@polycloud/azure/queue', services: ['queue'] },
  aztable: { module: '@polycloud/azure/table', services: ['kv'] },
};

const EXAMPLES: Record<Service, string> = {
  blob: 'mem://name, file:///dir, s3://bucket, gs://bucket, azblob://container',
  queue:
    'mem://name, local:///path.db?queue=name, sqs://queue, gcppubsub://projects/P/topics/T?subscription=S, azqueue://queue',
  kv: 'mem://name, local:///path.db?table=t, dynamodb://table, bigtable://projects/P/instances/I/tables/T, aztable://table',
};

/** Test seam and extension point: load a module by specifier. */
export type ModuleLoader = (specifier: string) => Promise<unknown>;
let loader: ModuleLoader = (s) => import(s);

/** Replaces how adapter modules are loaded (bundlers, tests). Returns the previous loader. */
export function setModuleLoader(next: ModuleLoader): ModuleLoader {
  const prev = loader;
  loader = next;
  return prev;
}

function parseUrl(input: string | URL, service: Service): { url: URL; entry: SchemeEntry } {
  let url: URL;
  try {
    url = typeof input === 'string' ? new URL(input) : input;
  } catch (err) {
    throw invalidArgument(`"${String(input)}" is not a URL; expected one of ${EXAMPLES[service]}`, {
      service,
      operation: 'open',
      cause: err,
    });
  }
  const scheme = url.protocol.replace(/:$/, '');
  const entry = SCHEMES[scheme];
  if (!entry?.services.includes(service)) {
    throw invalidArgument(
      `no ${service} adapter for scheme "${scheme}:" in ${redact(url)}; expected one of ${EXAMPLES[service]}`,
      {
        service,
        operation: 'open',
      },
    );
  }
  if (url.username || url.password) {
    throw invalidArgument(
      `credentials must not be put in URLs (${redact(url)}); the SDK's default credential chain applies, or pass a configured client`,
      { service, operation: 'open' },
    );
  }
  return { url, entry };
}

async function load<T>(entry: SchemeEntry, service: Service, fn: string): Promise<T> {
  let mod: unknown;
  try {
    mod = await loader(entry.module);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const missing =
      code === 'ERR_MODULE_NOT_FOUND' ||
      code === 'MODULE_NOT_FOUND' ||
      (err instanceof Error && /Cannot find (module|package)|Failed to (load|resolve)/.test(err.message));
    const pkg = entry.module.split('/').slice(0, 2).join('/');
    throw pcError(
      missing ? 'UNSUPPORTED' : 'INTERNAL',
      missing
        ? `the ${service} adapter ${entry.module} is not installed (or one of its SDK peer dependencies is missing): run \`npm install ${pkg}\` and its peer dependencies`
        : `loading ${entry.module} failed: ${err instanceof Error ? err.message : String(err)}`,
      { service, operation: 'open', cause: err, retryable: false },
    );
  }
  const f = (mod as Record<string, unknown>)[fn];
  if (typeof f !== 'function') {
    throw pcError(
      'INTERNAL',
      `${entry.module} does not export ${fn}(); is it a polycloud adapter of a matching version?`,
      {
        service,
        operation: 'open',
      },
    );
  }
  return f as T;
}

/**
 * Opens a bucket by URL; the scheme picks the adapter.
 *
 * @example
 * const bucket = await openBucket(process.env.UPLOADS_URL ?? 'mem://uploads');
 */
export async function openBucket(
  url: string | URL,
  opts: BucketOptions & DriverOpenOptions = {},
): Promise<Bucket> {
  checkOpenArgs(url, opts, 'blob');
  const { url: u, entry } = parseUrl(url, 'blob');
  const open = await load<BlobModule['openBucketDriver']>(entry, 'blob', 'openBucketDriver');
  const driver = await wrapOpen((signal) => open(u, { ...opts, signal }), 'blob', u, opts);
  return new Bucket(driver, opts);
}

/**
 * Opens a queue by URL.
 *
 * @example
 * const jobs = await openQueue<Job>(process.env.JOBS_URL ?? 'mem://jobs');
 */
export async function openQueue<T = unknown>(
  url: string | URL,
  opts: QueueOptions<T> & DriverOpenOptions = {},
): Promise<Queue<T>> {
  checkOpenArgs(url, opts, 'queue');
  const { url: u, entry } = parseUrl(url, 'queue');
  const open = await load<QueueModule['openQueueDriver']>(entry, 'queue', 'openQueueDriver');
  const driver = await wrapOpen((signal) => open(u, { ...opts, signal }), 'queue', u, opts);
  return new Queue<T>(driver, opts);
}

/**
 * Opens a key-value store by URL; `?namespace=` selects the namespace on every provider.
 *
 * @example
 * const sessions = await openKv<Session>(process.env.SESSIONS_URL ?? 'mem://sessions?namespace=web');
 */
export async function openKv<V extends KvValueOf<V> = KvValue>(
  url: string | URL,
  opts: KvStoreOptions & DriverOpenOptions = {},
): Promise<KvStore<V>> {
  checkOpenArgs(url, opts, 'kv');
  const { url: u, entry } = parseUrl(url, 'kv');
  const open = await load<KvModule['openKvDriver']>(entry, 'kv', 'openKvDriver');
  const driver = await wrapOpen((signal) => open(u, { ...opts, signal }), 'kv', u, opts);
  return new KvStore<V>(driver, opts);
}

async function wrapOpen<T extends { close(): Promise<void> }>(
  fn: (signal: AbortSignal) => Promise<T>,
  service: Service,
  url: URL,
  opts: { timeoutMs?: number; attemptTimeoutMs?: number },
): Promise<T> {
  // Opening may do I/O (a queue URL lookup, a subscription check): bound it like a call.
  const ms = openTimeoutMs(opts);
  const bound = linkSignals([], ms, `opening ${redact(url)}`);
  try {
    return await raceAbort(fn(bound.signal), bound.signal, (late) => void late.close().catch(() => {}));
  } catch (err) {
    if (bound.signal.aborted) {
      throw pcError(
        'TIMEOUT',
        `opening ${redact(url)} took longer than ${ms} ms; check the endpoint and network`,
        {
          service,
          operation: 'open',
          cause: err,
          retryable: true,
        },
      );
    }
    if (isPolycloudError(err)) throw err;
    throw pcError(
      'UNKNOWN',
      `opening ${redact(url)} failed: ${err instanceof Error ? err.message : String(err)}`,
      {
        service,
        operation: 'open',
        cause: err,
        retryable: false,
      },
    );
  } finally {
    bound.dispose();
  }
}

/** Opening may take several requests (a channel, a lookup): timeoutMs bounds it, else 30 s. */
function openTimeoutMs(opts: { timeoutMs?: number }): number {
  const t = opts.timeoutMs;
  return typeof t === 'number' && t > 0 ? t : DEFAULT_ATTEMPT_TIMEOUT_MS;
}

function redact(url: URL): string {
  const u = new URL(url.href);
  u.username = '';
  u.password = '';
  return u.href;
}

/**
 * Reads a URL's query parameters, rejecting any not in `allowed` so a typo is not ignored.
 * For adapters.
 *
 * @example
 * const q = urlParams(url, ['region', 'endpoint'], 'blob');
 */
export function urlParams(url: URL, allowed: readonly string[], service: Service): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of url.searchParams) {
    if (!allowed.includes(k)) {
      throw invalidArgument(
        `unknown URL parameter "${k}" in ${redact(url)}; ${allowed.length ? `allowed: ${allowed.join(', ')}` : 'this scheme takes no parameters'}`,
        { service, operation: 'open' },
      );
    }
    if (k in out)
      throw invalidArgument(`URL parameter "${k}" appears twice in ${redact(url)}`, {
        service,
        operation: 'open',
      });
    out[k] = v;
  }
  return out;
}

/** Parses a boolean URL parameter ("true"/"false"/"1"/"0"). */
export function urlBool(value: string | undefined, name: string, service: Service): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw invalidArgument(`URL parameter ${name} must be true or false, got "${value}"`, {
    service,
    operation: 'open',
  });
}

/** The scheme table, for docs and tools. */
export function registeredSchemes(): Readonly<
  Record<string, { module: string; services: readonly Service[] }>
> {
  return SCHEMES;
}
