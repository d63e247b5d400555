/** Any value JSON can carry. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** What a key-value store holds: JSON-serialisable data or raw bytes. */
export type KvValue = JsonValue | Uint8Array;

type JsonPrimitive = null | boolean | number | string;

/**
 * The constraint of every value type parameter (`openKv<V>`, `KvStore<V>`): `V` fits when it is a
 * KvValue or an object type whose properties are JSON-shaped all the way down. It exists because
 * an `interface` has no index signature and so never matches `{ [key: string]: JsonValue }`,
 * although its values serialise exactly the same. Optional properties are allowed (JSON drops
 * them when absent); functions, Dates, Maps, bigint and symbols are not
 * (`checkKvValue` still checks every value at run time, nested bytes included).
 *
 * @example
 * interface Session { user: string; roles: string[]; expires?: number }
 * const sessions = await openKv<Session>('mem://sessions'); // compiles
 */
export type KvValueOf<V> =
  | KvValue
  | {
      readonly [K in keyof V]: undefined extends V[K]
        ? JsonOf<Exclude<V[K], undefined>> | undefined
        : JsonOf<V[K]>;
    };

/** `P` when it is JSON-shaped, else a type `P` does not fit. */
type JsonOf<P> = P extends JsonPrimitive
  ? P
  : P extends Uint8Array
    ? never
    : P extends (...args: never[]) => unknown
      ? never
      : P extends readonly (infer E)[]
        ? readonly JsonOf<E>[]
        : P extends object
          ? {
              readonly [K in keyof P]: undefined extends P[K]
                ? JsonOf<Exclude<P[K], undefined>> | undefined
                : JsonOf<P[K]>;
            }
          : never;

/** A stored entry: its key, value, opaque version and expiry. */
export interface KvEntry<V extends KvValueOf<V> = KvValue> {
  readonly key: string;
  readonly value: V;
  /** Opaque; pass it back as `ifVersion`. */
  readonly version: string;
  readonly expiresAt?: Date | undefined;
}

/** Options of `KvStore.set`: conditions (`ifVersion`, `ifAbsent`) and a time to live. */
export interface KvSetOptions {
  /** Write only if the current version is this one, else PRECONDITION_FAILED. */
  readonly ifVersion?: string;
  /** Write only if the key does not exist (expired counts as absent), else ALREADY_EXISTS. */
  readonly ifAbsent?: boolean;
  /** Expire after this many seconds (capability `ttl`). */
  readonly ttlSeconds?: number;
  readonly signal?: AbortSignal;
}

/** Options of `KvStore.list` and `KvStore.entries`: prefix, page size and cursor. */
export interface KvListOptions {
  readonly prefix?: string;
  readonly cursor?: string;
  readonly limit?: number;
  readonly signal?: AbortSignal;
}

/** One page of a listing, in UTF-8 byte order of keys; pass `cursor` back for the next page. */
export interface KvListPage<V extends KvValueOf<V> = KvValue> {
  readonly entries: readonly KvEntry<V>[];
  readonly cursor?: string | undefined;
}

/** The outcome of one item of `KvStore.setMany`: its new version, or the error it met. */
export type KvSetResult =
  | { readonly key: string; readonly ok: true; readonly version: string }
  | { readonly key: string; readonly ok: false; readonly error: import('../errors.js').PolycloudError };

/** The outcome of one key of `KvStore.deleteMany`: whether it existed, or the error it met. */
export type KvDeleteResult =
  | { readonly key: string; readonly ok: true; readonly existed: boolean }
  | { readonly key: string; readonly ok: false; readonly error: import('../errors.js').PolycloudError };
