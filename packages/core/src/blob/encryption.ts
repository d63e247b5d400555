import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import type { BucketCapabilities } from '../capabilities.js';
import { requireCapability } from '../capabilities.js';
import { invalidArgument, isPolycloudError, PolycloudError } from '../errors.js';
import { toBase64 } from '../internal/bytes.js';

/** AES-256: the only customer key size every provider accepts. */
export const CUSTOMER_KEY_BYTES = 32;

/**
 * Server-side encryption for a write. Either a key the provider's key service manages
 * (`kmsKeyId`: an S3 SSE-KMS key id/ARN/alias, a Cloud Storage CMEK `kmsKeyName`, an Azure
 * encryption scope name), or a 32-byte AES-256 key the caller keeps (`customerKey`: S3 SSE-C,
 * Cloud Storage CSEK, Azure customer-provided key). A customer key is never stored by the
 * provider: every read of the object must pass the same key again.
 */
export type Encryption = { readonly kmsKeyId: string } | { readonly customerKey: Uint8Array };

/** The customer key a read needs (objects written with `customerKey`). */
export interface ReadEncryption {
  /** The 32-byte AES-256 key the object was written with. */
  readonly customerKey: Uint8Array;
}

/**
 * The encryption in effect for an object, where the provider reports it: the managed key id
 * (as the provider spells it: S3 may answer a full ARN, Cloud Storage a key version), or the
 * base64 SHA-256 of the customer key. Never the key itself.
 */
export type EncryptionInfo = { readonly kmsKeyId: string } | { readonly customerKeySha256: string };

/**
 * A validated customer key as drivers receive it. The bytes stay private: `toJSON()`,
 * `util.inspect` and `String()` show only the SHA-256, so a logged options object or error
 * cause never carries the key.
 */
export class CustomerKey {
  readonly #key: Uint8Array;
  /** Base64 SHA-256 of the key (Cloud Storage's and Azure's key hash header). */
  readonly sha256: string;

  constructor(key: Uint8Array) {
    this.#key = Uint8Array.from(key);
    this.sha256 = createHash('sha256').update(this.#key).digest('base64');
  }

  /** Base64 of the key, for the request header that carries it; never log it. */
  base64(): string {
    return toBase64(this.#key);
  }

  /** A copy of the key bytes. */
  bytes(): Uint8Array {
    return Uint8Array.from(this.#key);
  }

  /** Base64 MD5 of the key (S3's SSE-C key hash header). */
  md5(): string {
    return createHash('md5').update(this.#key).digest('base64');
  }

  /** The key's SHA-256 only, so a serialised options object never carries the key. */
  toJSON(): { customerKeySha256: string } {
    return { customerKeySha256: this.sha256 };
  }

  /** `CustomerKey(sha256=…)`: never the key. */
  toString(): string {
    return `CustomerKey(sha256=${this.sha256})`;
  }

  /** What `util.inspect` and `console.log` show: the same as `toString()`. */
  [inspect.custom](): string {
    return this.toString();
  }
}

/** Encryption as the portable layer hands it to a driver, already validated. */
export type DriverEncryption =
  | { readonly kmsKeyId: string; readonly customerKey?: undefined }
  | { readonly customerKey: CustomerKey; readonly kmsKeyId?: undefined };

type Ctx = {
  readonly provider: string;
  readonly service: 'blob' | 'queue' | 'kv';
  readonly operation: string;
  readonly resource: { readonly name: string; readonly key?: string | undefined };
};

function checkCustomerKey(value: unknown, name: string, ctx: Ctx): CustomerKey {
  if (!(value instanceof Uint8Array)) {
    throw invalidArgument(
      `${ctx.operation} on blob "${ctx.resource.name}": ${name} must be a Uint8Array of ${CUSTOMER_KEY_BYTES} bytes (an AES-256 key), got ${value === null ? 'null' : typeof value}`,
      ctx,
    );
  }
  if (value.byteLength !== CUSTOMER_KEY_BYTES) {
    // The length only: never a byte of the key.
    throw invalidArgument(
      `${ctx.operation} on blob "${ctx.resource.name}": ${name} must be ${CUSTOMER_KEY_BYTES} bytes (AES-256), got ${value.byteLength}; generate one with crypto.getRandomValues(new Uint8Array(32)) and keep it: every read needs it`,
      ctx,
    );
  }
  return new CustomerKey(value);
}

function need(caps: BucketCapabilities, flag: 'encryptionManagedKey' | 'encryptionCustomerKey', ctx: Ctx) {
  requireCapability(caps[flag] === true, flag, {
    provider: ctx.provider,
    service: 'blob',
    operation: ctx.operation,
    name: ctx.resource.name,
    ...(ctx.resource.key === undefined ? {} : { key: ctx.resource.key }),
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/**
 * Validates the `encryption` option of a write (put, copy destination) and checks its
 * capability: INVALID_ARGUMENT for a malformed value, UNSUPPORTED when the provider lacks it,
 * both before any I/O.
 */
export function writeEncryption(
  value: unknown,
  caps: BucketCapabilities,
  ctx: Ctx,
  name = 'encryption',
): DriverEncryption | undefined {
  if (value === undefined) return undefined;
  const shape = `${name} must be { kmsKeyId: string } or { customerKey: Uint8Array (32 bytes) }`;
  if (!isObject(value))
    throw invalidArgument(`${ctx.operation} on blob "${ctx.resource.name}": ${shape}`, ctx);
  const keys = Object.keys(value);
  if (keys.length !== 1 || (keys[0] !== 'kmsKeyId' && keys[0] !== 'customerKey')) {
    throw invalidArgument(
      `${ctx.operation} on blob "${ctx.resource.name}": ${shape}, got the field(s) ${keys.join(', ') || 'none'}`,
      ctx,
    );
  }
  if ('kmsKeyId' in value) {
    const id = value.kmsKeyId;
    if (typeof id !== 'string' || id.length === 0 || id.length > 2048 || !/^[\x21-\x7e]+$/.test(id)) {
      throw invalidArgument(
        `${ctx.operation} on blob "${ctx.resource.name}": ${name}.kmsKeyId must be a non-empty key id of printable ASCII without spaces (a KMS key id/ARN/alias, a Cloud KMS key name or an Azure encryption scope)`,
        ctx,
      );
    }
    need(caps, 'encryptionManagedKey', ctx);
    return { kmsKeyId: id };
  }
  const key = checkCustomerKey(value.customerKey, `${name}.customerKey`, ctx);
  need(caps, 'encryptionCustomerKey', ctx);
  return { customerKey: key };
}

/**
 * Validates the `encryption` option of a read (get, getBytes, head, copy source): only a
 * customer key is meaningful there, since managed keys decrypt transparently.
 */
export function readEncryption(
  value: unknown,
  caps: BucketCapabilities,
  ctx: Ctx,
  name = 'encryption',
): CustomerKey | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value) || Object.keys(value).length !== 1 || !('customerKey' in value)) {
    throw invalidArgument(
      `${ctx.operation} on blob "${ctx.resource.name}": ${name} must be { customerKey: Uint8Array (32 bytes) } (objects written with a managed kmsKeyId are read without any option)`,
      ctx,
    );
  }
  const key = checkCustomerKey(value.customerKey, `${name}.customerKey`, ctx);
  need(caps, 'encryptionCustomerKey', ctx);
  return key;
}

/** The message drivers use when a read is refused because the object needs a customer key. */
export function customerKeyRequiredMessage(
  operation: string,
  bucket: string,
  key: string,
  provider: string,
  gave: boolean,
): string {
  return gave
    ? `${operation} on blob "${bucket}" key "${key}" (${provider}): the customer key given is not the one the object was written with; pass encryption: { customerKey } with the original 32-byte key`
    : `${operation} on blob "${bucket}" key "${key}" (${provider}): the object is encrypted with a customer-provided key; pass encryption: { customerKey } with the 32-byte key it was written with`;
}

/**
 * Native SDK errors can keep the request they failed on, headers included (the Cloud Storage
 * client's ApiError does), and so the customer key. An error of a call that carried a key
 * keeps its code, message and retryability, but a cause that shows the key is replaced by a
 * plain Error naming the native error: what a caller may log must never decrypt their data.
 */
export function scrubKey(err: unknown, ...keys: (CustomerKey | undefined)[]): unknown {
  const secrets = keys.flatMap((k) => {
    if (k === undefined) return [];
    const b64 = k.base64();
    return [
      b64,
      b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''),
      Buffer.from(k.bytes()).toString('hex'),
    ];
  });
  if (secrets.length === 0 || !isPolycloudError(err)) return err;
  if (!secrets.some((s) => shows(err, s))) return err;
  const cause = err.cause;
  const name = cause instanceof Error ? cause.name : typeof cause;
  let msg = cause instanceof Error ? cause.message : '';
  for (const s of secrets) msg = msg.split(s).join('[customer key]');
  const clean = new PolycloudError({
    code: err.code,
    message: secrets.reduce((m, s) => m.split(s).join('[customer key]'), err.message),
    retryable: err.retryable,
    provider: err.provider,
    service: err.service,
    operation: err.operation,
    resource: err.resource,
    outcomeUnknown: err.outcomeUnknown,
    cause: new Error(`${name}: ${msg} (native error dropped: it carried the request's customer key)`),
  });
  clean.stack = err.stack;
  return clean;
}

function shows(err: unknown, secret: string): boolean {
  let text = '';
  try {
    text = inspect(err, { depth: 12, showHidden: false, maxStringLength: Number.POSITIVE_INFINITY });
  } catch {
    return true;
  }
  try {
    text += JSON.stringify(err);
  } catch {
    // not serialisable: inspect said enough
  }
  return text.includes(secret) || String((err as Error).stack ?? '').includes(secret);
}

/**
 * The encryption a signed request must carry, validated: a customer key for a GET, a managed
 * key or a customer key for a PUT (the call's own, else the bucket's default). These travel as
 * request headers, so a bare `signedUrl` cannot carry them (INVALID_ARGUMENT pointing at
 * `signedRequest`), and a driver without `signedRequest` cannot sign them (UNSUPPORTED).
 */
export function signEncryption(
  value: unknown,
  method: 'GET' | 'PUT' | 'DELETE',
  fallback: DriverEncryption | undefined,
  caps: BucketCapabilities,
  ctx: Ctx,
  canSignHeaders: boolean,
): DriverEncryption | undefined {
  let enc: DriverEncryption | undefined;
  if (value !== undefined) {
    if (method === 'DELETE')
      throw invalidArgument(`${ctx.operation}: encryption applies to GET and PUT, not DELETE`, ctx);
    if (method === 'PUT') enc = writeEncryption(value, caps, ctx);
    else {
      const key = readEncryption(value, caps, ctx);
      enc = key === undefined ? undefined : { customerKey: key };
    }
  } else if (fallback !== undefined && method !== 'DELETE') {
    // A managed key decrypts by itself: a GET needs only a customer key.
    enc = method === 'GET' && fallback.customerKey === undefined ? undefined : fallback;
  }
  if (enc === undefined) return undefined;
  if (ctx.operation === 'signedUrl') {
    throw invalidArgument(
      `signedUrl on blob "${ctx.resource.name}": a ${method} with ${enc.customerKey ? 'a customer key' : 'a managed key'} needs request headers a bare URL cannot carry; use signedRequest(), which returns the URL with them`,
      ctx,
    );
  }
  requireCapability(canSignHeaders, 'signedRequest with encryption', {
    provider: ctx.provider,
    service: 'blob',
    operation: ctx.operation,
    name: ctx.resource.name,
    ...(ctx.resource.key === undefined ? {} : { key: ctx.resource.key }),
  });
  return enc;
}
