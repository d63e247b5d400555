/**
 * Key-value get, set, getMany (10 keys), increment and list (a page of 10) on DynamoDB (moto),
 * the Bigtable emulator, Azure Table (Azurite) and memory, sequential calls. The raw side is what
 * an application would write with the same SDK client instance for the same semantics
 * (consistent read, whole-value write, batch read, atomic or optimistic add, a prefix page), on
 * its own keys in the same table; memory's raw side is the driver called directly.
 */
import {
  BatchGetItemCommand,
  CreateTableCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { TableClient } from '@azure/data-tables';
import { Bigtable } from '@google-cloud/bigtable';
import { createDynamoClient, dynamoKv, kvTableDefinition } from '@polycloud/aws/dynamodb';
import { azureKv } from '@polycloud/azure/table';
import { KvStore } from '@polycloud/core';
import { bigtableKv } from '@polycloud/gcp/bigtable';
import { MemoryKvDriver, MemoryKvNamespace } from '@polycloud/memory';
import { abba, type Call } from './abba.js';
import { type BenchSettings, formatRatio, progress } from './common.js';
import { rand, startAzuriteOnDisk, withEmulator } from './emulators.js';
import type { Row } from './results.js';

export const KV_GOAL = 1.02;
const KEYS = 100;
const MANY = 10;
const VALUE = { name: 'bench', count: 42, tags: ['a', 'b', 'c'], nested: { ok: true } };
const key = (i: number) => `bench/k${String(i % KEYS).padStart(4, '0')}`;

type Op = 'get' | 'set' | 'getMany' | 'increment' | 'list';
const OPS: readonly Op[] = ['get', 'set', 'getMany', 'increment', 'list'];

interface Raw {
  get(k: string): Promise<unknown>;
  set(k: string): Promise<unknown>;
  getMany(ks: readonly string[]): Promise<unknown>;
  increment(k: string): Promise<unknown>;
  list(prefix: string, limit: number): Promise<unknown>;
  /**
   * Second baselines, where the plain raw call does less than the contract asks of polycloud
   * (kept next to the plain rows, never instead of them): an increment that also advances the
   * entry's version and reads its expiry in the same request (ifVersion and TTL must see
   * increments), a list page whose values are decoded as polycloud returns them.
   */
  contract?: {
    increment?(k: string): Promise<unknown>;
    list?(prefix: string, limit: number): Promise<unknown>;
  };
}

/** Operation names of the second, contract-equivalent baseline rows. */
const CONTRACT_OP: Record<'increment' | 'list', string> = {
  increment: 'increment (raw + version + expiry)',
  list: 'list (raw + values decoded)',
};

async function measure(
  s: BenchSettings,
  provider: string,
  store: KvStore,
  raw: Raw,
  note: string,
): Promise<Row[]> {
  for (let i = 0; i < KEYS; i++) {
    await store.set(key(i), VALUE);
    await raw.set(key(i));
  }
  const rows: Row[] = [];
  let n = 0;
  const many = () => Array.from({ length: MANY }, (_, j) => key(n + j * 7));
  const sides: Record<Op, Record<'raw' | 'polycloud', Call>> = {
    get: { raw: () => raw.get(key(n++)), polycloud: () => store.get(key(n++)) },
    set: { raw: () => raw.set(key(n++)), polycloud: () => store.set(key(n++), VALUE) },
    getMany: { raw: () => raw.getMany(many()), polycloud: () => store.getMany(many()) },
    increment: {
      raw: () => raw.increment('bench/counter-raw'),
      polycloud: () => store.increment('bench/counter'),
    },
    list: {
      raw: () => raw.list('bench/k00', MANY),
      polycloud: () => store.list({ prefix: 'bench/k00', limit: MANY }),
    },
  };
  const cells: { op: Op; operation: string; sides: Record<'raw' | 'polycloud', Call>; baseline: string }[] =
    [];
  const plain = provider === 'memory' ? 'driver called directly' : 'raw SDK';
  for (const op of OPS) {
    cells.push({ op, operation: op, sides: sides[op], baseline: plain });
    if (op === 'increment' && raw.contract?.increment) {
      const inc = raw.contract.increment;
      cells.push({
        op,
        operation: CONTRACT_OP.increment,
        sides: { raw: () => inc('bench/counter-raw2'), polycloud: sides.increment.polycloud },
        baseline: 'raw SDK, contract-equivalent',
      });
    }
    if (op === 'list' && raw.contract?.list) {
      const list = raw.contract.list;
      cells.push({
        op,
        operation: CONTRACT_OP.list,
        sides: { raw: () => list('bench/k00', MANY), polycloud: sides.list.polycloud },
        baseline: 'raw SDK, contract-equivalent',
      });
    }
  }
  for (const { operation, sides: cell, baseline } of cells) {
    const c = await abba(cell, { concurrency: 1, cellMs: s.kvCellMs, rounds: s.rounds });
    rows.push({
      section: 'kv',
      provider,
      service: 'kv',
      operation,
      concurrency: 1,
      ratio: c.ratio,
      noise: c.noise,
      polycloud: c.polycloud.msPerOp,
      raw: c.raw.msPerOp,
      unit: 'ms/op',
      baseline,
      goal: KV_GOAL,
      cpu: { raw: c.raw.cpuUsPerOp, polycloud: c.polycloud.cpuUsPerOp, ratio: c.cpuRatio, noise: c.cpuNoise },
      latencyMs: {
        raw: { p50: c.raw.p50, p99: c.raw.p99 },
        polycloud: { p50: c.polycloud.p50, p99: c.polycloud.p99 },
      },
      ops: c.raw.ops,
      note,
    });
    progress(
      `${provider} kv ${operation}: ratio ${formatRatio(c.ratio)} [${c.noise.map(formatRatio).join('..')}] cpu ${formatRatio(c.cpuRatio)}`,
    );
  }
  return rows;
}

async function dynamo(s: BenchSettings): Promise<Row[]> {
  return withEmulator('moto', async (e) => {
    const client = createDynamoClient({
      endpoint: e.env.AWS_ENDPOINT_URL_DYNAMODB ?? e.env.AWS_ENDPOINT_URL!,
      region: e.env.AWS_REGION ?? 'us-east-1',
      clientConfig: { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
    });
    const TableName = `pc-bench-${rand()}`;
    await client.send(new CreateTableCommand(kvTableDefinition(TableName)));
    const store = dynamoKv({ table: TableName, client, namespace: 'pc' });
    const pk = { S: 'raw' };
    const Key = (k: string) => ({ pk, sk: { S: k } });
    try {
      return await measure(
        s,
        'aws',
        store as KvStore,
        {
          get: (k) => client.send(new GetItemCommand({ TableName, Key: Key(k), ConsistentRead: true })),
          set: (k) =>
            client.send(
              new PutItemCommand({
                TableName,
                Item: { ...Key(k), v: { S: JSON.stringify(VALUE) }, ver: { S: rand() } },
              }),
            ),
          getMany: (ks) =>
            client.send(
              new BatchGetItemCommand({
                RequestItems: { [TableName]: { Keys: ks.map(Key), ConsistentRead: true } },
              }),
            ),
          increment: (k) =>
            client.send(
              new UpdateItemCommand({
                TableName,
                Key: Key(k),
                UpdateExpression: 'ADD #v :by SET #ver = :ver',
                ExpressionAttributeNames: { '#v': 'n', '#ver': 'ver' },
                ExpressionAttributeValues: { ':by': { N: '1' }, ':ver': { S: rand() } },
                ReturnValues: 'ALL_NEW',
              }),
            ),
          list: (prefix, limit) =>
            client.send(
              new QueryCommand({
                TableName,
                KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
                ExpressionAttributeValues: { ':pk': pk, ':p': { S: prefix } },
                Limit: limit,
                ConsistentRead: true,
              }),
            ),
          contract: {
            // Counts only while the entry is not expired (an expired counter starts over).
            increment: (k) =>
              client.send(
                new UpdateItemCommand({
                  TableName,
                  Key: Key(k),
                  UpdateExpression: 'ADD #v :by SET #ver = :ver',
                  ConditionExpression: 'attribute_not_exists(#exp) OR #exp > :now',
                  ExpressionAttributeNames: { '#v': 'n', '#ver': 'ver', '#exp': 'exp' },
                  ExpressionAttributeValues: {
                    ':by': { N: '1' },
                    ':ver': { S: rand() },
                    ':now': { N: String(Date.now()) },
                  },
                  ReturnValues: 'UPDATED_NEW',
                }),
              ),
            list: async (prefix, limit) => {
              const out = await client.send(
                new QueryCommand({
                  TableName,
                  KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
                  ExpressionAttributeValues: { ':pk': pk, ':p': { S: prefix } },
                  Limit: limit,
                  ConsistentRead: true,
                }),
              );
              return (out.Items ?? []).map((it) => ({ key: it.sk?.S, value: JSON.parse(it.v?.S ?? 'null') }));
            },
          },
        },
        e.description,
      );
    } finally {
      await store.close();
      client.destroy();
    }
  });
}

async function bigtable(s: BenchSettings): Promise<Row[]> {
  return withEmulator('bigtable-emulator', async (e) => {
    const projectId = e.env.GOOGLE_CLOUD_PROJECT ?? 'polycloud-test';
    const client = new Bigtable({
      projectId,
      apiEndpoint: e.env.BIGTABLE_EMULATOR_HOST!,
      metricsEnabled: false,
    });
    const tableId = `kv-${rand()}`;
    await client
      .instance('polycloud')
      .createTable(tableId, { families: [{ name: 'kv', rule: { versions: 1 } }] });
    const table = client.instance('polycloud').table(tableId);
    const store = bigtableKv({ projectId, instanceId: 'polycloud', tableId, client, namespace: 'pc' });
    const rk = (k: string) => `raw#${k}`;
    try {
      return await measure(
        s,
        'gcp',
        store as unknown as KvStore,
        {
          get: (k) => table.row(rk(k)).get({ filter: [{ column: { cellLimit: 1 } }] }),
          set: (k) => table.row(rk(k)).save({ kv: { v: JSON.stringify(VALUE) } }),
          getMany: (ks) => table.getRows({ keys: ks.map(rk), filter: [{ column: { cellLimit: 1 } }] }),
          increment: (k) => table.row(rk(k)).increment('kv:n', 1),
          list: (prefix, limit) => table.getRows({ prefix: rk(prefix), limit }),
          contract: {
            // One ReadModifyWriteRow: the counter, a version step, and the expiry read back (+0).
            // Through the client's own request(): row.createRules drops an increment of 0.
            increment: (k) =>
              new Promise((resolve, reject) =>
                client.request(
                  {
                    client: 'BigtableClient',
                    method: 'readModifyWriteRow',
                    reqOpts: {
                      tableName: table.name,
                      rowKey: Buffer.from(rk(k)),
                      rules: [
                        { familyName: 'kv', columnQualifier: Buffer.from('n'), incrementAmount: 1 },
                        {
                          familyName: 'kv',
                          columnQualifier: Buffer.from('ver'),
                          incrementAmount: 1 + Math.floor(Math.random() * 2 ** 30),
                        },
                        { familyName: 'kv', columnQualifier: Buffer.from('exp'), incrementAmount: 0 },
                      ],
                    },
                    gaxOpts: { retry: null },
                  },
                  (err: Error | null, res?: unknown) => (err ? reject(err) : resolve(res)),
                ),
              ),
            list: async (prefix, limit) => {
              const [rows] = await table.getRows({ prefix: rk(prefix), limit });
              return rows.map((r) => ({
                key: r.id,
                value: JSON.parse(String((r.data as { kv?: { v?: { value: string }[] } }).kv?.v?.[0]?.value)),
              }));
            },
          },
        },
        e.description,
      );
    } finally {
      await store.close();
      await client.close();
    }
  });
}

async function azureTable(s: BenchSettings): Promise<Row[]> {
  const e = await startAzuriteOnDisk();
  try {
    const tableName = `pcbench${rand().replace(/[^a-z0-9]/g, '')}`;
    const client = TableClient.fromConnectionString(e.env.AZURE_STORAGE_CONNECTION_STRING!, tableName, {
      allowInsecureConnection: true,
    });
    await client.createTable();
    const store = azureKv({ client, namespace: 'pc' });
    const pk = 'raw';
    const rk = (k: string) => encodeURIComponent(k);
    return await measure(
      s,
      'azure',
      store as unknown as KvStore,
      {
        get: (k) => client.getEntity(pk, rk(k)),
        set: (k) =>
          client.upsertEntity({ partitionKey: pk, rowKey: rk(k), v: JSON.stringify(VALUE) }, 'Replace'),
        getMany: (ks) => Promise.all(ks.map((k) => client.getEntity(pk, rk(k)))),
        // Optimistic read-modify-write, the SDK's documented way to add to a value.
        increment: async (k) => {
          for (;;) {
            const cur = await client.getEntity<{ n: number }>(pk, rk(k)).catch(() => undefined);
            try {
              if (cur === undefined)
                return await client.createEntity({ partitionKey: pk, rowKey: rk(k), n: 1 });
              return await client.updateEntity({ partitionKey: pk, rowKey: rk(k), n: cur.n + 1 }, 'Replace', {
                etag: cur.etag,
              });
            } catch (err) {
              if (
                (err as { statusCode?: number }).statusCode !== 412 &&
                (err as { statusCode?: number }).statusCode !== 409
              )
                throw err;
            }
          }
        },
        list: async (prefix, limit) => {
          const p = rk(prefix);
          const pages = client
            .listEntities({
              queryOptions: { filter: `PartitionKey eq '${pk}' and RowKey ge '${p}' and RowKey lt '${p}~'` },
            })
            .byPage({ maxPageSize: limit });
          return (await pages.next()).value;
        },
        contract: {
          list: async (prefix, limit) => {
            const p = rk(prefix);
            const pages = client
              .listEntities<{ v: string }>({
                queryOptions: {
                  filter: `PartitionKey eq '${pk}' and RowKey ge '${p}' and RowKey lt '${p}~'`,
                },
              })
              .byPage({ maxPageSize: limit });
            const page: { rowKey?: string; v: string }[] = (await pages.next()).value ?? [];
            return page.map((e) => ({ key: e.rowKey, value: JSON.parse(e.v) as unknown }));
          },
        },
      },
      e.description,
    ).finally(() => store.close());
  } finally {
    await e.stop();
  }
}

async function memory(s: BenchSettings): Promise<Row[]> {
  const driver = new MemoryKvDriver(new MemoryKvNamespace('bench-kv', 'default'));
  const store = new KvStore(new MemoryKvDriver(new MemoryKvNamespace('bench-kv-pc', 'default')));
  const sig = { signal: undefined };
  return measure(
    s,
    'memory',
    store,
    {
      get: (k) => driver.get(k, sig),
      set: (k) =>
        driver.set(k, VALUE, { ifVersion: undefined, ifAbsent: false, expiresAt: undefined, ...sig }),
      getMany: (ks) => driver.getMany(ks, sig),
      increment: (k) => driver.increment(k, 1, sig),
      list: (prefix, limit) => driver.list({ prefix, cursor: undefined, limit, ...sig }),
    },
    'in process',
  );
}

export const KV_PROVIDERS: Record<string, (s: BenchSettings) => Promise<Row[]>> = {
  memory,
  aws: dynamo,
  gcp: bigtable,
  azure: azureTable,
};
