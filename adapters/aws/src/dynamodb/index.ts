import {
  type CreateTableCommandInput,
  DynamoDBClient,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb';
import {
  type DriverOpenOptions,
  invalidArgument,
  type KvDriver,
  urlBool,
  urlParams,
  utf8Length,
} from '@polycloud/core/driver/base';
import { KvStore, type KvStoreOptions, type KvValue, type KvValueOf } from '@polycloud/core/kv';
import {
  type AwsConnectionOptions,
  checkEndpoint,
  checkedEndpoint,
  driverOptionsOf,
  HTTP_TIMEOUTS,
  resolveRegion,
  SDK_RETRIES_OFF,
  urlResourceName,
} from '../config.js';
import { DEFAULT_ATTRIBUTES, type DynamoKvAttributes, DynamoKvDriver } from './driver.js';

export type { AwsConnectionOptions } from '../config.js';
export {
  DEFAULT_ATTRIBUTES,
  type DynamoKvAttributes,
  DynamoKvDriver,
  decodeValue,
  dynamoCapabilities,
  encodeValue,
} from './driver.js';

/** Namespace used when none is given (DynamoDB key attributes cannot be empty). */
export const DEFAULT_NAMESPACE = 'default';

/**
 * Options of {@link dynamoKv}: the table and namespace, how to reach DynamoDB, and the portable
 * retry and timeout options.
 */
export interface DynamoKvOptions extends AwsConnectionOptions, KvStoreOptions {
  readonly table: string;
  /** Partition key value for this store; default 'default'. */
  readonly namespace?: string;
  /** Attribute names in the table's items (defaults: pk, sk, v, ver, ttl, exp). */
  readonly attributes?: Partial<DynamoKvAttributes>;
  /** An already-configured client; close() then leaves it open. */
  readonly client?: DynamoDBClient;
  readonly clientConfig?: DynamoDBClientConfig;
}

/** A KvStore whose `native()` is typed as the DynamoDB client. */
export class DynamoKvStore<V extends KvValueOf<V> = KvValue> extends KvStore<V, DynamoDBClient> {}

/**
 * Builds a DynamoDB client: endpoint from the option or AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL.
 *
 * @example
 * const client = createDynamoClient({ endpoint: 'http://127.0.0.1:8000' }); // DynamoDB Local
 * const kv = dynamoKv({ table: 'app', client });
 */
export function createDynamoClient(
  opts: AwsConnectionOptions & { clientConfig?: DynamoDBClientConfig | undefined } = {},
): DynamoDBClient {
  const endpoint = checkedEndpoint(opts, 'DYNAMODB', 'kv');
  const region = resolveRegion(opts.region, endpoint);
  return new DynamoDBClient({
    ...SDK_RETRIES_OFF,
    // Connect and idle-read bounds, so a dead endpoint frees its socket (and lets the process
    // exit) even where a request is not aborted; core's attempt timeout ends the call first.
    requestHandler: HTTP_TIMEOUTS,
    ...opts.clientConfig,
    ...(region !== undefined ? { region } : {}),
    ...(endpoint !== undefined ? { endpoint } : {}),
  });
}

/**
 * The CreateTable input for a table this adapter can use (on-demand billing). After creating
 * it, enable TTL on the `ttl` attribute (UpdateTimeToLive) so DynamoDB deletes expired items;
 * reads hide them either way.
 *
 * @example
 * const client = createDynamoClient();
 * await client.send(new CreateTableCommand(kvTableDefinition('app')));
 * await client.send(new UpdateTimeToLiveCommand({
 *   TableName: 'app',
 *   TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
 * }));
 */
export function kvTableDefinition(
  table: string,
  attributes: Partial<Pick<DynamoKvAttributes, 'partitionKey' | 'sortKey'>> = {},
): CreateTableCommandInput {
  const pk = attributes.partitionKey ?? DEFAULT_ATTRIBUTES.partitionKey;
  const sk = attributes.sortKey ?? DEFAULT_ATTRIBUTES.sortKey;
  return {
    TableName: table,
    AttributeDefinitions: [
      { AttributeName: pk, AttributeType: 'S' },
      { AttributeName: sk, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: pk, KeyType: 'HASH' },
      { AttributeName: sk, KeyType: 'RANGE' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

/**
 * The driver behind `dynamoKv`.
 *
 * @example
 * const kv = new KvStore(dynamoKvDriver({ table: 'app', namespace: 'sessions' }), { timeoutMs: 5_000 });
 */
export function dynamoKvDriver(opts: Omit<DynamoKvOptions, keyof KvStoreOptions>): DynamoKvDriver {
  if (typeof opts.table !== 'string' || opts.table === '') {
    throw invalidArgument('dynamoKv: table is required', { service: 'kv', operation: 'open' });
  }
  const namespace = opts.namespace ?? DEFAULT_NAMESPACE;
  if (typeof namespace !== 'string' || namespace === '' || utf8Length(namespace) > 2048) {
    throw invalidArgument(
      'dynamoKv: namespace must be 1 to 2048 bytes of UTF-8 (it is the partition key value)',
      {
        service: 'kv',
        operation: 'open',
      },
    );
  }
  const client =
    opts.client ??
    createDynamoClient({
      region: opts.region,
      endpoint: opts.endpoint,
      allowInsecureHttp: opts.allowInsecureHttp,
      clientConfig: opts.clientConfig,
    });
  return new DynamoKvDriver({
    client,
    table: opts.table,
    namespace,
    ownsClient: opts.client === undefined,
    attributes: opts.attributes,
  });
}

/**
 * A DynamoDB table (pk = namespace, sk = key) as a portable KvStore.
 *
 * @example
 * const kv = dynamoKv<Session>({ table: 'app', namespace: 'sessions', region: 'eu-west-1' });
 * const { version } = await kv.set('s1', session, { ifAbsent: true, ttlSeconds: 3600 });
 */
export function dynamoKv<V extends KvValueOf<V> = KvValue>(opts: DynamoKvOptions): DynamoKvStore<V> {
  const { retry, timeoutMs } = opts;
  return new DynamoKvStore<V>(dynamoKvDriver(opts), {
    ...(retry !== undefined ? { retry } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  });
}

/**
 * URL opener used by `openKv('dynamodb://table?namespace=&region=&endpoint=')`.
 * `driverOptions` may carry `{ client }` (a DynamoDBClient) or `{ clientConfig }`.
 */
export async function openKvDriver(url: URL, opts: DriverOpenOptions = {}): Promise<KvDriver> {
  const q = urlParams(url, ['namespace', 'region', 'endpoint', 'allowInsecureHttp'], 'kv');
  const table = urlResourceName(url, 'table', 'kv');
  checkEndpoint(q.endpoint, 'kv');
  const d = driverOptionsOf<DynamoDBClient, DynamoDBClientConfig>(
    opts,
    (x): x is DynamoDBClient => x instanceof DynamoDBClient,
    'kv',
  );
  return dynamoKvDriver({
    table,
    ...(q.namespace !== undefined ? { namespace: q.namespace } : {}),
    ...(d.client !== undefined ? { client: d.client } : {}),
    ...(d.clientConfig !== undefined ? { clientConfig: d.clientConfig } : {}),
    region: q.region,
    endpoint: q.endpoint,
    allowInsecureHttp: urlBool(q.allowInsecureHttp, 'allowInsecureHttp', 'kv') ?? d.allowInsecureHttp,
  });
}
