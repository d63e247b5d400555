/**
 * `@polycloud/core/driver/base`: the part of the driver kit that queue and key-value drivers
 * use — errors and their wrapping, capabilities, URL parameters, bytes, retries, key-value
 * value encoding, bounded concurrency, outcome resolution — and every driver interface type,
 * without the blob streaming and multipart modules. Importing it costs less start-up than
 * `@polycloud/core/driver`, which exports all of this too.
 */
export type {
  BucketDriver,
  DriverCopyOptions,
  DriverPutOptions,
  DriverSignOptions,
} from '../blob/driver.js';
export type { NormalizedBody } from '../body.js';
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
export { backoffDelay, DEFAULT_RETRY, type RetryPolicy, withRetry } from '../internal/retry.js';
export { remainingMs, sleep } from '../internal/signal.js';
export { urlBool, urlParams } from '../internal/url.js';
export type { DriverKvEntry, KvDriver } from '../kv/driver.js';
export { checkKvValue, decodeKvValue, encodeKvValue, kvValueSize } from '../kv/value.js';
export type { BlobModule, DriverOpenOptions, KvModule, QueueModule } from '../open.js';
export type { DriverMessage, DriverOutgoing, DriverReceiver, QueueDriver } from '../queue/driver.js';
export { mapLimit } from './concurrency.js';
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
export { type Probe, resolveOutcome } from './outcome.js';
