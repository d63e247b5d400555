/**
 * `@polycloud/core/driver`: what an adapter builds on. The driver interfaces a provider
 * implements, and the kit that owns what every driver would otherwise repeat: error wrapping
 * (a driver supplies only a classifier), bounded concurrency, multipart uploads, stream helpers
 * and the header-safe value codec. Application code imports `@polycloud/core` instead.
 */
// Everything queue and key-value drivers use (see base.ts), plus the blob side below.

export type { DriverBody, DriverGetOptions } from '../blob/driver.js';
export {
  CustomerKey,
  customerKeyRequiredMessage,
  type DriverEncryption,
  type EncryptionInfo,
} from '../blob/encryption.js';
export { bodyToBytes, normalizeBody, streamToBytes } from '../body.js';
export { BodyDigests, Crc32c, md5Base64 } from '../internal/checksum.js';
// From their own modules, not open.ts: importing open.ts would load Bucket, Queue and KvStore
// into every adapter at start-up (cold start).
export { type ModuleLoader, setModuleLoader } from '../internal/loader.js';
export { type KeyContext, validateKey } from '../keys.js';
export { uploadParts } from '../parts.js';
export * from './base.js';
export { decodeListCursor, encodeListCursor } from './cursor.js';
export { decodeHeaderValue, encodeHeaderValue } from './header-codec.js';
export {
  choosePartSize,
  type MultipartLimits,
  type MultipartSite,
  type MultipartTarget,
  multipartUpload,
} from './multipart.js';
export {
  bytesStream,
  DEFAULT_CONTENT_TYPE,
  emptyStream,
  guardStream,
  totalFromContentRange,
} from './streams.js';
