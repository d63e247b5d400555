import type { TableClient, TransactionAction } from '@azure/data-tables';
import type { KvCapabilities, KvValue, PolycloudError } from '@polycloud/core';
import {
  concatBytes,
  type DriverKvEntry,
  decodeKvValue,
  defineCapabilities,
  encodeKvValue,
  type KvDriver,
  mapLimit,
  pcError,
  sleep,
} from '@polycloud/core/driver/base';
import { type AzureErrorContext, azureErrorCode, azureStatus, mapAzureError, PROVIDER } from '../errors.js';
import { decodeTableKey, encodeTableKey, prefixRange } from './keys.js';

/** Table Storage: one binary property holds 64 KiB; an entity 1 MiB. */
const CHUNK_BYTES = 64 * 1024;
const ENTITY_BYTES = 1024 * 1024;
/**
 * Room for the rest of the entity within 1 MiB: keys of up to 512 characters each
 * (2 bytes per character), 16 chunk properties and the expiry, by the service's size formula
 * (4 + 2·len(PK+RK) + Σ 8 + 2·len(name) + value size) — about 2.4 KiB; 4 KiB is kept.
 */
const ENTITY_OVERHEAD = 4 * 1024;
/** The value limit: the entity minus overhead, minus encodeKvValue's tag byte. */
export const MAX_VALUE_BYTES = ENTITY_BYTES - ENTITY_OVERHEAD - 1;
/** 512 characters of ordered base64 hold 384 bytes. */
export const MAX_KEY_BYTES = 384;
/** Cosmos DB for Table: RowKeys of at most 255 bytes, which hold 191 bytes of key. */
export const COSMOS_MAX_KEY_BYTES = 191;
/** Entity group transactions: 100 operations, 4 MiB of request body (2 MB on Cosmos DB). */
const MAX_TRANSACTION = 100;
const MAX_TRANSACTION_BODY = 3.5 * 1024 * 1024;
const COSMOS_MAX_TRANSACTION_BODY = 1.8 * 1024 * 1024;
/** Parallel requests where the service has no batch read. */
const PARALLEL = 16;
/**
 * Attempts of optimistic loops (increment, ifAbsent over expired entries, delete). These are
 * the Table service's concurrency protocol (read, then write conditioned on the ETag; another
 * writer between the two makes the write fail with 412), not retries of failed requests: a
 * transport failure leaves the loop at once and goes to the portable layer.
 */
const MAX_ATTEMPTS = 100;

/**
 * What Azure Table Storage supports: conditional writes on ETags, TTL (enforced on read; the
 * service has no expiry), increments by optimistic retry, and batches of one entity group
 * transaction.
 */
export const AZURE_KV_CAPABILITIES: KvCapabilities = defineCapabilities({
  ifVersion: true,
  ifAbsent: true,
  ttl: true,
  increment: true,
  binaryValues: true,
  maxKeyBytes: MAX_KEY_BYTES,
  maxValueBytes: MAX_VALUE_BYTES,
  maxBatchSize: MAX_TRANSACTION,
  maxListLimit: 1000,
});

/** The same on Azure Cosmos DB for Table, whose RowKeys are limited to 255 bytes. */
export const COSMOS_KV_CAPABILITIES: KvCapabilities = defineCapabilities({
  ...AZURE_KV_CAPABILITIES,
  maxKeyBytes: COSMOS_MAX_KEY_BYTES,
});

/** Whether a table endpoint is Azure Cosmos DB for Table rather than Table Storage. */
export function isCosmosEndpoint(url: string): boolean {
  try {
    return /\.cosmos\.azure\.(com|cn|us)$|\.cosmosdb\.azure\.com$/i.test(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** Property names of a polycloud entity: the value in chunks `v`, `v1` … `v15`; the expiry `x`. */
const VALUE_PROPERTY = 'v';
const EXPIRY_PROPERTY = 'x';

type Entity = { partitionKey: string; rowKey: string } & Record<string, unknown>;
type Stored = { etag: string; rowKey: string; expiresAt: Date | undefined; value?: KvValue };
type Sig = { signal: AbortSignal | undefined };

function chunkName(i: number): string {
  return i === 0 ? VALUE_PROPERTY : `${VALUE_PROPERTY}${i}`;
}

function isExpired(e: { expiresAt: Date | undefined }, now = Date.now()): boolean {
  return e.expiresAt !== undefined && e.expiresAt.getTime() <= now;
}

/** A short random pause for optimistic retries, growing with the attempt. */
function jitter(attempt: number): number {
  return Math.floor(Math.random() * Math.min(100, 5 * 2 ** Math.min(attempt, 5)));
}

/**
 * Table Storage (and Cosmos DB for Table) driver: one table, one namespace (the PartitionKey).
 * RowKeys and PartitionKeys are `encodeTableKey` of the key and namespace; versions are ETags.
 */
export class AzureKvDriver implements KvDriver {
  readonly provider = PROVIDER;
  readonly name: string;
  readonly capabilities: KvCapabilities;
  /** Every request passes the attempt's signal, and the SDK ends it on abort. */
  readonly signalEndsRequests = true;
  private readonly partitionKey: string;
  private readonly maxTransactionBody: number;

  /** `cosmos`: the table is on Azure Cosmos DB for Table (default: detected from the client's URL). */
  constructor(
    readonly client: TableClient,
    readonly namespace: string,
    opts: { cosmos?: boolean } = {},
  ) {
    this.name = client.tableName;
    this.partitionKey = encodeTableKey(namespace);
    const cosmos = opts.cosmos ?? isCosmosEndpoint(client.url);
    this.capabilities = cosmos ? COSMOS_KV_CAPABILITIES : AZURE_KV_CAPABILITIES;
    this.maxTransactionBody = cosmos ? COSMOS_MAX_TRANSACTION_BODY : MAX_TRANSACTION_BODY;
  }

  async get(key: string, opts: Sig): Promise<DriverKvEntry | undefined> {
    const ctx = this.ctx('get', key);
    const e = await this.read(encodeTableKey(key), true, opts.signal, ctx);
    return e && this.toEntry(key, e);
  }

  async getMany(keys: readonly string[], opts: Sig): Promise<readonly (DriverKvEntry | undefined)[]> {
    // Table Storage has no batch read; point reads in parallel are the cheapest way.
    return mapLimit(keys, PARALLEL, (k) => this.get(k, opts));
  }

  async set(
    key: string,
    value: KvValue,
    opts: { ifVersion: string | undefined; ifAbsent: boolean; expiresAt: Date | undefined } & Sig,
  ): Promise<{ version: string }> {
    const ctx = this.ctx('set', key);
    const rowKey = encodeTableKey(key);
    const entity = this.entity(rowKey, value, opts.expiresAt);
    const signal = opts.signal;
    try {
      if (opts.ifAbsent) return await this.create(entity, ctx, signal);
      if (opts.ifVersion !== undefined) {
        // The live entry must carry this version: an expired one counts as missing.
        const cur = await this.read(rowKey, false, signal, ctx);
        if (!cur || isExpired(cur) || cur.etag !== opts.ifVersion) {
          throw this.precondition(
            ctx,
            !cur || isExpired(cur) ? 'the key does not exist' : 'the version differs',
          );
        }
        const r = await this.client.updateEntity(entity, 'Replace', {
          etag: opts.ifVersion,
          abortSignal: signal,
        });
        return { version: this.etag(r.etag, ctx) };
      }
      const r = await this.client.upsertEntity(entity, 'Replace', { abortSignal: signal });
      return { version: this.etag(r.etag, ctx) };
    } catch (err) {
      throw this.conditionError(err, ctx, opts.ifVersion !== undefined);
    }
  }

  async delete(key: string, opts: { ifVersion: string | undefined } & Sig): Promise<boolean> {
    const ctx = this.ctx('delete', key);
    const rowKey = encodeTableKey(key);
    for (let attempt = 1; ; attempt++) {
      const cur = await this.read(rowKey, false, opts.signal, ctx);
      const live = cur !== undefined && !isExpired(cur);
      if (opts.ifVersion !== undefined && (!live || cur.etag !== opts.ifVersion)) {
        throw this.precondition(ctx, live ? 'the version differs' : 'the key does not exist');
      }
      if (!cur) return false;
      try {
        // With the ETag just read: a concurrent write in between makes this fail, not vanish.
        await this.client.deleteEntity(this.partitionKey, rowKey, {
          etag: cur.etag,
          abortSignal: opts.signal,
        });
        return live;
      } catch (err) {
        const status = azureStatus(err);
        if (status === 404) return false;
        if (status === 412) {
          if (opts.ifVersion !== undefined) throw this.precondition(ctx, 'the version changed', err);
          if (attempt < MAX_ATTEMPTS) {
            await sleep(jitter(attempt), opts.signal).catch((e: unknown) => {
              throw mapAzureError(e, ctx);
            });
            continue;
          }
        }
        throw mapAzureError(err, ctx);
      }
    }
  }

  async setMany(
    items: readonly { key: string; value: KvValue; expiresAt: Date | undefined }[],
    opts: Sig,
  ): Promise<readonly ({ version: string } | { error: PolycloudError })[]> {
    const ctx = this.ctx('setMany');
    const results: ({ version: string } | { error: PolycloudError })[] = new Array(items.length);
    const prepared = items.map((it) => {
      const rowKey = encodeTableKey(it.key);
      return { key: it.key, rowKey, entity: this.entity(rowKey, it.value, it.expiresAt) };
    });
    // Entity group transactions: ≤ 100 operations, ≤ 4 MiB, each RowKey once (a later write of
    // the same key goes to a later transaction, so the last one wins as in a sequential loop).
    for (const group of transactionGroups(
      prepared,
      (p) => p.rowKey,
      (p) => entityBodyBytes(p.entity),
      this.maxTransactionBody,
    )) {
      const actions: TransactionAction[] = group.map(({ item }) => ['upsert', item.entity, 'Replace']);
      try {
        const r = await this.client.submitTransaction(actions, { abortSignal: opts.signal });
        group.forEach(({ index }, j) => {
          const etag = r.subResponses[j]?.etag;
          results[index] =
            etag === undefined
              ? {
                  error: pcError(
                    'INTERNAL',
                    'setMany: the transaction returned no ETag',
                    this.errCtx({ ...ctx, key: items[index]!.key }),
                  ),
                }
              : { version: etag };
        });
      } catch (err) {
        if (opts.signal?.aborted) {
          const e = mapAzureError(err, ctx);
          for (const { index } of group) results[index] = { error: e };
          continue;
        }
        // A failed transaction wrote nothing; retry its items one by one so each gets its own result.
        const single = await mapLimit(group, PARALLEL, async ({ item }) => {
          try {
            const u = await this.client.upsertEntity(item.entity, 'Replace', { abortSignal: opts.signal });
            return { version: this.etag(u.etag, this.ctx('setMany', item.key)) };
          } catch (e) {
            return { error: mapAzureError(e, this.ctx('setMany', item.key)) };
          }
        });
        group.forEach(({ index }, j) => {
          results[index] = single[j]!;
        });
      }
    }
    return results;
  }

  async deleteMany(
    keys: readonly string[],
    opts: Sig,
  ): Promise<readonly ({ existed: boolean } | { error: PolycloudError })[]> {
    const ctx = this.ctx('deleteMany');
    const results: ({ existed: boolean } | { error: PolycloudError })[] = new Array(keys.length);
    // Read first (existence and expiry are per key), then delete what is there in one transaction;
    // if it fails, fall back to deleting one by one.
    const firstIndex = new Map<string, number>();
    const unique: { key: string; rowKey: string; index: number }[] = [];
    keys.forEach((key, index) => {
      if (firstIndex.has(key)) {
        results[index] = { existed: false };
        return;
      }
      firstIndex.set(key, index);
      unique.push({ key, rowKey: encodeTableKey(key), index });
    });
    const current = await mapLimit(
      unique,
      PARALLEL,
      async (u): Promise<{ stored: Stored | undefined } | { error: PolycloudError }> => {
        try {
          return { stored: await this.read(u.rowKey, false, opts.signal, this.ctx('deleteMany', u.key)) };
        } catch (err) {
          return { error: mapAzureError(err, this.ctx('deleteMany', u.key)) };
        }
      },
    );
    const toDelete: { u: (typeof unique)[number]; stored: Stored }[] = [];
    unique.forEach((u, i) => {
      const c = current[i]!;
      if ('error' in c) results[u.index] = { error: c.error };
      else if (!c.stored) results[u.index] = { existed: false };
      else toDelete.push({ u, stored: c.stored });
    });
    if (toDelete.length > 0) {
      const now = Date.now();
      try {
        await this.client.submitTransaction(
          // Transaction deletes carry no ETag in this SDK: an entity rewritten between the read and
          // here is deleted all the same (deleteMany is unconditional); one deleted meanwhile fails
          // the transaction, and the keys are then deleted one by one.
          toDelete.map(
            ({ u }): TransactionAction => ['delete', { partitionKey: this.partitionKey, rowKey: u.rowKey }],
          ),
          { abortSignal: opts.signal },
        );
        for (const { u, stored } of toDelete) results[u.index] = { existed: !isExpired(stored, now) };
      } catch (err) {
        if (opts.signal?.aborted) {
          const e = mapAzureError(err, ctx);
          for (const { u } of toDelete) results[u.index] = { error: e };
        } else {
          const single = await mapLimit(toDelete, PARALLEL, async ({ u }) => {
            try {
              return { existed: await this.delete(u.key, { ifVersion: undefined, signal: opts.signal }) };
            } catch (e) {
              return { error: mapAzureError(e, this.ctx('deleteMany', u.key)) };
            }
          });
          toDelete.forEach(({ u }, j) => {
            results[u.index] = single[j]!;
          });
        }
      }
    }
    return results;
  }

  async list(opts: { prefix: string; cursor: string | undefined; limit: number } & Sig): Promise<{
    entries: readonly DriverKvEntry[];
    cursor: string | undefined;
  }> {
    const ctx = this.ctx('list');
    if (opts.cursor !== undefined) this.checkCursor(opts.cursor, ctx);
    const range = prefixRange(opts.prefix);
    // Encoded keys hold only [-0-9A-Za-z_], so they need no quoting inside the filter.
    let filter = `PartitionKey eq '${this.partitionKey.replace(/'/g, "''")}'`;
    if (range) filter += ` and RowKey ge '${range.lo}' and RowKey lt '${range.hi}'`;
    try {
      const pages = this.client
        .listEntities<Record<string, unknown>>({ queryOptions: { filter }, abortSignal: opts.signal })
        .byPage({
          maxPageSize: opts.limit,
          ...(opts.cursor === undefined ? {} : { continuationToken: opts.cursor }),
        });
      const page = (await pages.next()).value as (Entity[] & { continuationToken?: string }) | undefined;
      const entries: DriverKvEntry[] = [];
      for (const raw of page ?? []) {
        const key = decodeTableKey(raw.rowKey);
        if (key === undefined) continue; // not written by polycloud
        const stored = this.fromEntity(raw, true, ctx);
        entries.push(this.toEntry(key, stored));
      }
      const cursor = page?.continuationToken;
      return { entries, cursor: cursor === undefined || cursor === '' ? undefined : cursor };
    } catch (err) {
      throw mapAzureError(err, ctx);
    }
  }

  async increment(key: string, by: number, opts: Sig): Promise<{ value: number; version: string }> {
    const ctx = this.ctx('increment', key);
    const rowKey = encodeTableKey(key);
    // Optimistic concurrency: read, compute, write conditioned on the ETag; retry on conflict.
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const cur = await this.read(rowKey, true, opts.signal, ctx);
      const live = cur !== undefined && !isExpired(cur);
      let base = 0;
      if (live) {
        if (typeof cur.value !== 'number') {
          throw pcError(
            'PRECONDITION_FAILED',
            `increment on kv "${this.name}" key "${key}": the stored value is not a number`,
            {
              ...this.errCtx(ctx),
              retryable: false,
            },
          );
        }
        base = cur.value;
      }
      const value = base + by;
      // A live counter keeps its expiry; an expired one starts over without.
      const entity = this.entity(rowKey, value, live ? cur.expiresAt : undefined);
      try {
        const r = cur
          ? await this.client.updateEntity(entity, 'Replace', { etag: cur.etag, abortSignal: opts.signal })
          : await this.client.createEntity(entity, { abortSignal: opts.signal });
        return { value, version: this.etag(r.etag, ctx) };
      } catch (err) {
        const status = azureStatus(err);
        if (
          status !== 412 &&
          status !== 409 &&
          !(status === 404 && azureErrorCode(err) !== 'TableNotFound')
        ) {
          throw mapAzureError(err, ctx);
        }
      }
      await sleep(jitter(attempt), opts.signal).catch((e: unknown) => {
        throw mapAzureError(e, ctx);
      });
    }
    throw pcError(
      'THROTTLED',
      `increment on kv "${this.name}" key "${key}": ${MAX_ATTEMPTS} attempts lost to concurrent writers`,
      {
        ...this.errCtx(ctx),
        retryable: true,
      },
    );
  }

  async close(): Promise<void> {
    // Nothing to release: the SDK pools HTTP connections per process.
  }

  native(): TableClient {
    return this.client;
  }

  /** Insert-only, where an expired entity counts as absent (replaced on its ETag). */
  private async create(
    entity: Entity,
    ctx: AzureErrorContext,
    signal: AbortSignal | undefined,
  ): Promise<{ version: string }> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      try {
        const r = await this.client.createEntity(entity, { abortSignal: signal });
        return { version: this.etag(r.etag, ctx) };
      } catch (err) {
        if (azureStatus(err) !== 409) throw err;
      }
      const cur = await this.read(entity.rowKey, false, signal, ctx);
      if (cur && !isExpired(cur)) {
        throw pcError(
          'ALREADY_EXISTS',
          `set on kv "${this.name}" key "${ctx.key}": the key exists and ifAbsent is set; nothing was written`,
          {
            ...this.errCtx(ctx),
            retryable: false,
          },
        );
      }
      if (cur) {
        try {
          const r = await this.client.updateEntity(entity, 'Replace', {
            etag: cur.etag,
            abortSignal: signal,
          });
          return { version: this.etag(r.etag, ctx) };
        } catch (err) {
          const status = azureStatus(err);
          if (status !== 412 && status !== 404) throw err;
        }
      }
      // Someone else wrote or deleted in between: look again.
    }
    throw pcError('THROTTLED', `set on kv "${this.name}" key "${ctx.key}": too many concurrent writers`, {
      ...this.errCtx(ctx),
      retryable: true,
    });
  }

  /** Point read; undefined when missing. `withValue: false` reads only the expiry and ETag. */
  private async read(
    rowKey: string,
    withValue: boolean,
    signal: AbortSignal | undefined,
    ctx: AzureErrorContext,
  ): Promise<Stored | undefined> {
    try {
      const e = await this.client.getEntity<Record<string, unknown>>(this.partitionKey, rowKey, {
        abortSignal: signal,
        ...(withValue ? {} : { queryOptions: { select: [EXPIRY_PROPERTY] } }),
      });
      return this.fromEntity(e as unknown as Entity, withValue, ctx);
    } catch (err) {
      if (azureStatus(err) === 404 && azureErrorCode(err) !== 'TableNotFound') return undefined;
      throw mapAzureError(err, ctx);
    }
  }

  private fromEntity(e: Entity, withValue: boolean, ctx: AzureErrorContext): Stored {
    const x = e[EXPIRY_PROPERTY];
    const expiresAt = x instanceof Date ? x : typeof x === 'string' ? new Date(x) : undefined;
    const etag = typeof e.etag === 'string' ? e.etag : '';
    const stored: Stored = { etag, rowKey: e.rowKey, expiresAt };
    if (!withValue) return stored;
    const chunks: Uint8Array[] = [];
    for (let i = 0; ; i++) {
      const c = e[chunkName(i)];
      if (!(c instanceof Uint8Array)) break;
      chunks.push(c);
    }
    if (chunks.length === 0) {
      throw pcError(
        'INTERNAL',
        `${ctx.operation} on kv "${this.name}": entity ${e.rowKey} has no value; was it written by polycloud?`,
        {
          ...this.errCtx(ctx),
          retryable: false,
        },
      );
    }
    try {
      // A plain Uint8Array (not a Buffer), so binary values read back as the type written.
      stored.value = decodeKvValue(concatBytes(chunks));
    } catch (err) {
      throw mapAzureError(err, ctx);
    }
    return stored;
  }

  private toEntry(key: string, s: Stored): DriverKvEntry {
    return {
      key,
      value: s.value as KvValue,
      version: s.etag,
      ...(s.expiresAt === undefined ? {} : { expiresAt: s.expiresAt }),
    };
  }

  private entity(rowKey: string, value: KvValue, expiresAt: Date | undefined): Entity {
    const bytes = encodeKvValue(value);
    const e: Entity = { partitionKey: this.partitionKey, rowKey };
    for (let i = 0, off = 0; off < bytes.byteLength || i === 0; i++, off += CHUNK_BYTES) {
      // A Buffer view, not a Uint8Array one: @azure/data-tables base64-encodes a plain
      // Uint8Array through `Buffer.from(value.buffer)`, i.e. its whole underlying buffer.
      const len = Math.min(CHUNK_BYTES, bytes.byteLength - off);
      e[chunkName(i)] = Buffer.from(bytes.buffer, bytes.byteOffset + off, len);
    }
    if (expiresAt !== undefined) e[EXPIRY_PROPERTY] = expiresAt;
    return e;
  }

  private etag(etag: string | undefined, ctx: AzureErrorContext): string {
    if (etag === undefined || etag === '') {
      throw pcError(
        'INTERNAL',
        `${ctx.operation} on kv "${this.name}": the service returned no ETag`,
        this.errCtx(ctx),
      );
    }
    return etag;
  }

  private conditionError(err: unknown, ctx: AzureErrorContext, conditional: boolean): PolycloudError {
    const e = mapAzureError(err, ctx);
    // A conditional update of a vanished entity (404) or a changed one (412) is a failed condition.
    if (
      conditional &&
      (azureStatus(err) === 412 || (e.code === 'NOT_FOUND' && azureErrorCode(err) !== 'TableNotFound'))
    ) {
      return this.precondition(ctx, 'the version differs', err);
    }
    return e;
  }

  private precondition(ctx: AzureErrorContext, why: string, cause?: unknown): PolycloudError {
    return pcError(
      'PRECONDITION_FAILED',
      `${ctx.operation} on kv "${this.name}" key "${ctx.key}": ${why}; nothing was written`,
      {
        ...this.errCtx(ctx),
        cause,
        retryable: false,
      },
    );
  }

  /**
   * The cursor is the Table SDK's continuation token (base64 JSON naming the next partition and
   * row); the SDK would fail on anything else with a bare JSON parse error.
   */
  private checkCursor(cursor: string, ctx: AzureErrorContext): void {
    let token: unknown;
    let cause: unknown;
    try {
      token = JSON.parse(Buffer.from(cursor, 'base64').toString('latin1'));
    } catch (err) {
      cause = err;
    }
    const t = token as { nextPartitionKey?: unknown; nextRowKey?: unknown } | null | undefined;
    if (
      typeof t === 'object' &&
      t !== null &&
      // Opaque on the service (an encoded form of the key), so only its shape is checked.
      typeof t.nextPartitionKey === 'string' &&
      t.nextPartitionKey !== '' &&
      (t.nextRowKey === undefined || typeof t.nextRowKey === 'string')
    ) {
      return;
    }
    throw pcError(
      'INVALID_ARGUMENT',
      `list on kv "${this.name}": the cursor is not one this store returned; pass page.cursor unchanged`,
      { ...this.errCtx(ctx), ...(cause === undefined ? {} : { cause }), retryable: false },
    );
  }

  private ctx(operation: string, key?: string): AzureErrorContext {
    return { service: 'kv', operation, name: this.name, key };
  }

  private errCtx(ctx: AzureErrorContext) {
    return {
      provider: PROVIDER,
      service: 'kv' as const,
      operation: ctx.operation,
      resource: { name: this.name, ...(ctx.key === undefined ? {} : { key: ctx.key }) },
    };
  }
}

/** The request-body size of an entity in a transaction: base64 of its binary properties plus some JSON. */
function entityBodyBytes(e: Entity): number {
  let n = 512;
  for (const v of Object.values(e)) {
    if (v instanceof Uint8Array) n += Math.ceil(v.byteLength / 3) * 4 + 64;
    else if (typeof v === 'string') n += v.length + 64;
    else n += 64;
  }
  return n;
}

/** Splits items into transaction groups: ≤ 100 each, under the body limit, a key at most once per group. */
export function transactionGroups<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  sizeOf: (item: T) => number,
  maxBody = MAX_TRANSACTION_BODY,
): { item: T; index: number }[][] {
  const groups: { item: T; index: number }[][] = [];
  let group: { item: T; index: number }[] = [];
  let keys = new Set<string>();
  let bytes = 0;
  items.forEach((item, index) => {
    const key = keyOf(item);
    const size = sizeOf(item);
    if (group.length > 0 && (group.length >= MAX_TRANSACTION || keys.has(key) || bytes + size > maxBody)) {
      groups.push(group);
      group = [];
      keys = new Set();
      bytes = 0;
    }
    group.push({ item, index });
    keys.add(key);
    bytes += size;
  });
  if (group.length > 0) groups.push(group);
  return groups;
}
