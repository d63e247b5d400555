import { Bucket, type BucketOptions } from './blob/bucket.js';
import type { BucketDriver } from './blob/driver.js';
import { invalidArgument, isPolycloudError, pcError } from './errors.js';
import { DEFAULT_ATTEMPT_TIMEOUT_MS } from './internal/context.js';
import { abortHttpOn } from './internal/http-abort.js';
import { loadModule } from './internal/loader.js';
import { linkSignals, raceAbort } from './internal/signal.js';
import { redact } from './internal/url.js';
import { checkOpenArgs } from './internal/validate.js';
import type { KvDriver } from './kv/driver.js';
import { KvStore, type KvStoreOptions } from './kv/kvstore.js';
import type { KvValue, KvValueOf } from './kv/types.js';
import type { QueueDriver } from './queue/driver.js';
import { Queue, type QueueOptions } from './queue/queue.js';
import type { Service } from './telemetry.js';

export { type ModuleLoader, setModuleLoader } from './internal/loader.js';
export { urlBool, urlParams } from './internal/url.js';

/** Adapter-specific options passed through to the driver opener (e.g. a native client). */
export interface DriverOpenOptions {
  readonly driverOptions?: Readonly<Record<string, unknown>>;
  /**
   * Set by core for the opener: aborted when opening runs past its bound (timeoutMs, else
   * 30 s). Openers that do I/O should pass it to their requests so nothing lingers.
   */
  readonly signal?: AbortSignal;
}

/** What an adapter's blob module exports so `openBucket` can reach it by URL scheme. */
export interface BlobModule {
  /** Opens the bucket a URL names (e.g. `s3://bucket?region=eu-west-1`); invalid URLs are INVALID_ARGUMENT. */
  openBucketDriver(url: URL, opts: DriverOpenOptions): Promise<BucketDriver>;
}
/** What an adapter's queue module exports so `openQueue` can reach it by URL scheme. */
export interface QueueModule {
  /** Opens the queue a URL names (e.g. `sqs://jobs`); invalid URLs are INVALID_ARGUMENT. */
  openQueueDriver(url: URL, opts: DriverOpenOptions): Promise<QueueDriver>;
}
/** What an adapter's key-value module exports so `openKv` can reach it by URL scheme. */
export interface KvModule {
  /** Opens the table and namespace a URL names (e.g. `dynamodb://table/ns`); invalid URLs are INVALID_ARGUMENT. */
  openKvDriver(url: URL, opts: DriverOpenOptions): Promise<KvDriver>;
}

/**
 * How a URL scheme reaches an adapter: a module loaded lazily with `import()` (exporting
 * `openBucketDriver` / `openQueueDriver` / `openKvDriver`), or openers given directly.
 */
export interface SchemeRegistration {
  /** Module specifier, e.g. '@acme/polycloud-r2'. Loaded on first open, never before. */
  readonly module?: string;
  /** The services the scheme serves; default: those with an opener, else all three. */
  readonly services?: readonly Service[];
  /** Bucket opener given directly instead of a module. */
  readonly openBucketDriver?: BlobModule['openBucketDriver'];
  /** Queue opener given directly instead of a module. */
  readonly openQueueDriver?: QueueModule['openQueueDriver'];
  /** Key-value opener given directly instead of a module. */
  readonly openKvDriver?: KvModule['openKvDriver'];
  /** An example URL per service, for error messages (e.g. 'r2://bucket'). */
  readonly examples?: Partial<Record<Service, string>>;
}

interface SchemeEntry {
  readonly module: string;
  readonly services: readonly Service[];
  readonly direct?: Partial<Record<Service, unknown>>;
  readonly examples: Partial<Record<Service, string>>;
}

const SCHEMES = new Map<string, SchemeEntry>();
const SCHEME_NAME = /^[a-z][a-z0-9+.-]*$/;

/**
 * Registers a URL scheme so `openBucket` / `openQueue` / `openKv` reach an adapter by it. The
 * built-in schemes are registered through this same function. Returns a function that removes
 * the registration (tests). A scheme already registered is ALREADY_EXISTS unless `replace`.
 *
 * @example
 * registerScheme('r2', { module: '@acme/polycloud-r2', services: ['blob'], examples: { blob: 'r2://bucket' } });
 * const bucket = await openBucket('r2://uploads');
 */
export function registerScheme(
  scheme: string,
  reg: SchemeRegistration,
  opts: { readonly replace?: boolean } = {},
): () => void {
  const ctx = { service: 'core' as const, operation: 'registerScheme' };
  if (typeof scheme !== 'string' || !SCHEME_NAME.test(scheme)) {
    throw invalidArgument(
      `registerScheme: "${String(scheme)}" is not a URL scheme (lower-case, e.g. "r2")`,
      ctx,
    );
  }
  if (typeof reg !== 'object' || reg === null) {
    throw invalidArgument('registerScheme: pass { module } or openers', ctx);
  }
  const direct: Partial<Record<Service, unknown>> = {};
  if (reg.openBucketDriver !== undefined) direct.blob = reg.openBucketDriver;
  if (reg.openQueueDriver !== undefined) direct.queue = reg.openQueueDriver;
  if (reg.openKvDriver !== undefined) direct.kv = reg.openKvDriver;
  for (const f of Object.values(direct)) {
    if (typeof f !== 'function') throw invalidArgument('registerScheme: openers must be functions', ctx);
  }
  const hasDirect = Object.keys(direct).length > 0;
  if (!hasDirect && (typeof reg.module !== 'string' || reg.module === '')) {
    throw invalidArgument(`registerScheme("${scheme}"): pass a module specifier or openers`, ctx);
  }
  const services = reg.services ?? (hasDirect ? (Object.keys(direct) as Service[]) : ['blob', 'queue', 'kv']);
  for (const sv of services) {
    if (sv !== 'blob' && sv !== 'queue' && sv !== 'kv')
      throw invalidArgument(`registerScheme("${scheme}"): unknown service "${String(sv)}"`, ctx);
  }
  if (SCHEMES.has(scheme) && opts.replace !== true) {
    throw pcError(
      'ALREADY_EXISTS',
      `registerScheme: "${scheme}:" is already registered (${SCHEMES.get(scheme)!.module}); pass { replace: true } to override it`,
      { ...ctx, retryable: false },
    );
  }
  const previous = SCHEMES.get(scheme);
  const entry: SchemeEntry = {
    module: reg.module ?? `(${scheme}: registered openers)`,
    services: Object.freeze([...services]),
    ...(hasDirect ? { direct } : {}),
    examples: { ...reg.examples },
  };
  SCHEMES.set(scheme, entry);
  return () => {
    if (SCHEMES.get(scheme) !== entry) return;
    if (previous) SCHEMES.set(scheme, previous);
    else SCHEMES.delete(scheme);
  };
}

// The built-in adapters, registered the way a third-party adapter would be.
const BUILT_IN: readonly [string, string, readonly Service[], Partial<Record<Service, string>>][] = [
  [
    'mem',
    '@polycloud/memory',
    ['blob', 'queue', 'kv'],
    { blob: 'mem://name', queue: 'mem://name', kv: 'mem://name' },
  ],
  ['file', '@polycloud/local', ['blob'], { blob: 'file:///dir' }],
  [
    'local',
    '@polycloud/local',
    ['queue', 'kv'],
    { queue: 'local:///path.db?queue=name', kv: 'local:///path.db?table=t' },
  ],
  ['s3', '@polycloud/aws/s3', ['blob'], { blob: 's3://bucket' }],
  ['sqs', '@polycloud/aws/sqs', ['queue'], { queue: 'sqs://queue' }],
  ['dynamodb', '@polycloud/aws/dynamodb', ['kv'], { kv: 'dynamodb://table' }],
  ['gs', '@polycloud/gcp/storage', ['blob'], { blob: 'gs://bucket' }],
  [
    'gcppubsub',
    '@polycloud/gcp/pubsub',
    ['queue'],
    { queue: 'gcppubsub://projects/P/topics/T?subscription=S' },
  ],
  ['bigtable', '@polycloud/gcp/bigtable', ['kv'], { kv: 'bigtable://projects/P/instances/I/tables/T' }],
  ['azblob', '@polycloud/azure/blob', ['blob'], { blob: 'azblob://container' }],
  ['azqueue', '@polycloud/azure/queue', ['queue'], { queue: 'azqueue://queue' }],
  ['aztable', '@polycloud/azure/table', ['kv'], { kv: 'aztable://table' }],
];
for (const [scheme, module, services, examples] of BUILT_IN)
  registerScheme(scheme, { module, services, examples });

function examplesFor(service: Service): string {
  const out: string[] = [];
  for (const [scheme, e] of SCHEMES) {
    if (e.services.includes(service)) out.push(e.examples[service] ?? `${scheme}://...`);
  }
  return out.join(', ');
}

function parseUrl(input: string | URL, service: Service): { url: URL; entry: SchemeEntry } {
  let url: URL;
  try {
    url = typeof input === 'string' ? new URL(input) : input;
  } catch (err) {
    throw invalidArgument(`"${String(input)}" is not a URL; expected one of ${examplesFor(service)}`, {
      service,
      operation: 'open',
      cause: err,
    });
  }
  const scheme = url.protocol.replace(/:$/, '');
  const entry = SCHEMES.get(scheme);
  if (!entry?.services.includes(service)) {
    throw invalidArgument(
      `no ${service} adapter for scheme "${scheme}:" in ${redact(url)}; expected one of ${examplesFor(service)}`,
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

/**
 * What to install when an adapter cannot be loaded: the package Node could not find (the
 * adapter itself, or the SDK peer dependency it imports), or, when a file inside an installed
 * package is missing, that the package is not built.
 */
function missingModuleMessage(service: Service, module: string, pkg: string, err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const spec = /Cannot find (?:package|module) '([^']+)'/.exec(text)?.[1];
  if (spec !== undefined && /^(\/|\.|file:)/.test(spec)) {
    return `the ${service} adapter ${module} is installed but a file of it is missing (${spec}): build it (\`npm run build\` in its repository) or reinstall ${pkg}`;
  }
  if (spec !== undefined && spec !== pkg && !spec.startsWith(`${pkg}/`)) {
    const peer = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
    return `the ${service} adapter ${module} needs ${peer}, which is not installed: run \`npm install ${peer}\``;
  }
  return `the ${service} adapter ${module} is not installed (or one of its SDK peer dependencies is missing): run \`npm install ${pkg}\` and its peer dependencies`;
}

async function load<T>(entry: SchemeEntry, service: Service, fn: string): Promise<T> {
  const given = entry.direct?.[service];
  if (given !== undefined) return given as T;
  let mod: unknown;
  try {
    mod = await loadModule(entry.module);
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
        ? missingModuleMessage(service, entry.module, pkg, err)
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
    return await raceAbort(
      abortHttpOn(bound.signal, () => fn(bound.signal)),
      bound.signal,
      (late) => void late.close().catch(() => {}),
    );
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

/**
 * The scheme table (built-in and registered), for docs and tools.
 *
 * @example
 * registeredSchemes().s3; // { module: '@polycloud/aws/s3', services: ['blob'] }
 */
export function registeredSchemes(): Readonly<
  Record<string, { module: string; services: readonly Service[] }>
> {
  const out: Record<string, { module: string; services: readonly Service[] }> = {};
  for (const [scheme, e] of SCHEMES) out[scheme] = { module: e.module, services: e.services };
  return Object.freeze(out);
}
