import { invalidArgument } from './errors.js';
import { utf8Length } from './internal/bytes.js';

/** Where a key is used, so a rejection names the provider, operation and resource. */
export interface KeyContext {
  /** Adapter id, e.g. 'aws'. */
  provider: string;
  /** The service the key belongs to. */
  service: 'blob' | 'kv';
  /** The portable operation, e.g. 'put'. */
  operation: string;
  /** Bucket or table name. */
  name: string;
}

/**
 * Checks a key against the portable rules: a well-formed UTF-8 string (no lone surrogates)
 * of 1..maxBytes bytes. Any such key must round-trip byte-exact on every provider; drivers
 * encode where their service is stricter.
 */
export function validateKey(key: unknown, maxBytes: number, ctx: KeyContext): asserts key is string {
  // Messages are built only on failure: this runs on every call.
  const where = () => `${ctx.operation} on ${ctx.service} "${ctx.name}"`;
  if (typeof key !== 'string') {
    throw invalidArgument(`${where()}: the key must be a string, got ${key === null ? 'null' : typeof key}`, {
      ...errCtx(ctx),
    });
  }
  if (key.length === 0) {
    throw invalidArgument(
      `${where()}: the key is empty; keys are 1 to ${maxBytes} bytes of UTF-8`,
      errCtx(ctx),
    );
  }
  if (!key.isWellFormed()) {
    throw invalidArgument(
      `${where()}: the key contains a lone UTF-16 surrogate, so it is not valid UTF-8; pass well-formed text`,
      errCtx(ctx, key),
    );
  }
  // A UTF-16 unit is at most 3 UTF-8 bytes: short keys need no byte count.
  if (key.length * 3 <= maxBytes) return;
  const bytes = utf8Length(key);
  if (bytes > maxBytes) {
    throw invalidArgument(
      `${where()}: the key is ${bytes} bytes of UTF-8, over the limit of ${maxBytes}; shorten it`,
      errCtx(ctx, `${key.slice(0, 64)}…`),
    );
  }
}

/** Checks a prefix (may be empty) the same way, without the minimum length. */
export function validatePrefix(prefix: unknown, maxBytes: number, ctx: KeyContext): asserts prefix is string {
  if (prefix === '') return;
  validateKey(prefix, maxBytes, ctx);
}

function errCtx(ctx: KeyContext, key?: string) {
  return {
    provider: ctx.provider,
    service: ctx.service,
    operation: ctx.operation,
    resource: { name: ctx.name, ...(key === undefined ? {} : { key }) },
  };
}
