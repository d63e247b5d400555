import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type { KvCapabilities, KvValue, PolycloudError } from '@polycloud/core';
import {
  backoffDelay,
  type DriverKvEntry,
  defineCapabilities,
  fromBase64Url,
  fromUtf8,
  invalidArgument,
  type KvDriver,
  pcError,
  resolveOutcome,
  sleep,
  toBase64Url,
  utf8,
  utf8Length,
} from '@polycloud/core/driver/base';
import { awsErrorName, mapAwsError } from '../errors.js';

/**
 * DynamoDB's item size limit (names and values of every attribute) is 400 KB, which AWS
 * enforces as 409,600 bytes; the declared limit is counted from 400,000 so that servers which
 * read "400 KB" as decimal (moto refuses items over 405,000 bytes) accept every declared value.
 */
const MAX_ITEM_BYTES = 400_000;
/** Sort key limit. */
const MAX_KEY_BYTES = 1024;
/** Room for the other attributes (names, version, expiry numbers) in an item. */
const ITEM_OVERHEAD = 256;
const BATCH_GET = 100;
const BATCH_WRITE = 25;
const DELETE_CONCURRENCY = 8;
/**
 * Rounds of UnprocessedKeys/UnprocessedItems re-submission when the caller gave no deadline.
 * A protocol loop, not a retry of a failed request: BatchGetItem/BatchWriteItem succeed while
 * handing back the part they did not process, which the caller must send again.
 */
const MAX_UNPROCESSED_ROUNDS = 30;
const UNPROCESSED_BACKOFF = { maxAttempts: MAX_UNPROCESSED_ROUNDS, initialDelayMs: 50, maxDelayMs: 5000 };

/** Attribute names the driver uses in the table's items. */
export interface DynamoKvAttributes {
  /** Partition key (S): the namespace. Default 'pk'. */
  readonly partitionKey: string;
  /** Sort key (S): the key. Default 'sk'. */
  readonly sortKey: string;
  /** Value: S (JSON text), B (bytes) or N (numbers, so counters can ADD). Default 'v'. */
  readonly value: string;
  /** Version (S), random per write. Default 'ver'. */
  readonly version: string;
  /** Expiry in epoch seconds (N), rounded up: point the table's TTL setting at it. Default 'ttl'. */
  readonly ttl: string;
  /** Expiry in epoch milliseconds (N), what reads compare against. Default 'exp'. */
  readonly expiresAtMs: string;
}

/** Attribute names used when `attributes` names none: pk, sk, v, ver, ttl, exp. */
export const DEFAULT_ATTRIBUTES: DynamoKvAttributes = Object.freeze({
  partitionKey: 'pk',
  sortKey: 'sk',
  value: 'v',
  version: 'ver',
  ttl: 'ttl',
  expiresAtMs: 'exp',
});

/**
 * What a DynamoDB store supports. The value limit depends on `namespace` because the namespace
 * is stored in every item and counts against DynamoDB's 400 KB item size.
 */
export function dynamoCapabilities(namespace: string): KvCapabilities {
  return defineCapabilities({
    ifVersion: true,
    ifAbsent: true,
    ttl: true,
    increment: true,
    binaryValues: true,
    maxKeyBytes: MAX_KEY_BYTES,
    maxValueBytes: MAX_ITEM_BYTES - MAX_KEY_BYTES - utf8Length(namespace) - ITEM_OVERHEAD,
    maxBatchSize: BATCH_GET,
    maxListLimit: 1000,
  });
}

type Sig = { signal: AbortSignal | undefined };
type Item = Record<string, AttributeValue>;

/** Builds an expression's name/value maps so only what an expression uses is sent. */
class Expr {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, AttributeValue> = {};
  private readonly placeholders = new Map<string, string>();
  private valueCount = 0;
  name(attr: string): string {
    let k = this.placeholders.get(attr);
    if (k === undefined) {
      k = `#${this.placeholders.size}`;
      this.placeholders.set(attr, k);
      this.names[k] = attr;
    }
    return k;
  }
  value(v: AttributeValue): string {
    const k = `:${this.valueCount++}`;
    this.values[k] = v;
    return k;
  }
  params() {
    return {
      ...(this.placeholders.size > 0 ? { ExpressionAttributeNames: this.names } : {}),
      ...(this.valueCount > 0 ? { ExpressionAttributeValues: this.values } : {}),
    };
  }
}

/**
 * DynamoDB `KvDriver`: one item per key with the namespace as partition key and the key as sort
 * key; conditional PutItem/DeleteItem for ifAbsent/ifVersion, UpdateItem ADD for counters,
 * Query with begins_with for listing, BatchGetItem/BatchWriteItem for the batch calls.
 */
export class DynamoKvDriver implements KvDriver {
  readonly provider = 'aws';
  readonly name: string;
  readonly namespace: string;
  readonly capabilities: KvCapabilities;
  /** Every request passes the attempt's signal, and the SDK ends it on abort. */
  readonly signalEndsRequests = true;
  private readonly client: DynamoDBClient;
  private readonly ownsClient: boolean;
  private readonly a: DynamoKvAttributes;

  constructor(cfg: {
    client: DynamoDBClient;
    table: string;
    namespace: string;
    ownsClient: boolean;
    attributes?: Partial<DynamoKvAttributes> | undefined;
  }) {
    this.client = cfg.client;
    this.name = cfg.table;
    this.namespace = cfg.namespace;
    this.ownsClient = cfg.ownsClient;
    this.a = { ...DEFAULT_ATTRIBUTES, ...cfg.attributes };
    this.capabilities = dynamoCapabilities(cfg.namespace);
  }

  native(): DynamoDBClient {
    return this.client;
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }

  private err(err: unknown, operation: string, key?: string): PolycloudError {
    return mapAwsError(err, { service: 'kv', operation, name: this.name, key });
  }

  private keyOf(key: string): Item {
    return { [this.a.partitionKey]: { S: this.namespace }, [this.a.sortKey]: { S: key } };
  }

  private item(key: string, value: KvValue, version: string, expiresAt: Date | undefined): Item {
    const item: Item = {
      ...this.keyOf(key),
      [this.a.value]: encodeValue(value),
      [this.a.version]: { S: version },
    };
    if (expiresAt !== undefined) {
      item[this.a.ttl] = { N: String(Math.ceil(expiresAt.getTime() / 1000)) };
      item[this.a.expiresAtMs] = { N: String(expiresAt.getTime()) };
    }
    return item;
  }

  private entry(item: Item | undefined): DriverKvEntry | undefined {
    if (item === undefined) return undefined;
    const key = item[this.a.sortKey]?.S;
    const v = item[this.a.value];
    if (key === undefined || v === undefined) return undefined;
    const exp = this.expiry(item);
    return {
      key,
      value: decodeValue(v),
      version: item[this.a.version]?.S ?? '',
      ...(exp === undefined ? {} : { expiresAt: new Date(exp) }),
    };
  }

  /** Expiry in ms: the exact attribute, else the TTL seconds (items written by other tools). */
  private expiry(item: Item): number | undefined {
    const ms = Number(item[this.a.expiresAtMs]?.N);
    if (Number.isFinite(ms)) return ms;
    const s = Number(item[this.a.ttl]?.N);
    return Number.isFinite(s) ? s * 1000 : undefined;
  }

  private live(item: Item | undefined): boolean {
    if (item === undefined) return false;
    const exp = this.expiry(item);
    return exp === undefined || exp > Date.now();
  }

  /** `(attribute_not_exists(exp) OR exp > now)`: the item is not expired. */
  private notExpired(e: Expr, now: number): string {
    const exp = e.name(this.a.expiresAtMs);
    return `(attribute_not_exists(${exp}) OR ${exp} > ${e.value({ N: String(now) })})`;
  }

  // ---------------------------------------------------------------- reads

  async get(key: string, opts: Sig): Promise<DriverKvEntry | undefined> {
    try {
      const out = await this.client.send(
        new GetItemCommand({ TableName: this.name, Key: this.keyOf(key), ConsistentRead: true }),
        { abortSignal: opts.signal },
      );
      return this.entry(out.Item);
    } catch (err) {
      throw this.err(err, 'get', key);
    }
  }

  async getMany(keys: readonly string[], opts: Sig): Promise<readonly (DriverKvEntry | undefined)[]> {
    const unique = [...new Set(keys)];
    const found = new Map<string, DriverKvEntry>();
    try {
      for (let i = 0; i < unique.length; i += BATCH_GET) {
        let pending: Item[] = unique.slice(i, i + BATCH_GET).map((k) => this.keyOf(k));
        for (let round = 1; pending.length > 0; round++) {
          const out = await this.client.send(
            new BatchGetItemCommand({
              RequestItems: { [this.name]: { Keys: pending, ConsistentRead: true } },
            }),
            { abortSignal: opts.signal },
          );
          for (const item of out.Responses?.[this.name] ?? []) {
            const e = this.entry(item);
            if (e) found.set(e.key, e);
          }
          pending = out.UnprocessedKeys?.[this.name]?.Keys ?? [];
          if (pending.length > 0) await this.backoff(round, opts.signal, 'getMany');
        }
      }
    } catch (err) {
      throw this.err(err, 'getMany');
    }
    return keys.map((k) => found.get(k));
  }

  /** Waits before retrying unprocessed batch work; gives up after a while without a deadline. */
  private async backoff(round: number, signal: AbortSignal | undefined, op: string): Promise<void> {
    if (signal === undefined && round >= MAX_UNPROCESSED_ROUNDS) {
      throw pcError(
        'THROTTLED',
        `${op} on kv "${this.name}" (aws): DynamoDB left work unprocessed after ${round} rounds`,
        {
          provider: 'aws',
          service: 'kv',
          operation: op,
          resource: { name: this.name },
          retryable: true,
        },
      );
    }
    await sleep(
      backoffDelay(UNPROCESSED_BACKOFF, Math.min(round, 10)) + 10,
      signal,
      `${op} on kv "${this.name}"`,
    );
  }

  async list(opts: { prefix: string; cursor: string | undefined; limit: number } & Sig) {
    const e = new Expr();
    let cond = `${e.name(this.a.partitionKey)} = ${e.value({ S: this.namespace })}`;
    if (opts.prefix !== '')
      cond += ` AND begins_with(${e.name(this.a.sortKey)}, ${e.value({ S: opts.prefix })})`;
    const start = opts.cursor === undefined ? undefined : this.decodeCursor(opts.cursor, opts.prefix);
    try {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.name,
          KeyConditionExpression: cond,
          ...e.params(),
          Limit: opts.limit,
          ConsistentRead: true,
          ScanIndexForward: true,
          ...(start !== undefined ? { ExclusiveStartKey: this.keyOf(start) } : {}),
        }),
        { abortSignal: opts.signal },
      );
      const entries: DriverKvEntry[] = [];
      for (const item of out.Items ?? []) {
        const en = this.entry(item);
        if (en) entries.push(en);
      }
      const last = out.LastEvaluatedKey?.[this.a.sortKey]?.S;
      return {
        entries,
        cursor: last === undefined ? undefined : toBase64Url(utf8(JSON.stringify({ k: last }))),
      };
    } catch (err) {
      throw this.err(err, 'list');
    }
  }

  private decodeCursor(cursor: string, prefix: string): string {
    let k: unknown;
    try {
      k = (JSON.parse(fromUtf8(fromBase64Url(cursor))) as { k?: unknown }).k;
    } catch {
      k = undefined;
    }
    if (typeof k !== 'string' || k === '' || !k.startsWith(prefix)) {
      throw invalidArgument(
        `list on kv "${this.name}": the cursor is not one this store returned for this prefix`,
        {
          provider: 'aws',
          service: 'kv',
          operation: 'list',
          resource: { name: this.name },
        },
      );
    }
    return k;
  }

  // ---------------------------------------------------------------- writes

  async set(
    key: string,
    value: KvValue,
    opts: { ifVersion: string | undefined; ifAbsent: boolean; expiresAt: Date | undefined } & Sig,
  ): Promise<{ version: string }> {
    const version = newVersion();
    const e = new Expr();
    let condition: string | undefined;
    const now = Date.now();
    if (opts.ifAbsent) {
      const exp = e.name(this.a.expiresAtMs);
      condition = `attribute_not_exists(${e.name(this.a.partitionKey)}) OR ${exp} <= ${e.value({ N: String(now) })}`;
    } else if (opts.ifVersion !== undefined) {
      condition = `${e.name(this.a.version)} = ${e.value({ S: opts.ifVersion })} AND ${this.notExpired(e, now)}`;
    }
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.name,
          Item: this.item(key, value, version, opts.expiresAt),
          ...(condition !== undefined ? { ConditionExpression: condition, ...e.params() } : {}),
        }),
        { abortSignal: opts.signal },
      );
      return { version };
    } catch (err) {
      if (awsErrorName(err) === 'ConditionalCheckFailedException') {
        throw this.conflict(
          err,
          'set',
          key,
          opts.ifAbsent ? 'ALREADY_EXISTS' : 'PRECONDITION_FAILED',
          opts.ifVersion,
        );
      }
      const mapped = this.sizeAware(err, 'set', key);
      if (condition === undefined) throw mapped;
      // A conditional write whose answer was lost: the version it would have written tells
      // whether it landed (versions are random per write).
      return resolveOutcome(mapped, async () => {
        const now = await this.readItem(key, opts.signal);
        if (now?.[this.a.version]?.S === version) return { applied: { version } };
        const untouched = opts.ifAbsent
          ? !this.live(now)
          : now?.[this.a.version]?.S === opts.ifVersion && this.live(now);
        return untouched ? 'not-applied' : 'unknown';
      });
    }
  }

  /** A consistent read of the raw item, to resolve writes whose answer was lost. */
  private async readItem(key: string, signal: AbortSignal | undefined): Promise<Item | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.name, Key: this.keyOf(key), ConsistentRead: true }),
      { abortSignal: signal },
    );
    return out.Item;
  }

  private conflict(
    err: unknown,
    op: string,
    key: string,
    code: 'ALREADY_EXISTS' | 'PRECONDITION_FAILED',
    ifVersion?: string,
  ): PolycloudError {
    const why =
      code === 'ALREADY_EXISTS'
        ? 'the key already exists (ifAbsent)'
        : `the key is missing or its version is not ${ifVersion ?? 'the expected one'}`;
    return pcError(code, `${op} on kv "${this.name}" key "${key}" (aws): ${why}; nothing was written`, {
      provider: 'aws',
      service: 'kv',
      operation: op,
      resource: { name: this.name, key },
      retryable: false,
      cause: err,
    });
  }

  /** DynamoDB reports an oversized item as a ValidationException. */
  private sizeAware(err: unknown, op: string, key?: string): PolycloudError {
    const msg = err instanceof Error ? err.message : '';
    if (awsErrorName(err) === 'ValidationException' && /size has exceeded|item size|too large/i.test(msg)) {
      return mapAwsError(err, { service: 'kv', operation: op, name: this.name, key }, 'PAYLOAD_TOO_LARGE');
    }
    return this.err(err, op, key);
  }

  async delete(key: string, opts: { ifVersion: string | undefined } & Sig): Promise<boolean> {
    const e = new Expr();
    const condition =
      opts.ifVersion === undefined
        ? undefined
        : `${e.name(this.a.version)} = ${e.value({ S: opts.ifVersion })} AND ${this.notExpired(e, Date.now())}`;
    try {
      const out = await this.client.send(
        new DeleteItemCommand({
          TableName: this.name,
          Key: this.keyOf(key),
          ReturnValues: 'ALL_OLD',
          ...(condition !== undefined ? { ConditionExpression: condition, ...e.params() } : {}),
        }),
        { abortSignal: opts.signal },
      );
      return this.live(out.Attributes);
    } catch (err) {
      if (awsErrorName(err) === 'ConditionalCheckFailedException') {
        throw this.conflict(err, 'delete', key, 'PRECONDITION_FAILED', opts.ifVersion);
      }
      const mapped = this.err(err, 'delete', key);
      if (opts.ifVersion === undefined) throw mapped;
      // A conditional delete whose answer was lost: if the version is still there it did not land.
      return resolveOutcome(mapped, async () => {
        const now = await this.readItem(key, opts.signal);
        return now?.[this.a.version]?.S === opts.ifVersion && this.live(now) ? 'not-applied' : 'unknown';
      });
    }
  }

  async setMany(
    items: readonly { key: string; value: KvValue; expiresAt: Date | undefined }[],
    opts: Sig,
  ): Promise<readonly ({ version: string } | { error: PolycloudError })[]> {
    const results: ({ version: string } | { error: PolycloudError })[] = new Array(items.length);
    // BatchWriteItem rejects a batch naming one key twice: such keys go to a later batch, in order.
    const batches: number[][] = [];
    let current: number[] = [];
    let seen = new Set<string>();
    items.forEach((it, i) => {
      if (current.length === BATCH_WRITE || seen.has(it.key)) {
        batches.push(current);
        current = [];
        seen = new Set();
      }
      current.push(i);
      seen.add(it.key);
    });
    if (current.length > 0) batches.push(current);

    for (const batch of batches) {
      const versions = new Map<number, string>();
      const requests = new Map<string, number>();
      let pending: WriteRequest[] = batch.map((i) => {
        const it = items[i]!;
        const v = newVersion();
        versions.set(i, v);
        requests.set(it.key, i);
        return { PutRequest: { Item: this.item(it.key, it.value, v, it.expiresAt) } };
      });
      try {
        for (let round = 1; pending.length > 0; round++) {
          const out = await this.client.send(
            new BatchWriteItemCommand({ RequestItems: { [this.name]: pending } }),
            {
              abortSignal: opts.signal,
            },
          );
          pending = out.UnprocessedItems?.[this.name] ?? [];
          if (pending.length > 0) await this.backoff(round, opts.signal, 'setMany');
        }
        for (const i of batch) results[i] = { version: versions.get(i)! };
      } catch (err) {
        // Items still pending (or the whole batch, when the call failed) get the error.
        const e = this.sizeAware(err, 'setMany');
        const failed = new Set<number>();
        for (const w of pending) {
          const k = w.PutRequest?.Item?.[this.a.sortKey]?.S;
          const i = k === undefined ? undefined : requests.get(k);
          if (i !== undefined) failed.add(i);
        }
        for (const i of batch) results[i] = failed.has(i) ? { error: e } : { version: versions.get(i)! };
      }
    }
    return results;
  }

  /**
   * Deletes with DeleteItem (ReturnValues ALL_OLD), a few at a time: BatchWriteItem cannot
   * say whether a key existed, which the contract reports per key.
   */
  async deleteMany(
    keys: readonly string[],
    opts: Sig,
  ): Promise<readonly ({ existed: boolean } | { error: PolycloudError })[]> {
    const results: ({ existed: boolean } | { error: PolycloudError })[] = new Array(keys.length);
    // A key named twice is deleted in input order (the second finds nothing); distinct keys in parallel.
    const groups = new Map<string, number[]>();
    keys.forEach((k, i) => {
      const g = groups.get(k);
      if (g) g.push(i);
      else groups.set(k, [i]);
    });
    const queue = [...groups.entries()];
    const worker = async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        const [key, indexes] = next;
        for (const i of indexes) {
          try {
            results[i] = { existed: await this.delete(key, { ifVersion: undefined, signal: opts.signal }) };
          } catch (err) {
            results[i] = { error: this.err(err, 'deleteMany', key) };
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, queue.length) }, worker));
    return results;
  }

  /**
   * Atomic ADD on the numeric value attribute. A missing key starts from 0 (ADD creates it); an
   * expired one is replaced with `by` under a condition that it is still expired.
   */
  async increment(key: string, by: number, opts: Sig): Promise<{ value: number; version: string }> {
    // A protocol loop, not a retry: an expired counter is replaced under a condition, which a
    // concurrent writer can win; the ADD is then tried again on the fresh item.
    for (let attempt = 1; ; attempt++) {
      const version = newVersion();
      const now = Date.now();
      const e = new Expr();
      const update = `ADD ${e.name(this.a.value)} ${e.value({ N: String(by) })} SET ${e.name(this.a.version)} = ${e.value({ S: version })}`;
      // A missing item passes too (it has no expiry attribute): ADD then creates it.
      const condition = this.notExpired(e, now);
      try {
        const out = await this.client.send(
          new UpdateItemCommand({
            TableName: this.name,
            Key: this.keyOf(key),
            UpdateExpression: update,
            ConditionExpression: condition,
            ...e.params(),
            // Only the counter is read back; the version is the one this call wrote. An ADD of
            // 0 leaves the counter as it was, and moto then leaves it out of
            // UPDATED_NEW: read the whole item back for that one case.
            ReturnValues: by === 0 ? 'ALL_NEW' : 'UPDATED_NEW',
          }),
          { abortSignal: opts.signal },
        );
        const n = Number(out.Attributes?.[this.a.value]?.N);
        if (!Number.isFinite(n)) throw pcError('INTERNAL', 'UpdateItem returned no numeric value');
        return { value: n, version };
      } catch (err) {
        if (awsErrorName(err) === 'ValidationException') {
          const msg = err instanceof Error ? err.message : '';
          if (/data type|operand|mismatch/i.test(msg)) {
            throw pcError(
              'PRECONDITION_FAILED',
              `increment on kv "${this.name}" key "${key}" (aws): the stored value is not a number`,
              {
                provider: 'aws',
                service: 'kv',
                operation: 'increment',
                resource: { name: this.name, key },
                cause: err,
                retryable: false,
              },
            );
          }
        }
        if (awsErrorName(err) !== 'ConditionalCheckFailedException') {
          // An ADD whose answer was lost must not be sent again: it would count twice. The
          // version it set tells whether it landed; if another write came since, say so.
          return resolveOutcome(this.err(err, 'increment', key), async () => {
            const now = await this.readItem(key, opts.signal);
            const n = Number(now?.[this.a.value]?.N);
            return now?.[this.a.version]?.S === version && Number.isFinite(n)
              ? { applied: { value: n, version } }
              : 'unknown';
          });
        }
      }
      // The item exists but has expired: start again from `by`, unless someone got there first.
      const e2 = new Expr();
      const stillExpired = `${e2.name(this.a.expiresAtMs)} <= ${e2.value({ N: String(Date.now()) })}`;
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.name,
            Item: this.item(key, by, version, undefined),
            ConditionExpression: stillExpired,
            ...e2.params(),
          }),
          { abortSignal: opts.signal },
        );
        return { value: by, version };
      } catch (err) {
        if (awsErrorName(err) === 'ConditionalCheckFailedException' && attempt < 5) continue;
        // A replacement whose answer was lost: our version is there if it landed.
        return resolveOutcome(this.err(err, 'increment', key), async () => {
          const now = await this.readItem(key, opts.signal);
          return now?.[this.a.version]?.S === version ? { applied: { value: by, version } } : 'unknown';
        });
      }
    }
  }
}

function newVersion(): string {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return toBase64Url(b);
}

/** JSON as S, bytes as B, plain decimal numbers as N (so `increment` can ADD to them). */
export function encodeValue(value: KvValue): AttributeValue {
  if (value instanceof Uint8Array) return { B: value };
  if (typeof value === 'number' && Number.isFinite(value)) {
    const s = String(value);
    // N holds 38 digits within 1e-130..1e126; exponent forms are kept as JSON text instead.
    if (!/e/i.test(s)) return { N: s };
  }
  return { S: JSON.stringify(value) };
}

/**
 * Reads a stored attribute back as a KvValue (the inverse of {@link encodeValue}); also reads
 * NULL and BOOL, which other writers may have stored. Other types are INVALID_ARGUMENT.
 */
export function decodeValue(v: AttributeValue): KvValue {
  if (v.B !== undefined) return new Uint8Array(v.B);
  if (v.N !== undefined) return Number(v.N);
  if (v.S !== undefined) return JSON.parse(v.S) as KvValue;
  if (v.NULL) return null;
  if (v.BOOL !== undefined) return v.BOOL;
  throw invalidArgument('stored value has a DynamoDB type polycloud does not read (expected S, B or N)');
}
