import type { Readable } from 'node:stream';
import type { NormalizedBody } from '../body.js';
import type { BucketCapabilities } from '../capabilities.js';
import type { PolycloudError } from '../errors.js';
import type { RetryPolicy } from '../internal/retry.js';
import type { CustomerKey, DriverEncryption } from './encryption.js';
import type { BlobInfo, ByteRange, ListPage, SignedRequest, SignedUrlMethod } from './types.js';

/** Options the portable layer hands a driver's `signedUrl` / `signedRequest`, already validated. */
export interface DriverSignOptions {
  readonly method: SignedUrlMethod;
  /** 1 to capabilities.maxSignedUrlSeconds. */
  readonly expiresIn: number;
  readonly contentType: string | undefined;
  /**
   * Encryption the signed request carries as headers (signed where the provider signs headers):
   * only for `signedRequest`, only with the matching capability.
   */
  readonly encryption?: DriverEncryption | undefined;
}

/** Options the portable layer hands a driver's `get` / `read`, already validated. */
export interface DriverGetOptions {
  /** Already clamped to non-negative integers. */
  readonly range: ByteRange | undefined;
  readonly ifMatch: string | undefined;
  readonly signal: AbortSignal | undefined;
  /** The object's customer key (only with capability encryptionCustomerKey). */
  readonly customerKey?: CustomerKey | undefined;
}

/**
 * A body as `BucketDriver.read` hands it over: bytes already in memory (the caller's own copy,
 * not shared with the driver's state) or a Node stream of Uint8Array/Buffer chunks, such as
 * the SDK's response stream as is. The portable layer reads it, resumes it when it is cut,
 * and destroys it when the caller gives up.
 */
export type DriverBody = Uint8Array | Readable;

/** Options the portable layer hands a driver's `copy`, already validated. */
export interface DriverCopyOptions {
  readonly ifNoneMatch: '*' | undefined;
  readonly ifMatch: string | undefined;
  readonly signal: AbortSignal | undefined;
  /** Encryption of the destination (validated; only with the matching capability). */
  readonly encryption?: DriverEncryption | undefined;
  /** The source's customer key. */
  readonly sourceCustomerKey?: CustomerKey | undefined;
}

/** Options the portable layer hands a driver's `put`, already validated and normalised. */
export interface DriverPutOptions {
  readonly contentType: string | undefined;
  readonly contentEncoding: string | undefined;
  readonly contentDisposition: string | undefined;
  readonly cacheControl: string | undefined;
  /** Keys already lower-case. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly ifNoneMatch: '*' | undefined;
  readonly ifMatch: string | undefined;
  /** Expected base64 MD5 / CRC32C; drivers may pass them to the service as well. */
  readonly md5: string | undefined;
  readonly crc32c: string | undefined;
  readonly partSize: number;
  readonly concurrency: number;
  /**
   * For stream bodies: call after the last byte was sent and before the upload is committed
   * (multipart completion, block-list commit). It throws when a checksum the caller asked for
   * does not match, and the driver must then abort so nothing becomes visible.
   */
  readonly beforeCommit: () => void;
  readonly signal: AbortSignal | undefined;
  /**
   * The portable retry policy, for the parts of a multipart upload (the kit's
   * `multipartUpload` retries each part from its buffered bytes). Absent: the default policy.
   */
  readonly retry?: RetryPolicy;
  /** Server-side encryption, validated; present only when the matching capability is declared. */
  readonly encryption?: DriverEncryption | undefined;
}

/**
 * What an adapter implements for blob storage. The portable `Bucket` validates arguments,
 * checks capabilities, retries and maps errors; a driver only talks to its service and maps
 * native errors to PolycloudError (never throws a native error).
 */
export interface BucketDriver<TNative = unknown> {
  /** e.g. 'aws', 'gcp', 'azure', 'memory'. */
  readonly provider: string;
  /** The bucket/container name. */
  readonly name: string;
  readonly capabilities: BucketCapabilities;
  /**
   * True when a `put` of a bytes body and the opening of a read (`get`/`read`; the body is
   * bounded separately) settle within the turn of the event loop that made them (no I/O, no
   * timers, no waiting on other tasks), as the in-memory driver's do. The portable layer then
   * runs those calls without a per-attempt signal and bound when the caller gives no signal or
   * `timeoutMs`: that bound could never fire. Streamed puts always keep theirs.
   */
  readonly settlesSynchronously?: boolean;
  /**
   * True when every request the driver makes takes the signal it is given (the SDK destroys
   * the request when it aborts): attempts then skip core's node:http safety net, whose
   * async-context scope and per-request listener cost CPU on every call. Leave it unset for an
   * SDK that ignores signals on some request.
   */
  readonly signalEndsRequests?: boolean;

  /**
   * Writes an object. `body.kind === 'bytes'` is a single-shot upload. A stream body is longer
   * than partSize or of unknown length: upload it in parts with bounded memory (see
   * `uploadParts`), honour ifNoneMatch/ifMatch on the commit, and leave nothing visible on failure.
   */
  put(key: string, body: NormalizedBody, opts: DriverPutOptions): Promise<BlobInfo>;

  /** NOT_FOUND when missing. `range` is already clamped to non-negative integers. */
  get(key: string, opts: DriverGetOptions): Promise<{ info: BlobInfo; body: ReadableStream<Uint8Array> }>;

  /**
   * Optional, and used instead of `get` when present: the same read (NOT_FOUND, ifMatch, range
   * as in `get`) with the body as bytes in memory or a Node stream (see {@link DriverBody}).
   * Whole-body reads (`getBytes`, `getText`, `bytes()`) then never build a Web stream, and
   * a streamed `get().body` is one Web stream over the driver's own. Errors the stream emits
   * may be native: the portable layer treats them as a cut connection.
   */
  read?(key: string, opts: DriverGetOptions): Promise<{ info: BlobInfo; body: DriverBody }>;

  /** Metadata of one object without its body; NOT_FOUND when missing. */
  head(
    key: string,
    opts: { signal: AbortSignal | undefined; customerKey?: CustomerKey | undefined },
  ): Promise<BlobInfo>;

  /** Deleting a missing key succeeds (unless ifMatch is set: then PRECONDITION_FAILED or NOT_FOUND). */
  delete(key: string, opts: { ifMatch: string | undefined; signal: AbortSignal | undefined }): Promise<void>;

  /** Optional batch delete; keys.length ≤ capabilities.maxDeleteBatch. Results in input order. */
  deleteMany?(
    keys: readonly string[],
    opts: { signal: AbortSignal | undefined },
  ): Promise<readonly (PolycloudError | undefined)[]>;

  /** One page, ordered by UTF-8 bytes of the key; `limit` ≤ capabilities.maxListLimit. */
  list(opts: {
    prefix: string;
    delimiter: string | undefined;
    cursor: string | undefined;
    limit: number;
    signal: AbortSignal | undefined;
  }): Promise<ListPage>;

  /** Server-side copy within the bucket; content, headers and metadata are copied. */
  copy(src: string, dst: string, opts: DriverCopyOptions): Promise<BlobInfo>;

  /**
   * Required when capabilities.signedUrlMethods is non-empty. A URL for `opts.method` on `key`;
   * when the request also needs headers (see `signedRequest`), this is the bare URL.
   */
  signedUrl?(key: string, opts: DriverSignOptions): Promise<string>;

  /**
   * Optional: the URL plus the headers the request must send, for providers whose signed
   * requests need more than a URL (Azure's Put Blob needs `x-ms-blob-type`, encryption keys).
   * Header names lower-case. `Bucket.signedRequest` adds `content-type` to a PUT signed with
   * `contentType` itself, with or without this method.
   */
  signedRequest?(key: string, opts: DriverSignOptions): Promise<SignedRequest>;

  /** Releases clients and sockets the driver owns (not a native client the user passed in). */
  close(): Promise<void>;
  /** The provider SDK client the driver uses, for calls polycloud does not cover. */
  native(): TNative;
}
