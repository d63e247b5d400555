import type { BodyInput } from '../body.js';
import type { Encryption, EncryptionInfo, ReadEncryption } from './encryption.js';

/** What polycloud knows about a stored object. */
export interface BlobInfo {
  readonly key: string;
  readonly size: number;
  /** Opaque version tag; pass it back as `ifMatch`. */
  readonly etag: string;
  readonly contentType: string | undefined;
  readonly contentEncoding: string | undefined;
  readonly contentDisposition: string | undefined;
  readonly cacheControl: string | undefined;
  /** User metadata; keys lower-case. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly lastModified: Date;
  /** Base64 MD5 of the content, where the provider reports one for this object. */
  readonly md5?: string | undefined;
  /** The server-side encryption key in effect, where the provider reports it (never a key itself). */
  readonly encryption?: EncryptionInfo | undefined;
}

/** One entry of a listing: what a list call returns without a request per item. */
export interface BlobListItem {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly lastModified: Date;
}

/** Options every Bucket call takes. */
export interface CallOptions {
  /** Cancels the call; the promise rejects with CANCELLED (or TIMEOUT for a timeout signal). */
  readonly signal?: AbortSignal | undefined;
}

/** Options of `Bucket.put`: content headers, metadata, conditions, checksums and multipart tuning. */
export interface PutOptions extends CallOptions {
  /** The object's Content-Type. Default: a Blob or File body's non-empty `type`, else none. */
  readonly contentType?: string;
  readonly contentEncoding?: string;
  readonly contentDisposition?: string;
  readonly cacheControl?: string;
  /** String→string; keys are case-insensitive and stored lower-case. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** `'*'`: create only; fails with PRECONDITION_FAILED if the key exists. */
  readonly ifNoneMatch?: '*';
  /** Replace only if the current etag is this one, else PRECONDITION_FAILED. */
  readonly ifMatch?: string;
  /** Base64 MD5 the body must have; on mismatch nothing is written (INVALID_ARGUMENT). */
  readonly md5?: string;
  /** Base64 big-endian CRC32C the body must have. */
  readonly crc32c?: string;
  /** Bytes per part for streamed uploads. */
  readonly partSize?: number;
  /** Parts in flight at once for streamed uploads. */
  readonly concurrency?: number;
  /**
   * Server-side encryption with a managed key (capability `encryptionManagedKey`) or a
   * customer key (`encryptionCustomerKey`), on every upload path.
   */
  readonly encryption?: Encryption;
}

/** A byte range of an object: from `offset`, `length` bytes (to the end when absent). */
export interface ByteRange {
  readonly offset: number;
  /** Bytes to read; past the end is truncated. Omit to read to the end. */
  readonly length?: number;
}

/** Options of `Bucket.get`: a byte range and a condition on the current etag. */
export interface GetOptions extends CallOptions {
  /** A range that starts at or past the end yields an empty body. */
  readonly range?: ByteRange;
  readonly ifMatch?: string;
  /** The customer key the object was written with (capability `encryptionCustomerKey`). */
  readonly encryption?: ReadEncryption;
}

/** Options of `Bucket.head` and `Bucket.exists`. */
export interface HeadOptions extends CallOptions {
  /** The customer key the object was written with (capability `encryptionCustomerKey`). */
  readonly encryption?: ReadEncryption;
}

/** Options of `Bucket.delete`: delete only if the current etag matches. */
export interface DeleteOptions extends CallOptions {
  readonly ifMatch?: string;
}

/** Options of `Bucket.list` and `Bucket.entries`: prefix, delimiter, page size and cursor. */
export interface ListOptions extends CallOptions {
  readonly prefix?: string;
  /** Groups keys by the next occurrence of this string after the prefix (usually "/"). */
  readonly delimiter?: string;
  /** From a previous page; opaque. */
  readonly cursor?: string;
  /** Maximum items plus prefixes in one page. */
  readonly limit?: number;
}

/** One page of a listing, in UTF-8 byte order; pass `cursor` back for the next page. */
export interface ListPage {
  readonly items: readonly BlobListItem[];
  readonly prefixes: readonly string[];
  /** Present when there is another page. */
  readonly cursor?: string | undefined;
}

/** Options of `Bucket.copy`: conditions on the source and the destination. */
export interface CopyOptions extends CallOptions {
  /** `'*'`: fail with PRECONDITION_FAILED if the destination exists. */
  readonly ifNoneMatch?: '*';
  /** Copy only if the source's etag is this one. */
  readonly ifMatch?: string;
  /**
   * Encryption of the destination. Without it the copy gets the bucket's default encryption,
   * not the source's key.
   */
  readonly encryption?: Encryption;
  /** The customer key the source was written with. */
  readonly sourceEncryption?: ReadEncryption;
}

/** The HTTP methods a signed URL can grant. */
export type SignedUrlMethod = 'GET' | 'PUT' | 'DELETE';

/** Options of `Bucket.signedUrl` and `Bucket.signedRequest`. */
export interface SignedUrlOptions {
  /** Default `'GET'`. */
  readonly method?: SignedUrlMethod;
  /** Seconds the URL stays valid, 1 to `capabilities.maxSignedUrlSeconds`. */
  readonly expiresIn: number;
  /** For PUT: the Content-Type the uploader must send. */
  readonly contentType?: string;
  /**
   * `signedRequest` only: the encryption the request carries as headers (returned with the
   * URL): for a GET the object's `customerKey`, for a PUT a `kmsKeyId` or a `customerKey`.
   * Whoever holds the returned headers holds the key. Default: the bucket's.
   */
  readonly encryption?: Encryption;
}

/**
 * Everything a client without credentials needs to act on one key: send `method` to `url`
 * with exactly these `headers` (and, for PUT, the body). From `bucket.signedRequest()`.
 *
 * @example
 * const { url, method, headers } = await bucket.signedRequest('photo.jpg', { method: 'PUT', expiresIn: 600, contentType: 'image/jpeg' });
 * await fetch(url, { method, headers, body });
 */
export interface SignedRequest {
  readonly url: string;
  readonly method: SignedUrlMethod;
  /**
   * Headers the request must carry (names lower-case), e.g. `content-type` for a PUT signed
   * with `contentType`, or a provider's own (`x-ms-blob-type` on Azure). Empty when none.
   */
  readonly headers: Readonly<Record<string, string>>;
}

/** The outcome of one key of `Bucket.deleteMany`: deleted, or the error that key met. */
export type DeleteManyResult =
  | { readonly key: string; readonly ok: true }
  | { readonly key: string; readonly ok: false; readonly error: import('../errors.js').PolycloudError };

export type { BodyInput, Encryption, EncryptionInfo, ReadEncryption };
