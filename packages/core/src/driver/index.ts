/**
 * `@polycloud/core/driver`: what an adapter builds on. The driver interfaces a provider
 * implements, and the kit that owns what every driver would otherwise repeat: error wrapping
 * (a driver supplies only a classifier), bounded concurrency, multipart uploads, stream helpers
 * and the header-safe value codec. Application code imports `@polycloud/core` instead.
 */
export type {
  BucketDriver,
  DriverBody,
  DriverGetOptions,
  DriverPutOptions,
  DriverSignOptions,
} from '../blob/driver.js';
export {
  CustomerKey,
  customerKeyRequiredMessage,
  type DriverEncryption,
  type EncryptionInfo,
} from '../blob/encryption.js';
export { bodyToBytes, type NormalizedBody, normalizeBody, streamToBytes } from '../body.js';
export { defineCapabilities, requireCapability } from '../capabilities.js';
export {
  abortError,
  codeFromGrpcStatus,
  codeFromHttpStatus,
  ERROR_CODES,
  type ErrorCode,
  invalidArgument,
  isPolycloudError,
  PolycloudError,
  pcError,
} from '../errors.js';
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
} from '../internal/bytes.js';
export { BodyDigests, Crc32c, md5Base64 } from '../internal/checksum.js';
// From their own modules, not open.ts: importing open.ts would load Bucket, Queue and KvStore
// into every adapter at start-up (cold start).
export { type ModuleLoader, setModuleLoader } from '../internal/loader.js';
export { backoffDelay, DEFAULT_RETRY, type RetryPolicy, withRetry } from '../internal/retry.js';
export { remainingMs, sleep } from '../internal/signal.js';
export { urlBool, urlParams } from '../internal/url.js';
export { type KeyContext, validateKey } from '../keys.js';
export type { DriverKvEntry, KvDriver } from '../kv/driver.js';
export { checkKvValue, decodeKvValue, encodeKvValue, kvValueSize } from '../kv/value.js';
export type { BlobModule, DriverOpenOptions, KvModule, QueueModule } from '../open.js';
export { uploadParts } from '../parts.js';
export type { DriverMessage, DriverOutgoing, QueueDriver } from '../queue/driver.js';
export { mapLimit } from './concurrency.js';
export { decodeListCursor, encodeListCursor } from './cursor.js';
export {
  ALLOW_INSECURE_HTTP,
  ALLOW_INSECURE_HTTP_ENV,
  checkEndpointTransport,
  type EndpointCheck,
  isLoopbackHost,
} from './endpoint.js';
export {
  type Classification,
  type Classify,
  causeChain,
  describe,
  type ErrorSite,
  isAbortError,
  isConnectError,
  isTransportError,
  RETRYABLE_CODES,
  transportFailure,
  type WrapOptions,
  wrapError,
} from './errors.js';
export { decodeHeaderValue, encodeHeaderValue } from './header-codec.js';
export {
  choosePartSize,
  type MultipartLimits,
  type MultipartSite,
  type MultipartTarget,
  multipartUpload,
} from './multipart.js';
export { type Probe, resolveOutcome } from './outcome.js';
export {
  bytesStream,
  DEFAULT_CONTENT_TYPE,
  emptyStream,
  guardStream,
  totalFromContentRange,
} from './streams.js';
