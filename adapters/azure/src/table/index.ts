/**
 * Azure Table Storage (and Azure Cosmos DB for Table) for polycloud.
 *
 * @example
 * import { azureKv } from '@polycloud/azure/table';
 * const sessions = azureKv({ table: 'sessions', namespace: 'web', account: 'myaccount' });
 * await sessions.set('s1', { user: 'u1' }, { ttlSeconds: 3600 });
 *
 * @example
 * import { openKv } from '@polycloud/core';
 * const kv = await openKv('aztable://sessions?account=myaccount&namespace=web');
 */
import { AzureNamedKeyCredential, TableClient, type TableServiceClientOptions } from '@azure/data-tables';
import {
  type DriverOpenOptions,
  invalidArgument,
  urlBool,
  urlParams,
  utf8Length,
} from '@polycloud/core/driver/base';
import { KvStore, type KvStoreOptions, type KvValue, type KvValueOf } from '@polycloud/core/kv';
import { resourceFromUrl, USER_AGENT_PREFIX } from '../clients.js';
import {
  type AzureCredentialOptions,
  connectionStringEndpoint,
  credentialOptionsFrom,
  insecureParam,
  isInsecure,
  resolveCredentials,
} from '../credentials.js';
import { PROVIDER } from '../errors.js';
import { AzureKvDriver, MAX_KEY_BYTES } from './driver.js';

export type { AzureCredentialOptions, AzureTokenCredential } from '../credentials.js';
export {
  AZURE_KV_CAPABILITIES,
  AzureKvDriver,
  COSMOS_KV_CAPABILITIES,
  isCosmosEndpoint,
  MAX_KEY_BYTES,
  MAX_VALUE_BYTES,
} from './driver.js';
export {
  decodeOrderedBytes,
  decodeTableKey,
  encodeOrderedBytes,
  encodeTableKey,
  prefixRange,
} from './keys.js';

/** The namespace a store uses when none is named. */
export const DEFAULT_NAMESPACE = 'default';

/** A KvStore whose `native()` is typed as the table client. */
export type AzureKvStore<V extends KvValueOf<V> = KvValue> = KvStore<V, TableClient>;

export interface AzureKvOptions extends AzureCredentialOptions, KvStoreOptions {
  /** Table name. Ignored when `client` is given. */
  readonly table?: string;
  /** The namespace (PartitionKey), 1 to 384 bytes of UTF-8; default "default". */
  readonly namespace?: string;
  /** An already-configured table client (Table Storage or Cosmos DB for Table). */
  readonly client?: TableClient;
  /**
   * The table is on Azure Cosmos DB for Table (smaller key limit, 2 MB transactions). Default:
   * detected from the endpoint (`*.table.cosmos.azure.com`).
   */
  readonly cosmos?: boolean;
  /** Options for clients polycloud builds (the SDK's own retries are off by default: the portable layer retries). */
  readonly clientOptions?: TableServiceClientOptions;
}

function isTableClient(x: unknown): x is TableClient {
  if (x instanceof TableClient) return true;
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as TableClient).submitTransaction === 'function' &&
    typeof (x as TableClient).tableName === 'string'
  );
}

function checkNamespace(ns: unknown): string {
  if (typeof ns !== 'string' || ns === '' || !ns.isWellFormed() || utf8Length(ns) > MAX_KEY_BYTES) {
    throw invalidArgument(
      `azure kv: namespace must be 1 to ${MAX_KEY_BYTES} bytes of UTF-8 (it is the PartitionKey)`,
      {
        provider: PROVIDER,
        service: 'kv',
        operation: 'open',
      },
    );
  }
  return ns;
}

/**
 * Builds (or adopts) the table client and the driver.
 *
 * @example
 * const kv = new KvStore(azureKvDriver({ table: 'app', account: 'myaccount' }), { timeoutMs: 5_000 });
 */
export function azureKvDriver(opts: AzureKvOptions): AzureKvDriver {
  const namespace = checkNamespace(opts.namespace ?? DEFAULT_NAMESPACE);
  const cosmosOpt = opts.cosmos === undefined ? {} : { cosmos: opts.cosmos };
  if (opts.client) {
    if (!isTableClient(opts.client)) {
      throw invalidArgument('azureKv: client must be a TableClient from @azure/data-tables', {
        provider: PROVIDER,
        service: 'kv',
        operation: 'open',
      });
    }
    return new AzureKvDriver(opts.client, namespace, cosmosOpt);
  }
  const table = opts.table;
  if (table === undefined || table === '') {
    throw invalidArgument('azureKv: pass table (or client)', {
      provider: PROVIDER,
      service: 'kv',
      operation: 'open',
    });
  }
  const creds = resolveCredentials(opts, 'table', 'kv');
  const endpoint =
    creds.kind === 'connectionString'
      ? (connectionStringEndpoint(creds.connectionString, 'table') ?? creds.endpoint)
      : creds.endpoint;
  const co: TableServiceClientOptions = {
    retryOptions: { maxRetries: 0 },
    userAgentOptions: { userAgentPrefix: USER_AGENT_PREFIX },
    ...(isInsecure(endpoint) ? { allowInsecureConnection: true } : {}),
    ...opts.clientOptions,
  };
  let client: TableClient;
  switch (creds.kind) {
    case 'connectionString':
      client = TableClient.fromConnectionString(creds.connectionString, table, co);
      break;
    case 'sharedKey':
      client = new TableClient(
        endpoint,
        table,
        new AzureNamedKeyCredential(creds.account, creds.accountKey),
        co,
      );
      break;
    case 'token':
      client = new TableClient(endpoint, table, creds.credential, co);
      break;
  }
  return new AzureKvDriver(client, namespace, cosmosOpt);
}

/**
 * A KvStore on one Azure table, in one namespace (PartitionKey).
 *
 * @example
 * const kv = azureKv({ table: 'app', namespace: 'users', connectionString: process.env.AZURE_STORAGE_CONNECTION_STRING });
 * const client = kv.native(); // TableClient
 */
export function azureKv<V extends KvValueOf<V> = KvValue>(opts: AzureKvOptions): AzureKvStore<V> {
  return new KvStore<V, TableClient>(azureKvDriver(opts), opts);
}

/**
 * URL opener used by `openKv('aztable://table?account=…&namespace=…&endpoint=…')`.
 * `driverOptions` may carry `client`, `connectionString`, `accountKey`, `credential`.
 */
export async function openKvDriver(url: URL, opts: DriverOpenOptions): Promise<AzureKvDriver> {
  const table = resourceFromUrl(url, 'kv', 'table');
  const q = urlParams(url, ['account', 'endpoint', 'allowInsecureHttp', 'namespace', 'cosmos'], 'kv');
  const cosmos = urlBool(q.cosmos, 'cosmos', 'kv');
  const d = opts.driverOptions ?? {};
  return azureKvDriver({
    ...credentialOptionsFrom(d),
    ...(q.account === undefined ? {} : { account: q.account }),
    ...(q.endpoint === undefined ? {} : { endpoint: q.endpoint }),
    ...insecureParam(q.allowInsecureHttp, 'kv'),
    ...(q.namespace === undefined ? {} : { namespace: q.namespace }),
    ...(cosmos === undefined ? {} : { cosmos }),
    table,
    ...(isTableClient(d.client) ? { client: d.client } : {}),
  });
}
