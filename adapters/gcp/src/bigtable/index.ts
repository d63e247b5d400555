/**
 * Bigtable for polycloud: `bigtable://projects/P/instances/I/tables/T?namespace=N` URLs,
 * `bigtableKv({ projectId, instanceId, tableId })`, and the driver.
 *
 * @example
 * import { bigtableKv } from '@polycloud/gcp/bigtable';
 * await using kv = bigtableKv({ projectId: 'p', instanceId: 'i', tableId: 'sessions', namespace: 'web' });
 * await kv.set('s1', { user: 'ada' }, { ttlSeconds: 3600 });
 */
import type { Bigtable } from '@google-cloud/bigtable';
import {
  type DriverOpenOptions,
  invalidArgument,
  type KvDriver,
  urlParams,
} from '@polycloud/core/driver/base';
import { KvStore, type KvStoreOptions, type KvValue, type KvValueOf } from '@polycloud/core/kv';
import { allowInsecure } from '../endpoint.js';
import { type BigtableKvConfig, BigtableKvDriver } from './driver.js';

export { type BigtableKvConfig, BigtableKvDriver, bigtableClient } from './driver.js';
export { namespacePrefix } from './layout.js';

/** Options for `bigtableKv`: table, namespace, client, and the portable options. */
export type BigtableKvOptions = BigtableKvConfig & KvStoreOptions;

/** A KvStore whose `native()` is the Bigtable client. */
export type BigtableKv<V extends KvValueOf<V> = KvValue> = KvStore<V, Bigtable>;

/**
 * Opens a Bigtable table (namespace `namespace`) as a portable KvStore. The table must have
 * the column family (default "kv"); see the README for the recommended GC rule.
 *
 * @example
 * const kv = bigtableKv({ projectId: 'p', instanceId: 'i', tableId: 't', client: new Bigtable() });
 */
export function bigtableKv<V extends KvValueOf<V> = KvValue>(opts: BigtableKvOptions): BigtableKv<V> {
  return new KvStore<V, Bigtable>(new BigtableKvDriver(opts), opts);
}

/**
 * URL opener used by core's `openKv('bigtable://projects/P/instances/I/tables/T?namespace=N&family=F')`.
 * `driverOptions` may carry `client` (a Bigtable), `apiEndpoint` and `appProfileId`.
 */
export async function openKvDriver(url: URL, opts: DriverOpenOptions): Promise<KvDriver> {
  const params = urlParams(url, ['namespace', 'family', 'appProfileId', 'allowInsecureHttp'], 'kv');
  const path = `${url.host}${url.pathname}`.replace(/\/+$/, '');
  const m = /^projects\/([^/]+)\/instances\/([^/]+)\/tables\/([^/]+)$/.exec(path);
  if (!m) {
    throw invalidArgument(
      `${url.href} does not name a table; use bigtable://projects/P/instances/I/tables/T`,
      {
        service: 'kv',
        operation: 'open',
      },
    );
  }
  const d = opts.driverOptions ?? {};
  const client = d.client;
  if (
    client !== undefined &&
    (typeof client !== 'object' || client === null || typeof (client as Bigtable).instance !== 'function')
  ) {
    throw invalidArgument('driverOptions.client must be a @google-cloud/bigtable Bigtable', {
      service: 'kv',
      operation: 'open',
    });
  }
  const appProfileId =
    params.appProfileId ?? (typeof d.appProfileId === 'string' ? d.appProfileId : undefined);
  return new BigtableKvDriver({
    projectId: decodeURIComponent(m[1]!),
    instanceId: decodeURIComponent(m[2]!),
    tableId: decodeURIComponent(m[3]!),
    ...(params.namespace !== undefined ? { namespace: params.namespace } : {}),
    ...(params.family !== undefined ? { family: params.family } : {}),
    ...(client !== undefined ? { client: client as Bigtable } : {}),
    ...(typeof d.apiEndpoint === 'string' ? { apiEndpoint: d.apiEndpoint } : {}),
    ...(appProfileId ? { appProfileId } : {}),
    ...allowInsecure(params.allowInsecureHttp, d.allowInsecureHttp, 'kv'),
  });
}
