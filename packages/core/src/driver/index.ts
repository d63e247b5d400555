/**
 * `@polycloud/core/driver`: what an adapter builds on. The driver interfaces a provider
 * implements, and the kit that owns what every driver would otherwise repeat: error wrapping
 * (a driver supplies only a classifier), bounded concurrency, multipart uploads, stream helpers
 * and the header-safe value codec. Application code imports `@polycloud/core` instead.
 */
export type { BucketDriver, DriverPutOptions, DriverSignOptions } from '../blob/driver.js';
export type { DriverKvEntry, KvDriver } from '../kv/driver.js';
export type { BlobModule, DriverOpenOptions, KvModule, QueueModule } from '../open.js';
export type { DriverMessage, DriverOutgoing, QueueDriver } from '../queue/driver.js';
export { mapLimit } from './concurrency.js';
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
