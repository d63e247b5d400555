/**
 * `@polycloud/core`: the portable API application code uses (Bucket, Queue, KvStore, opening
 * by URL, errors, capabilities, codecs). Adapters build on `@polycloud/core/driver`.
 */
export { type BlobReader, Bucket, type BucketOptions } from './blob/bucket.js';
// Driver-side names, kept here only until every adapter imports them from
// `@polycloud/core/driver` (the built-in adapters do; @polycloud/local and third-party ones may
// not yet). New code: import them from '@polycloud/core/driver'.
export type {
  BucketDriver,
  DriverBody,
  DriverCopyOptions,
  DriverGetOptions,
  DriverPutOptions,
  DriverSignOptions,
} from './blob/driver.js';
export { CUSTOMER_KEY_BYTES } from './blob/encryption.js';
export type * from './blob/types.js';
export type { BodyInput } from './body.js';
export { bodyToBytes, type NormalizedBody, normalizeBody, streamToBytes } from './body.js';
export {
  type AnyCapabilities,
  type BucketCapabilities,
  defineCapabilities,
  type KvCapabilities,
  type QueueCapabilities,
  requireCapability,
} from './capabilities.js';
export { copyBetween } from './copy.js';
export {
  abortError,
  codeFromGrpcStatus,
  codeFromHttpStatus,
  ERROR_CODES,
  type ErrorCode,
  invalidArgument,
  isPolycloudError,
  PolycloudError,
  type PolycloudErrorOptions,
  pcError,
} from './errors.js';
// Functions: the portable handler contract (DESIGN §8); bindings live in each adapter's /functions.
export * from './functions/index.js';
export {
  bytesEqual,
  compareUtf8,
  concatBytes,
  fromBase64,
  fromBase64Url,
  fromUtf8,
  toBase64,
  toBase64Url,
  utf8,
  utf8Length,
} from './internal/bytes.js';
export { BodyDigests, Crc32c, md5Base64 } from './internal/checksum.js';
export type { PortableOptions } from './internal/context.js';
export type { RetryPolicy } from './internal/retry.js';
export { backoffDelay, DEFAULT_RETRY, withRetry } from './internal/retry.js';
export { sleep } from './internal/signal.js';
export { type KeyContext, validateKey } from './keys.js';
export type { DriverKvEntry, KvDriver } from './kv/driver.js';
export { KvStore, type KvStoreOptions } from './kv/kvstore.js';
export type * from './kv/types.js';
export { checkKvValue, decodeKvValue, encodeKvValue, kvValueSize } from './kv/value.js';
export {
  type BlobModule,
  type DriverOpenOptions,
  type KvModule,
  type ModuleLoader,
  openBucket,
  openKv,
  openQueue,
  type QueueModule,
  registeredSchemes,
  registerScheme,
  type SchemeRegistration,
  setModuleLoader,
  urlBool,
  urlParams,
} from './open.js';
export { uploadParts } from './parts.js';
export { bytesCodec, type Codec, jsonCodec, textCodec } from './queue/codec.js';
export type { ConsumeOptions, Consumer, MessageHandler } from './queue/consumer.js';
export type { DriverMessage, DriverOutgoing, DriverReceiver, QueueDriver } from './queue/driver.js';
export { Queue, type QueueOptions } from './queue/queue.js';
export type * from './queue/types.js';
export { type DebugEvent, type DebugLogger, type Service, setDebugLogger } from './telemetry.js';
