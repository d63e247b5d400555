import { Bigtable, type BigtableOptions } from '@google-cloud/bigtable';
import type { KvCapabilities, KvValue, PolycloudError } from '@polycloud/core';
import {
  checkEndpointTransport,
  type DriverKvEntry,
  defineCapabilities,
  fromBase64Url,
  invalidArgument,
  type KvDriver,
  pcError,
  toBase64Url,
} from '@polycloud/core/driver/base';
import { emulatorAuthClient } from '../endpoint.js';
import { deadlineOf, type ErrorContext, gcpError, grpcCodeOf, raceSignal } from '../errors.js';
import {
  COL_EXPIRY,
  COL_VALUE,
  COL_VERSION,
  decodeValue,
  encodeValue,
  int64,
  namespacePrefix,
  newVersion,
  prefixEnd,
  readInt64,
  rowKey,
  versionBytes,
  versionStep,
  versionString,
} from './layout.js';

/**
 * gax's own retries are off on every call: the portable layer is the one retry owner, and
 * readModifyWriteRow (increment) must not be re-sent beneath it.
 */
const NO_GAX_RETRY = { retry: null };

/** Bigtable's row-key limit. */
const MAX_ROW_KEY_BYTES = 4096;
/** Attempts for an increment racing with writers that change the row between its two steps. */
const INCREMENT_ATTEMPTS = 5;

/**
 * What a Bigtable key-value driver is built from: the table, the namespace within it, the
 * column family, and how to reach the service.
 */
export interface BigtableKvConfig {
  /** Google Cloud project of the instance. */
  readonly projectId: string;
  /** Bigtable instance holding the table. */
  readonly instanceId: string;
  /** Table id; it must exist with the column family `family`. */
  readonly tableId: string;
  /** Namespace within the table (a row-key prefix). Default "default". */
  readonly namespace?: string;
  /** Column family holding polycloud's cells; the table must have it. Default "kv". */
  readonly family?: string;
  /** An already-configured client; `apiEndpoint` is then ignored. */
  readonly client?: Bigtable;
  /** e.g. `127.0.0.1:8086` for an emulator; default BIGTABLE_EMULATOR_HOST, else the service. */
  readonly apiEndpoint?: string;
  /**
   * Allows a plain-text endpoint on a host other than this machine (refused by default:
   * credentials and data would cross the network unencrypted). Loopback emulators need nothing.
   */
  readonly allowInsecureHttp?: boolean;
  /** App profile for data requests; default the client's. */
  readonly appProfileId?: string;
}

/**
 * The Bigtable client a driver makes when none is given.
 *
 * @example
 * const client = bigtableClient({ projectId: 'p', apiEndpoint: '127.0.0.1:8086' }); // emulator
 * const kv = bigtableKv({ projectId: 'p', instanceId: 'i', tableId: 'app', client });
 */
export function bigtableClient(opts: {
  projectId?: string;
  apiEndpoint?: string;
  allowInsecureHttp?: boolean;
}): Bigtable {
  const emulator = opts.apiEndpoint ?? process.env.BIGTABLE_EMULATOR_HOST;
  // The SDK talks to any custom endpoint without TLS (its emulator mode).
  if (emulator) {
    checkEndpointTransport(emulator, {
      service: 'kv',
      provider: 'gcp',
      source: opts.apiEndpoint ? 'the apiEndpoint option' : 'BIGTABLE_EMULATOR_HOST',
      plaintext: true,
      allow: opts.allowInsecureHttp,
    });
  }
  return new Bigtable({
    ...(opts.projectId ? { projectId: opts.projectId } : {}),
    ...(opts.apiEndpoint ? { apiEndpoint: opts.apiEndpoint } : {}),
    // Client-side metrics export to Cloud Monitoring, which an emulator setup does not have.
    ...(emulator
      ? {
          metricsEnabled: false,
          authClient: emulatorAuthClient as unknown as BigtableOptions['authClient'],
        }
      : {}),
  });
}

type Cells = Map<string, Buffer>;

interface Row {
  key: Buffer;
  cells: Cells;
}

interface Chunk {
  rowKey?: Uint8Array | null;
  familyName?: { value?: string | null } | null;
  qualifier?: { value?: Uint8Array | null } | null;
  value?: Uint8Array | null;
  valueSize?: number | null;
  resetRow?: boolean | null;
  commitRow?: boolean | null;
}

type Filter = Record<string, unknown>;
type Mutation = Record<string, unknown>;

/**
 * The Bigtable key-value driver. Conditional writes are single CheckAndMutateRow calls whose
 * predicate tests liveness (expiry) and the version cell together; counters are
 * ReadModifyWriteRow increments. See layout.ts for the row layout.
 */
export class BigtableKvDriver implements KvDriver {
  readonly provider = 'gcp';
  readonly name: string;
  readonly namespace: string;
  readonly capabilities: KvCapabilities;
  readonly tableName: string;
  private readonly client: Bigtable;
  private readonly owned: boolean;
  private readonly family: string;
  private readonly prefix: Buffer;
  private readonly appProfileId: string | undefined;

  constructor(opts: BigtableKvConfig & { ownsClient?: boolean }) {
    for (const [what, v] of [
      ['projectId', opts.projectId],
      ['instanceId', opts.instanceId],
      ['tableId', opts.tableId],
    ] as const) {
      if (!v || v.includes('/'))
        throw invalidArgument(`Bigtable ${what} "${v}" is not valid`, { service: 'kv', operation: 'open' });
    }
    this.family = opts.family ?? 'kv';
    if (!/^[-_.a-zA-Z0-9]+$/.test(this.family)) {
      throw invalidArgument(`column family "${this.family}" is not a valid Bigtable family name`, {
        service: 'kv',
        operation: 'open',
      });
    }
    this.namespace = opts.namespace ?? 'default';
    this.prefix = namespacePrefix(this.namespace);
    if (this.prefix.length >= MAX_ROW_KEY_BYTES - 255) {
      throw invalidArgument(`namespace "${this.namespace.slice(0, 40)}…" is too long for Bigtable row keys`, {
        service: 'kv',
        operation: 'open',
      });
    }
    this.name = opts.tableId;
    this.tableName = `projects/${opts.projectId}/instances/${opts.instanceId}/tables/${opts.tableId}`;
    this.client = opts.client ?? bigtableClient(opts);
    this.owned = opts.ownsClient ?? opts.client === undefined;
    this.appProfileId = opts.appProfileId ?? this.client.appProfileId;
    this.capabilities = defineCapabilities({
      ifVersion: true,
      ifAbsent: true,
      ttl: true,
      increment: true,
      binaryValues: true,
      // Row keys are at most 4 KiB, namespace prefix included.
      maxKeyBytes: MAX_ROW_KEY_BYTES - this.prefix.length,
      // Cells may be larger (100 MiB), but Google recommends ≤ 10 MiB per cell.
      maxValueBytes: 10 * 1024 * 1024,
      maxBatchSize: 1000,
      maxListLimit: 1000,
    });
  }

  async get(key: string, opts: { signal: AbortSignal | undefined }): Promise<DriverKvEntry | undefined> {
    const [e] = await this.getMany([key], opts, 'get');
    return e;
  }

  async getMany(
    keys: readonly string[],
    opts: { signal: AbortSignal | undefined },
    operation = 'getMany',
  ): Promise<readonly (DriverKvEntry | undefined)[]> {
    if (keys.length === 0) return [];
    const ctx = this.ctx(operation, keys.length === 1 ? keys[0] : undefined);
    const unique = [...new Set(keys)];
    const rows = await this.readRows(
      { rows: { rowKeys: unique.map((k) => rowKey(this.prefix, k)) }, filter: this.readFilter() },
      ctx,
      opts.signal,
    );
    const byKey = new Map<string, DriverKvEntry>();
    for (const r of rows) {
      const e = this.entry(r, ctx);
      if (e) byKey.set(e.key, e);
    }
    return keys.map((k) => byKey.get(k));
  }

  async set(
    key: string,
    value: KvValue,
    opts: {
      ifVersion: string | undefined;
      ifAbsent: boolean;
      expiresAt: Date | undefined;
      signal: AbortSignal | undefined;
    },
  ): Promise<{ version: string }> {
    const ctx = this.ctx('set', key);
    const version = newVersion();
    const mutations = this.writeMutations(value, version, opts.expiresAt);
    const row = rowKey(this.prefix, key);
    if (opts.ifAbsent) {
      const matched = await this.checkAndMutate(row, this.liveFilter(), [], mutations, ctx, opts.signal);
      if (matched) {
        throw pcError(
          'ALREADY_EXISTS',
          `set on kv "${this.name}" key "${key}": the key exists and ifAbsent is set; nothing was written`,
          {
            ...this.errCtx(ctx),
            retryable: false,
          },
        );
      }
    } else if (opts.ifVersion !== undefined) {
      const want = versionBytes(opts.ifVersion);
      const matched =
        want !== undefined &&
        (await this.checkAndMutate(row, this.versionFilter(want), mutations, [], ctx, opts.signal));
      if (!matched) throw this.versionMismatch(ctx, opts.ifVersion);
    } else {
      await this.unary('mutateRow', { rowKey: row, mutations }, ctx, opts.signal);
    }
    return { version: versionString(version) };
  }

  async delete(
    key: string,
    opts: { ifVersion: string | undefined; signal: AbortSignal | undefined },
  ): Promise<boolean> {
    const ctx = this.ctx('delete', key);
    const row = rowKey(this.prefix, key);
    const del = [{ deleteFromRow: {} }];
    if (opts.ifVersion !== undefined) {
      const want = versionBytes(opts.ifVersion);
      const matched =
        want !== undefined &&
        (await this.checkAndMutate(row, this.versionFilter(want), del, [], ctx, opts.signal));
      if (!matched) throw this.versionMismatch(ctx, opts.ifVersion);
      return true;
    }
    // One call: the row goes either way, and whether it was live comes back as the match.
    return this.checkAndMutate(row, this.liveFilter(), del, del, ctx, opts.signal);
  }

  async setMany(
    items: readonly { key: string; value: KvValue; expiresAt: Date | undefined }[],
    opts: { signal: AbortSignal | undefined },
  ): Promise<readonly ({ version: string } | { error: PolycloudError })[]> {
    if (items.length === 0) return [];
    const versions = items.map(() => newVersion());
    const entries = items.map((it, i) => ({
      rowKey: rowKey(this.prefix, it.key),
      mutations: this.writeMutations(it.value, versions[i]!, it.expiresAt),
    }));
    const statuses = await this.mutateRows(entries, this.ctx('setMany'), opts.signal);
    return items.map((it, i) => {
      const err = statuses[i];
      return err
        ? { error: gcpError(err, this.ctx('setMany', it.key), 'grpc') }
        : { version: versionString(versions[i]!) };
    });
  }

  async deleteMany(
    keys: readonly string[],
    opts: { signal: AbortSignal | undefined },
  ): Promise<readonly ({ existed: boolean } | { error: PolycloudError })[]> {
    if (keys.length === 0) return [];
    // MutateRows cannot tell whether a row existed: read the live rows first. Under concurrent
    // writers `existed` describes the moment of that read (delete() answers atomically).
    const live = await this.getMany(keys, opts, 'deleteMany');
    const unique = [...new Set(keys)];
    const statuses = await this.mutateRows(
      unique.map((k) => ({ rowKey: rowKey(this.prefix, k), mutations: [{ deleteFromRow: {} }] })),
      this.ctx('deleteMany'),
      opts.signal,
    );
    const errors = new Map(unique.map((k, i) => [k, statuses[i]]));
    const now = Date.now();
    const reported = new Set<string>();
    return keys.map((k, i) => {
      const err = errors.get(k);
      if (err) return { error: gcpError(err, this.ctx('deleteMany', k), 'grpc') };
      const e = live[i];
      // A key listed twice existed only for its first result.
      const existed =
        e !== undefined && (e.expiresAt === undefined || e.expiresAt.getTime() > now) && !reported.has(k);
      reported.add(k);
      return { existed };
    });
  }

  async list(opts: {
    prefix: string;
    cursor: string | undefined;
    limit: number;
    signal: AbortSignal | undefined;
  }): Promise<{
    entries: readonly DriverKvEntry[];
    cursor: string | undefined;
  }> {
    const ctx = this.ctx('list');
    const start = Buffer.concat([this.prefix, Buffer.from(opts.prefix, 'utf8')]);
    const end = prefixEnd(start);
    const range: Record<string, Buffer> = { startKeyClosed: start };
    if (opts.cursor !== undefined) {
      let after: Buffer | undefined;
      let cause: unknown;
      try {
        after = Buffer.from(fromBase64Url(opts.cursor));
      } catch (err) {
        cause = err;
      }
      // A cursor is the last key of a page of this prefix, base64url as this driver writes it:
      // anything else (edited, from another listing) would silently list the wrong range.
      if (
        after === undefined ||
        toBase64Url(after) !== opts.cursor ||
        !after.subarray(0, Buffer.byteLength(opts.prefix)).equals(Buffer.from(opts.prefix, 'utf8'))
      ) {
        throw invalidArgument(
          `list on kv "${this.name}": the cursor is not one this store returned for this prefix; pass page.cursor unchanged`,
          { ...this.errCtx(ctx), ...(cause === undefined ? {} : { cause }) },
        );
      }
      const from = Buffer.concat([this.prefix, after]);
      if (Buffer.compare(from, start) >= 0) {
        delete range.startKeyClosed;
        range.startKeyOpen = from;
      }
    }
    if (end) range.endKeyOpen = end;
    const rows = await this.readRows(
      { rows: { rowRanges: [range] }, filter: this.readFilter(), rowsLimit: opts.limit },
      ctx,
      opts.signal,
    );
    const entries: DriverKvEntry[] = [];
    for (const r of rows) {
      const e = this.entry(r, ctx);
      if (e) entries.push(e);
    }
    const last = rows[rows.length - 1];
    const more = rows.length >= opts.limit && last !== undefined;
    return { entries, cursor: more ? toBase64Url(last.key.subarray(this.prefix.length)) : undefined };
  }

  async increment(
    key: string,
    by: number,
    opts: { signal: AbortSignal | undefined },
  ): Promise<{ value: number; version: string }> {
    const ctx = this.ctx('increment', key);
    const row = rowKey(this.prefix, key);
    // A protocol loop, not a retry: an expired or non-counter cell is cleared under a
    // check-and-mutate condition that a concurrent writer can win; transport failures leave it.
    for (let attempt = 1; ; attempt++) {
      const step = versionStep();
      let cells: Cells;
      try {
        cells = await this.readModifyWrite(row, by, step, opts.signal);
      } catch (err) {
        if (!isNotCounter(err)) throw gcpError(err, ctx, 'grpc');
        // The value is not a counter. An expired one counts as absent: remove it and retry.
        const [current] = await this.readRows(
          { rows: { rowKeys: [row] }, filter: this.readFilter() },
          ctx,
          opts.signal,
        );
        const e = current ? this.entry(current, ctx) : undefined;
        if (
          e?.expiresAt !== undefined &&
          e.expiresAt.getTime() <= Date.now() &&
          attempt < INCREMENT_ATTEMPTS
        ) {
          const ver = versionBytes(e.version);
          if (ver)
            await this.checkAndMutate(
              row,
              this.exactVersionFilter(ver),
              [{ deleteFromRow: {} }],
              [],
              ctx,
              opts.signal,
            );
          continue;
        }
        if (!e && attempt < INCREMENT_ATTEMPTS) continue; // deleted in between
        throw pcError(
          'PRECONDITION_FAILED',
          `increment on kv "${this.name}" key "${key}": the stored value is not an integer counter; nothing was changed`,
          { ...this.errCtx(ctx), retryable: false, cause: err },
        );
      }
      const valueCell = cells.get(COL_VALUE);
      const verCell = cells.get(COL_VERSION);
      const expCell = cells.get(COL_EXPIRY);
      if (valueCell?.length !== 8 || verCell?.length !== 8) {
        throw pcError(
          'INTERNAL',
          `increment on kv "${this.name}" key "${key}": ReadModifyWriteRow returned no counter`,
          this.errCtx(ctx),
        );
      }
      const expiresAt = expCell && expCell.length === 8 ? Number(readInt64(expCell)) : 0;
      if (expiresAt > 0 && expiresAt <= Date.now()) {
        // It had expired: the count starts over from `by`, if nobody changed the row meanwhile.
        const fresh = newVersion();
        const matched = await this.checkAndMutate(
          row,
          this.exactVersionFilter(verCell),
          this.writeMutations(by, fresh, undefined),
          [],
          ctx,
          opts.signal,
        );
        if (matched) return { value: by, version: versionString(fresh) };
        if (attempt < INCREMENT_ATTEMPTS) continue;
        throw pcError(
          'UNAVAILABLE',
          `increment on kv "${this.name}" key "${key}": the entry kept changing; retry`,
          this.errCtx(ctx),
        );
      }
      let version = verCell;
      if (readInt64(verCell) === BigInt(step)) {
        // The counter was created by this call (the version started from 0): give it a fully
        // random version, so a re-created counter never repeats one of an earlier life.
        const fresh = newVersion();
        const matched = await this.checkAndMutate(
          row,
          this.exactVersionFilter(verCell),
          [this.setCell(COL_VERSION, fresh)],
          [],
          ctx,
          opts.signal,
        );
        if (matched) version = fresh;
      }
      return { value: Number(readInt64(valueCell)), version: versionString(version) };
    }
  }

  async close(): Promise<void> {
    if (this.owned) await this.client.close();
  }

  /** The Bigtable client. */
  native(): Bigtable {
    return this.client;
  }

  // ---------------------------------------------------------------- filters and mutations

  private column(q: string): Filter {
    const qualifier = Buffer.from(q);
    return {
      columnRangeFilter: {
        familyName: this.family,
        startQualifierClosed: qualifier,
        endQualifierClosed: qualifier,
      },
    };
  }

  /** Latest cells of polycloud's family. */
  private readFilter(): Filter {
    return {
      chain: {
        filters: [
          { familyNameRegexFilter: this.family.replace(/[.]/g, '\\.') },
          { cellsPerColumnLimitFilter: 1 },
        ],
      },
    };
  }

  /** Cells only when the row is not expired (an `exp` cell in [1, now] means expired). */
  private notExpired(): Filter {
    const expired: Filter = {
      chain: {
        filters: [
          this.column(COL_EXPIRY),
          { cellsPerColumnLimitFilter: 1 },
          { valueRangeFilter: { startValueClosed: int64(1), endValueClosed: int64(Date.now()) } },
        ],
      },
    };
    return {
      condition: {
        predicateFilter: expired,
        trueFilter: { blockAllFilter: true },
        falseFilter: { passAllFilter: true },
      },
    };
  }

  /** Matches a live entry (a version cell and not expired). */
  private liveFilter(): Filter {
    return { chain: { filters: [this.notExpired(), this.column(COL_VERSION)] } };
  }

  /** Matches a live entry whose current version is `ver`. */
  private versionFilter(ver: Buffer): Filter {
    return {
      chain: {
        filters: [
          this.notExpired(),
          this.column(COL_VERSION),
          { cellsPerColumnLimitFilter: 1 },
          { valueRangeFilter: { startValueClosed: ver, endValueClosed: ver } },
        ],
      },
    };
  }

  /** Matches a row whose current version is `ver`, live or not. */
  private exactVersionFilter(ver: Buffer): Filter {
    return {
      chain: {
        filters: [
          this.column(COL_VERSION),
          { cellsPerColumnLimitFilter: 1 },
          { valueRangeFilter: { startValueClosed: ver, endValueClosed: ver } },
        ],
      },
    };
  }

  private setCell(q: string, value: Buffer): Mutation {
    return {
      setCell: { familyName: this.family, columnQualifier: Buffer.from(q), timestampMicros: -1, value },
    };
  }

  /** Replaces the whole row: mutations apply in order, so the new cells survive the delete. */
  private writeMutations(value: KvValue, version: Buffer, expiresAt: Date | undefined): Mutation[] {
    return [
      { deleteFromRow: {} },
      this.setCell(COL_VALUE, encodeValue(value)),
      this.setCell(COL_VERSION, version),
      this.setCell(COL_EXPIRY, int64(expiresAt === undefined ? 0 : Math.max(1, expiresAt.getTime()))),
    ];
  }

  // ---------------------------------------------------------------- rows

  private entry(r: Row, ctx: ErrorContext): DriverKvEntry | undefined {
    if (r.key.length < this.prefix.length || !r.key.subarray(0, this.prefix.length).equals(this.prefix))
      return undefined;
    const value = r.cells.get(COL_VALUE);
    if (!value) return undefined;
    let decoded: KvValue;
    try {
      decoded = decodeValue(value);
    } catch (err) {
      throw pcError(
        'INTERNAL',
        `${ctx.operation} on kv "${this.name}": a stored value could not be decoded (not written by polycloud?)`,
        {
          ...this.errCtx(ctx),
          cause: err,
        },
      );
    }
    const ver = r.cells.get(COL_VERSION);
    const exp = r.cells.get(COL_EXPIRY);
    const expiresAt = exp && exp.length === 8 ? Number(readInt64(exp)) : 0;
    return {
      key: r.key.subarray(this.prefix.length).toString('utf8'),
      value: decoded,
      version: ver ? versionString(ver) : '0000000000000000',
      ...(expiresAt > 0 ? { expiresAt: new Date(expiresAt) } : {}),
    };
  }

  // ---------------------------------------------------------------- calls

  private withTable(reqOpts: object): object {
    return {
      tableName: this.tableName,
      ...(this.appProfileId ? { appProfileId: this.appProfileId } : {}),
      ...reqOpts,
    };
  }

  private unary<T>(
    method: string,
    reqOpts: object,
    ctx: ErrorContext,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const call = new Promise<T>((resolve, reject) => {
      this.client.request<T>(
        {
          client: 'BigtableClient',
          method,
          reqOpts: this.withTable(reqOpts),
          // Unary calls take a deadline, not a signal: the attempt's, so none outlives it.
          gaxOpts: { ...NO_GAX_RETRY, ...deadlineOf(signal, undefined) },
        },
        (err, res) => {
          if (err) reject(err);
          else resolve(res as T);
        },
      );
    });
    return raceSignal(call, signal).catch((err: unknown) => {
      throw gcpError(err, ctx, 'grpc');
    });
  }

  private async checkAndMutate(
    row: Buffer,
    predicateFilter: Filter,
    trueMutations: Mutation[],
    falseMutations: Mutation[],
    ctx: ErrorContext,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    const res = await this.unary<{ predicateMatched?: boolean | null }>(
      'checkAndMutateRow',
      { rowKey: row, predicateFilter, trueMutations, falseMutations },
      ctx,
      signal,
    );
    return res?.predicateMatched === true;
  }

  /** Increments the counter and advances the version; returns the new cells (exp included, as `+0`). */
  private async readModifyWrite(
    row: Buffer,
    by: number,
    step: number,
    signal: AbortSignal | undefined,
  ): Promise<Cells> {
    const rule = (q: string, incrementAmount: number) => ({
      familyName: this.family,
      columnQualifier: Buffer.from(q),
      incrementAmount,
    });
    const call = new Promise<{
      row?: {
        families?: {
          name?: string;
          columns?: { qualifier?: Uint8Array; cells?: { value?: Uint8Array }[] }[];
        }[];
      };
    }>((resolve, reject) => {
      this.client.request(
        {
          client: 'BigtableClient',
          method: 'readModifyWriteRow',
          // The value rule first: when it fails (not a counter) nothing else is applied.
          reqOpts: this.withTable({
            rowKey: row,
            rules: [rule(COL_VALUE, by), rule(COL_VERSION, step), rule(COL_EXPIRY, 0)],
          }),
          gaxOpts: { ...NO_GAX_RETRY, ...deadlineOf(signal, undefined) },
        },
        (err: Error | null, res?: unknown) => {
          if (err) reject(err);
          else resolve((res ?? {}) as never);
        },
      );
    });
    const res = await raceSignal(call, signal);
    const cells: Cells = new Map();
    for (const f of res.row?.families ?? []) {
      if (f.name !== this.family) continue;
      for (const c of f.columns ?? []) {
        const v = c.cells?.[0]?.value;
        if (c.qualifier && v) cells.set(Buffer.from(c.qualifier).toString('latin1'), Buffer.from(v));
      }
    }
    return cells;
  }

  private async mutateRows(
    entries: { rowKey: Buffer; mutations: Mutation[] }[],
    ctx: ErrorContext,
    signal: AbortSignal | undefined,
  ): Promise<(unknown | undefined)[]> {
    const out: (unknown | undefined)[] = new Array(entries.length).fill(undefined);
    const seen = new Array<boolean>(entries.length).fill(false);
    const stream = this.client.request({
      client: 'BigtableClient',
      method: 'mutateRows',
      reqOpts: this.withTable({ entries }),
      gaxOpts: NO_GAX_RETRY,
    });
    const onAbort = () => stream.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const res of stream as AsyncIterable<{
        entries?: { index?: number | string; status?: { code?: number; message?: string } }[];
      }>) {
        for (const e of res.entries ?? []) {
          const i = Number(e.index ?? 0);
          seen[i] = true;
          const code = e.status?.code ?? 0;
          if (code !== 0) out[i] = Object.assign(new Error(e.status?.message || `status ${code}`), { code });
        }
      }
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw gcpError(err, ctx, 'grpc');
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    seen.forEach((s, i) => {
      if (!s) out[i] = Object.assign(new Error('MutateRows returned no status for this entry'), { code: 13 });
    });
    return out;
  }

  /** ReadRows, merging cell chunks into rows; keeps the first (latest) cell per column of our family. */
  private async readRows(
    reqOpts: object,
    ctx: ErrorContext,
    signal: AbortSignal | undefined,
  ): Promise<Row[]> {
    const rows: Row[] = [];
    const stream = this.client.request({
      client: 'BigtableClient',
      method: 'readRows',
      reqOpts: this.withTable(reqOpts),
      gaxOpts: NO_GAX_RETRY,
    });
    const onAbort = () => stream.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let row: Row | undefined;
    let family: string | undefined;
    let qualifier: string | undefined;
    let parts: Buffer[] = [];
    try {
      for await (const res of stream as AsyncIterable<{ chunks?: Chunk[] | null }>) {
        for (const c of res.chunks ?? []) {
          if (c.resetRow) {
            row = undefined;
            parts = [];
            continue;
          }
          if (c.rowKey && c.rowKey.length > 0) {
            const key = Buffer.from(c.rowKey);
            if (!row?.key.equals(key)) row = { key, cells: new Map() };
          }
          if (c.familyName?.value != null) family = c.familyName.value;
          if (c.qualifier?.value != null) qualifier = Buffer.from(c.qualifier.value).toString('latin1');
          if (c.value && c.value.length > 0) parts.push(Buffer.from(c.value));
          if (!c.valueSize) {
            if (row && family === this.family && qualifier !== undefined && !row.cells.has(qualifier)) {
              row.cells.set(qualifier, Buffer.concat(parts));
            }
            parts = [];
          }
          if (c.commitRow && row) {
            rows.push(row);
            row = undefined;
          }
        }
      }
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw gcpError(err, ctx, 'grpc');
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    return rows;
  }

  private versionMismatch(ctx: ErrorContext, version: string): PolycloudError {
    return pcError(
      'PRECONDITION_FAILED',
      `${ctx.operation} on kv "${this.name}" key "${ctx.key}": the entry is missing, expired or not at version ${version}; nothing was changed`,
      { ...this.errCtx(ctx), retryable: false },
    );
  }

  private errCtx(ctx: ErrorContext) {
    return {
      provider: 'gcp',
      service: 'kv' as const,
      operation: ctx.operation,
      resource: { name: this.name, ...(ctx.key === undefined ? {} : { key: ctx.key }) },
    };
  }

  private ctx(operation: string, key?: string): ErrorContext {
    return { service: 'kv', operation, name: this.name, key };
  }
}

/** ReadModifyWriteRow's refusal to increment a cell that is not 8 bytes. */
function isNotCounter(err: unknown): boolean {
  const code = grpcCodeOf(err);
  const msg = err instanceof Error ? err.message : String(err);
  return (
    (code === 2 || code === 3 || code === 9) &&
    /64-bit|8[- ]byte|int64|increment|big-endian|integer/i.test(msg)
  );
}
