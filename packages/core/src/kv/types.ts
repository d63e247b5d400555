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

export interface KvEntry<V extends KvValue = KvValue> {
  readonly key: string;
  readonly value: V;
  /** Opaque; pass it back as `ifVersion`. */
  readonly version: string;
  readonly expiresAt?: Date | undefined;
}

export interface KvSetOptions {
  /** Write only if the current version is this one, else PRECONDITION_FAILED. */
  readonly ifVersion?: string;
  /** Write only if the key does not exist (expired counts as absent), else ALREADY_EXISTS. */
  readonly ifAbsent?: boolean;
  /** Expire after this many seconds (capability `ttl`). */
  readonly ttlSeconds?: number;
  readonly signal?: AbortSignal;
}

export interface KvListOptions {
  readonly prefix?: string;
  readonly cursor?: string;
  readonly limit?: number;
  readonly signal?: AbortSignal;
}

export interface KvListPage<V extends KvValue = KvValue> {
  readonly entries: readonly KvEntry<V>[];
  readonly cursor?: string | undefined;
}

export type KvSetResult =
  | { readonly key: string; readonly ok: true; readonly version: string }
  | { readonly key: string; readonly ok: false; readonly error: import('../errors.js').PolycloudError };

export type KvDeleteResult =
  | { readonly key: string; readonly ok: true; readonly existed: boolean }
  | { readonly key: string; readonly ok: false; readonly error: import('../errors.js').PolycloudError };
