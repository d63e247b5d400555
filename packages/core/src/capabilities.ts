import { pcError } from './errors.js';

/**
 * What a bucket can do. Flags are true only when the feature works on every code path
 * (single-shot and multipart uploads alike); limits are numbers.
 */
export interface BucketCapabilities {
  /** `put` with `ifNoneMatch: '*'`. */
  readonly putIfNoneMatch: boolean;
  /** `put` with `ifMatch`. */
  readonly putIfMatch: boolean;
  /** `get` with `ifMatch`. */
  readonly getIfMatch: boolean;
  /** `delete` with `ifMatch`. */
  readonly deleteIfMatch: boolean;
  /** `put` verifying a caller-supplied MD5. */
  readonly putMd5: boolean;
  /** `put` verifying a caller-supplied CRC32C. */
  readonly putCrc32c: boolean;
  /** `copy` with `ifNoneMatch: '*'`. */
  readonly copyIfNoneMatch: boolean;
  readonly contentEncoding: boolean;
  readonly contentDisposition: boolean;
  readonly cacheControl: boolean;
  readonly metadata: boolean;
  readonly rangeRead: boolean;
  readonly listDelimiter: boolean;
  /** Which methods `signedUrl` and `signedRequest` can sign (empty: none). */
  readonly signedUrlMethods: readonly ('GET' | 'PUT' | 'DELETE')[];
  readonly maxSignedUrlSeconds: number;
  readonly maxKeyBytes: number;
  /** Largest object `put` accepts, in bytes. */
  readonly maxObjectBytes: number;
  /** Smallest part size for multipart uploads (0 when uploads are not split). */
  readonly minPartBytes: number;
  readonly maxListLimit: number;
  readonly maxDeleteBatch: number;
  /**
   * Writes with `encryption: { kmsKeyId }`: a key the provider's key service manages (S3
   * SSE-KMS, Cloud Storage CMEK, Azure encryption scope), on single-shot, multipart and copy.
   */
  readonly encryptionManagedKey: boolean;
  /**
   * Writes and reads with `encryption: { customerKey }`: a 32-byte AES-256 key the caller keeps
   * (S3 SSE-C, Cloud Storage CSEK, Azure customer-provided key), on every upload path and read.
   */
  readonly encryptionCustomerKey: boolean;
}

/** What a queue supports; options whose capability is absent are rejected with UNSUPPORTED before any I/O. */
export interface QueueCapabilities {
  readonly delay: boolean;
  readonly maxDelaySeconds: number;
  readonly attributes: boolean;
  readonly maxAttributes: number;
  /** Message groups with order kept within a group (FIFO queues, ordering keys). */
  readonly groupId: boolean;
  readonly deduplicationId: boolean;
  readonly nack: boolean;
  /** `nack` with a delay before redelivery. */
  readonly nackDelay: boolean;
  readonly extend: boolean;
  readonly visibilityTimeout: boolean;
  readonly maxVisibilitySeconds: number;
  /** The service moves messages to a dead-letter queue itself (configured on the queue). */
  readonly nativeDeadLetter: boolean;
  /** deliveryCount is accurate (counted by the service or the driver). */
  readonly deliveryCount: boolean;
  readonly maxMessageBytes: number;
  readonly maxBatchSize: number;
  readonly maxReceiveMessages: number;
  readonly maxWaitSeconds: number;
}

/** What a key-value store supports; options whose capability is absent are rejected with UNSUPPORTED before any I/O. */
export interface KvCapabilities {
  readonly ifVersion: boolean;
  readonly ifAbsent: boolean;
  readonly ttl: boolean;
  readonly increment: boolean;
  readonly binaryValues: boolean;
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  readonly maxBatchSize: number;
  readonly maxListLimit: number;
}

/** Any of the three capability records. */
export type AnyCapabilities = BucketCapabilities | QueueCapabilities | KvCapabilities;

/** Freezes a capability record so nobody flips a flag at run time. */
export function defineCapabilities<T extends object>(caps: T): Readonly<T> {
  return Object.freeze({ ...caps });
}

/**
 * Throws UNSUPPORTED (before any I/O) when an option needs a capability that is absent.
 */
export function requireCapability(
  present: boolean,
  capability: string,
  ctx: { provider: string; service: 'blob' | 'queue' | 'kv'; operation: string; name: string; key?: string },
): void {
  if (present) return;
  throw pcError(
    'UNSUPPORTED',
    `${ctx.operation} on ${ctx.service} "${ctx.name}" (${ctx.provider}) needs capability "${capability}", which this provider does not have; drop the option or check capabilities.${capability} first`,
    {
      provider: ctx.provider,
      service: ctx.service,
      operation: ctx.operation,
      resource: { name: ctx.name, ...(ctx.key === undefined ? {} : { key: ctx.key }) },
      retryable: false,
    },
  );
}
