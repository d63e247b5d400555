import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import type {
  BlobInfo,
  BucketCapabilities,
  ByteRange,
  ListPage,
  PolycloudError,
  SignedRequest,
} from '@polycloud/core';
import {
  type BucketDriver,
  bytesStream,
  type CustomerKey,
  customerKeyRequiredMessage,
  DEFAULT_CONTENT_TYPE,
  type DriverBody,
  type DriverCopyOptions,
  type DriverEncryption,
  type DriverPutOptions,
  type DriverSignOptions,
  defineCapabilities,
  type EncryptionInfo,
  isPolycloudError,
  multipartUpload,
  type NormalizedBody,
  pcError,
  totalFromContentRange,
} from '@polycloud/core/driver';
import { awsErrorName, awsHttpStatus, mapAwsError } from '../errors.js';
import { decodeMetadata, encodeMetadata } from './metadata.js';

const EMPTY = new Uint8Array(0);
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** Largest single PutObject / CopyObject. */
export const S3_MAX_SINGLE_BYTES = 5 * GiB;
const MAX_PARTS = 10_000;
const MIN_PART = 5 * MiB;
const MAX_PART = 5 * GiB;

/** What S3 offers through this driver (the same on every code path). */
export const S3_CAPABILITIES: BucketCapabilities = defineCapabilities({
  putIfNoneMatch: true,
  putIfMatch: true,
  getIfMatch: true,
  deleteIfMatch: true,
  putMd5: true,
  putCrc32c: true,
  copyIfNoneMatch: true,
  contentEncoding: true,
  contentDisposition: true,
  cacheControl: true,
  metadata: true,
  rangeRead: true,
  listDelimiter: true,
  signedUrlMethods: Object.freeze(['GET', 'PUT', 'DELETE'] as const),
  maxSignedUrlSeconds: 7 * 24 * 3600,
  maxKeyBytes: 1024,
  maxObjectBytes: 5 * 1024 * GiB,
  minPartBytes: MIN_PART,
  maxListLimit: 1000,
  maxDeleteBatch: 1000,
  // SSE-KMS and SSE-C on PutObject, every multipart request, CopyObject/UploadPartCopy and reads.
  // AWS refuses SSE-C over plain http; S3-compatible servers may accept it.
  encryptionManagedKey: true,
  encryptionCustomerKey: true,
});

/** What an {@link S3BucketDriver} is built from: a client, the bucket, and multipart copy tuning. */
export interface S3DriverConfig {
  readonly client: S3Client;
  readonly bucket: string;
  /** Whether close() destroys the client (true when the adapter created it). */
  readonly ownsClient: boolean;
  /** Copies above this size use UploadPartCopy (default and maximum 5 GiB). */
  readonly multipartCopyThresholdBytes?: number | undefined;
  /** Part size for multipart copies (default: 512 MiB, raised to fit 10,000 parts). */
  readonly multipartCopyPartBytes?: number | undefined;
}

type Sig = AbortSignal | undefined;

/** Headers S3 returns on HEAD/GET that make up a BlobInfo. */
type ObjectHeaders = Pick<
  HeadObjectCommandOutput,
  | 'ETag'
  | 'ContentType'
  | 'ContentEncoding'
  | 'ContentDisposition'
  | 'CacheControl'
  | 'Metadata'
  | 'LastModified'
  | 'ServerSideEncryption'
  | 'SSECustomerAlgorithm'
  | 'SSEKMSKeyId'
  | 'SSECustomerKeyMD5'
>;

/**
 * S3 `BucketDriver`: PutObject for in-memory bodies, multipart uploads with bounded memory for
 * streams, conditional headers on every write path, ListObjectsV2 with url encoding so every
 * key round-trips, DeleteObjects in batches, CopyObject / UploadPartCopy, presigned URLs.
 */
export class S3BucketDriver implements BucketDriver {
  readonly provider = 'aws';
  readonly name: string;
  readonly capabilities = S3_CAPABILITIES;
  /** Every S3 call passes the attempt's signal, and the SDK's HTTP handler destroys the request on abort. */
  readonly signalEndsRequests = true;
  private readonly client: S3Client;
  private readonly ownsClient: boolean;
  private readonly copyThreshold: number;
  private readonly copyPartBytes: number | undefined;

  constructor(cfg: S3DriverConfig) {
    this.client = cfg.client;
    this.name = cfg.bucket;
    this.ownsClient = cfg.ownsClient;
    this.copyThreshold = Math.min(
      cfg.multipartCopyThresholdBytes ?? S3_MAX_SINGLE_BYTES,
      S3_MAX_SINGLE_BYTES,
    );
    this.copyPartBytes = cfg.multipartCopyPartBytes;
  }

  native(): S3Client {
    return this.client;
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }

  // ---------------------------------------------------------------- put

  async put(key: string, body: NormalizedBody, opts: DriverPutOptions): Promise<BlobInfo> {
    if (body.kind === 'bytes' && body.data.byteLength <= S3_MAX_SINGLE_BYTES)
      return this.putSingle(key, body.data, opts);
    const stream = body.kind === 'bytes' ? bytesStream(body.data, opts.partSize) : body.stream;
    const size = body.kind === 'bytes' ? body.data.byteLength : body.size;
    return this.putMultipart(key, stream, size, opts);
  }

  private headersFor(opts: DriverPutOptions) {
    return {
      // Sent explicitly so every S3-compatible server reports the same type head reports.
      ContentType: opts.contentType ?? DEFAULT_CONTENT_TYPE,
      ContentEncoding: opts.contentEncoding,
      ContentDisposition: opts.contentDisposition,
      CacheControl: opts.cacheControl,
      Metadata: encodeMetadata(opts.metadata),
      ...encryptionHeaders(opts.encryption),
    };
  }

  private async putSingle(key: string, data: Uint8Array, opts: DriverPutOptions): Promise<BlobInfo> {
    try {
      const out = await this.client.send(
        new PutObjectCommand({
          Bucket: this.name,
          Key: key,
          Body: data,
          ContentLength: data.byteLength,
          ...this.headersFor(opts),
          ContentMD5: opts.md5,
          IfNoneMatch: opts.ifNoneMatch,
          IfMatch: opts.ifMatch,
        }),
        { abortSignal: opts.signal },
      );
      return this.putInfo(key, data.byteLength, out.ETag, out, opts);
    } catch (err) {
      throw this.putError(err, key, opts);
    }
  }

  private async putMultipart(
    key: string,
    stream: ReadableStream<Uint8Array>,
    size: number | undefined,
    opts: DriverPutOptions,
  ): Promise<BlobInfo> {
    const Bucket = this.name;
    // CompleteMultipartUpload does not echo an SSE-C key hash; UploadPart does, on every part.
    const echoed = new Set<string | undefined>();
    return multipartUpload<string, { PartNumber: number; ETag: string | undefined }>(
      stream,
      size,
      opts,
      {
        limits: { minPartBytes: MIN_PART, maxPartBytes: MAX_PART, maxParts: MAX_PARTS },
        precheck: () => this.checkPutPrecondition(key, opts),
        create: async (signal) => {
          const created = await this.client.send(
            new CreateMultipartUploadCommand({ Bucket, Key: key, ...this.headersFor(opts) }),
            { abortSignal: signal },
          );
          if (!created.UploadId) throw pcError('INTERNAL', 'CreateMultipartUpload returned no UploadId');
          return created.UploadId;
        },
        uploadPart: async (UploadId, part, n, signal) => {
          const r = await this.client.send(
            new UploadPartCommand({
              Bucket,
              Key: key,
              UploadId,
              PartNumber: n,
              Body: part,
              ContentLength: part.byteLength,
              // SSE-C: every part carries the key (S3 checks it matches CreateMultipartUpload's).
              ...ssecHeaders(opts.encryption?.customerKey),
            }),
            { abortSignal: signal },
          );
          echoed.add(r.SSECustomerKeyMD5);
          return { PartNumber: n, ETag: r.ETag };
        },
        complete: async (UploadId, Parts, total, signal) => {
          const done = await this.client.send(
            new CompleteMultipartUploadCommand({
              Bucket,
              Key: key,
              UploadId,
              MultipartUpload: { Parts },
              IfNoneMatch: opts.ifNoneMatch,
              IfMatch: opts.ifMatch,
              ...ssecHeaders(opts.encryption?.customerKey),
            }),
            { abortSignal: signal },
          );
          const partsMd5 = echoed.size === 1 ? [...echoed][0] : undefined;
          return this.putInfo(key, total, done.ETag, { ...done, SSECustomerKeyMD5: partsMd5 }, opts);
        },
        // A completed upload id is gone: ListParts then answers NoSuchUpload (we abort only
        // after giving up), and the object's ETag is the multipart one.
        confirm: async (UploadId, signal) => {
          try {
            await this.client.send(new ListPartsCommand({ Bucket, Key: key, UploadId, MaxParts: 1 }), {
              abortSignal: signal,
            });
            return 'not-applied';
          } catch (err) {
            if (awsErrorName(err) !== 'NoSuchUpload') return 'unknown';
          }
          const head = await this.client.send(
            new HeadObjectCommand({ Bucket, Key: key, ...ssecHeaders(opts.encryption?.customerKey) }),
            { abortSignal: signal },
          );
          if (!head.ETag?.includes('-')) return 'unknown';
          return { applied: this.putInfo(key, head.ContentLength ?? 0, head.ETag, head, opts) };
        },
        abort: (UploadId) => this.abortUpload(key, UploadId),
        error: (err) => this.putError(err, key, opts),
      },
      { provider: 'aws', name: this.name, key },
    );
  }

  /** Best effort: leaves nothing behind (not tied to the caller's signal, which may be aborted). */
  private async abortUpload(key: string, uploadId: string): Promise<void> {
    try {
      await this.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.name, Key: key, UploadId: uploadId }),
        {
          abortSignal: AbortSignal.timeout(30_000),
        },
      );
    } catch {
      // A bucket lifecycle rule (AbortIncompleteMultipartUpload) is the backstop; see README.
    }
  }

  /** HEAD-based check of ifNoneMatch / ifMatch before a multipart upload starts sending parts. */
  private async checkPutPrecondition(key: string, opts: DriverPutOptions): Promise<void> {
    if (opts.ifNoneMatch === undefined && opts.ifMatch === undefined) return;
    // ifNoneMatch asks only "is it there", so no key is sent: an object under any customer key
    // refuses a key-less HEAD (400), which still means it exists. ifMatch sends the new key
    // (the usual case rewrites an object under the same key); an object under another key or
    // none refuses it, and the commit's own If-Match then decides.
    const customerKey = opts.ifMatch === undefined ? undefined : opts.encryption?.customerKey;
    try {
      await this.client.send(
        new HeadObjectCommand({
          Bucket: this.name,
          Key: key,
          IfMatch: opts.ifMatch,
          ...ssecHeaders(customerKey),
        }),
        { abortSignal: opts.signal },
      );
    } catch (err) {
      if (ssecRefusal(err, customerKey, true)) {
        if (opts.ifNoneMatch !== undefined) throw this.precondition('put', key, opts, err);
        return;
      }
      if (customerKey !== undefined && awsHttpStatus(err) === 400) return;
      const e = this.err(err, 'put', key);
      if (e.code === 'NOT_FOUND' && opts.ifNoneMatch !== undefined) return;
      if (e.code === 'NOT_FOUND' || e.code === 'PRECONDITION_FAILED')
        throw this.precondition('put', key, opts, err);
      throw e;
    }
    if (opts.ifNoneMatch !== undefined) throw this.precondition('put', key, opts, undefined);
  }

  private precondition(
    op: string,
    key: string,
    opts: { ifMatch?: string | undefined },
    cause: unknown,
  ): PolycloudError {
    const why =
      opts.ifMatch !== undefined
        ? `the object does not exist or its etag is not ${opts.ifMatch}`
        : 'the object already exists (ifNoneMatch: "*")';
    return pcError(
      'PRECONDITION_FAILED',
      `${op} on blob "${this.name}" key "${key}" (aws): ${why}; nothing was written`,
      {
        provider: 'aws',
        service: 'blob',
        operation: op,
        resource: { name: this.name, key },
        retryable: false,
        cause,
      },
    );
  }

  /** put with ifMatch on a missing object answers 404 on S3: the precondition failed. */
  private putError(err: unknown, key: string, opts: DriverPutOptions): PolycloudError {
    const e = this.err(err, 'put', key);
    if (e.code === 'PRECONDITION_FAILED') return this.precondition('put', key, opts, err);
    if (
      opts.ifMatch !== undefined &&
      e.code === 'NOT_FOUND' &&
      awsErrorName(err) !== 'NoSuchUpload' &&
      awsErrorName(err) !== 'NoSuchBucket'
    ) {
      return this.precondition('put', key, opts, err);
    }
    return e;
  }

  private putInfo(
    key: string,
    size: number,
    etag: string | undefined,
    out: {
      ServerSideEncryption?: string | undefined;
      SSECustomerAlgorithm?: string | undefined;
      SSEKMSKeyId?: string | undefined;
      SSECustomerKeyMD5?: string | undefined;
    },
    opts: DriverPutOptions,
  ): BlobInfo {
    return {
      key,
      size,
      etag: etag ?? '',
      contentType: opts.contentType ?? DEFAULT_CONTENT_TYPE,
      contentEncoding: opts.contentEncoding,
      contentDisposition: opts.contentDisposition,
      cacheControl: opts.cacheControl,
      metadata: { ...opts.metadata },
      // S3 keeps whole seconds.
      lastModified: new Date(Math.floor(Date.now() / 1000) * 1000),
      md5: md5FromEtag(etag, out),
      ...encryptionInfo(out, opts.encryption?.customerKey),
    };
  }

  // ---------------------------------------------------------------- read

  async get(
    key: string,
    opts: {
      range: ByteRange | undefined;
      ifMatch: string | undefined;
      signal: Sig;
      customerKey?: CustomerKey | undefined;
    },
  ): Promise<{ info: BlobInfo; body: ReadableStream<Uint8Array> }> {
    const r = await this.read(key, opts);
    return {
      info: r.info,
      body:
        r.body instanceof Readable
          ? (Readable.toWeb(r.body) as ReadableStream<Uint8Array>)
          : bytesStream(r.body),
    };
  }

  /** The read with the SDK's response stream as is (a Node stream): no Web stream in between. */
  async read(
    key: string,
    opts: {
      range: ByteRange | undefined;
      ifMatch: string | undefined;
      signal: Sig;
      customerKey?: CustomerKey | undefined;
    },
  ): Promise<{ info: BlobInfo; body: DriverBody }> {
    const op = 'get';
    const range = opts.range;
    const headOpts = { signal: opts.signal, ifMatch: opts.ifMatch, customerKey: opts.customerKey };
    if (range !== undefined && range.length === 0) {
      const info = await this.head(key, headOpts);
      return { info, body: EMPTY };
    }
    let out: GetObjectCommandOutput;
    try {
      out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.name,
          Key: key,
          IfMatch: opts.ifMatch,
          ...ssecHeaders(opts.customerKey),
          Range:
            range === undefined
              ? undefined
              : `bytes=${range.offset}-${range.length === undefined ? '' : range.offset + range.length - 1}`,
        }),
        { abortSignal: opts.signal },
      );
    } catch (err) {
      // A range that starts at or past the end: S3 answers 416; the contract says empty body.
      if (range !== undefined && (awsHttpStatus(err) === 416 || awsErrorName(err) === 'InvalidRange')) {
        const info = await this.head(key, headOpts);
        return { info, body: EMPTY };
      }
      throw this.readErr(err, op, key, opts.customerKey);
    }
    const total = totalFromContentRange(out.ContentRange) ?? out.ContentLength ?? 0;
    const info = this.info(key, total, out, opts.customerKey);
    // In Node the SDK's body is the response's IncomingMessage (with the SDK's mixins).
    const body: unknown = out.Body;
    if (body instanceof Readable) return { info, body };
    if (body === undefined) return { info, body: EMPTY };
    // Another runtime's body (a Web stream, a Blob): the SDK collects it.
    try {
      return {
        info,
        body: await (body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      };
    } catch (err) {
      throw this.readErr(err, op, key, opts.customerKey);
    }
  }

  async head(
    key: string,
    opts: { signal: Sig; ifMatch?: string | undefined; customerKey?: CustomerKey | undefined },
  ): Promise<BlobInfo> {
    try {
      const out = await this.client.send(
        new HeadObjectCommand({
          Bucket: this.name,
          Key: key,
          IfMatch: opts.ifMatch,
          ...ssecHeaders(opts.customerKey),
        }),
        {
          abortSignal: opts.signal,
        },
      );
      return this.info(key, out.ContentLength ?? 0, out, opts.customerKey);
    } catch (err) {
      throw this.readErr(err, opts.ifMatch === undefined ? 'head' : 'get', key, opts.customerKey, true);
    }
  }

  /**
   * S3 answers a read of an SSE-C object without its key with 400 (InvalidRequest; a HEAD has
   * no body to say so), and with 403 for another key: both mean "give the right key".
   */
  private readErr(
    err: unknown,
    op: string,
    key: string,
    customerKey: CustomerKey | undefined,
    isHead = false,
  ): PolycloudError {
    if (!ssecRefusal(err, customerKey, isHead)) return this.err(err, op, key);
    return pcError(
      'PERMISSION_DENIED',
      customerKeyRequiredMessage(op, this.name, key, 'aws', customerKey !== undefined),
      {
        provider: 'aws',
        service: 'blob',
        operation: op,
        resource: { name: this.name, key },
        retryable: false,
        cause: err,
      },
    );
  }

  private info(key: string, size: number, o: ObjectHeaders, customerKey?: CustomerKey): BlobInfo {
    return {
      key,
      size,
      etag: o.ETag ?? '',
      contentType: o.ContentType,
      contentEncoding: o.ContentEncoding,
      contentDisposition: o.ContentDisposition,
      cacheControl: o.CacheControl,
      metadata: decodeMetadata(o.Metadata),
      lastModified: o.LastModified ?? new Date(0),
      md5: md5FromEtag(o.ETag, o),
      ...encryptionInfo(o, customerKey),
    };
  }

  // ---------------------------------------------------------------- delete

  async delete(key: string, opts: { ifMatch: string | undefined; signal: Sig }): Promise<void> {
    const op = 'delete';
    try {
      // With ifMatch S3 answers 412 for another etag and 404 for a missing object.
      await this.client.send(
        new DeleteObjectCommand({ Bucket: this.name, Key: key, IfMatch: opts.ifMatch }),
        {
          abortSignal: opts.signal,
        },
      );
    } catch (err) {
      const e = this.err(err, op, key);
      if (e.code === 'PRECONDITION_FAILED') throw this.precondition(op, key, opts, err);
      if (e.code === 'NOT_FOUND' && opts.ifMatch === undefined && awsErrorName(err) !== 'NoSuchBucket')
        return;
      throw e;
    }
  }

  async deleteMany(
    keys: readonly string[],
    opts: { signal: Sig },
  ): Promise<readonly (PolycloudError | undefined)[]> {
    const op = 'deleteMany';
    const results: (PolycloudError | undefined)[] = new Array(keys.length).fill(undefined);
    // DeleteObjects sends keys in an XML body, which cannot carry every character a key may
    // hold (XML 1.0 forbids most control characters); such keys are deleted one by one.
    const batch: string[] = [];
    const single: number[] = [];
    keys.forEach((k, i) => {
      if (xmlSafe(k)) batch.push(k);
      else single.push(i);
    });
    const unique = [...new Set(batch)];
    if (unique.length > 0) {
      try {
        const out = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.name,
            Delete: { Objects: unique.map((Key) => ({ Key })), Quiet: true },
          }),
          { abortSignal: opts.signal },
        );
        const failed = new Map<string, PolycloudError>();
        for (const e of out.Errors ?? []) {
          if (e.Key === undefined) continue;
          if (e.Code === 'NoSuchKey') continue;
          const native = Object.assign(new Error(e.Message ?? e.Code ?? 'delete failed'), {
            name: e.Code ?? 'Error',
          });
          failed.set(e.Key, this.err(native, op, e.Key));
        }
        keys.forEach((k, i) => {
          const f = failed.get(k);
          if (f !== undefined) results[i] = f;
        });
      } catch (err) {
        throw this.err(err, op, undefined);
      }
    }
    for (const i of single) {
      try {
        await this.delete(keys[i]!, { ifMatch: undefined, signal: opts.signal });
      } catch (err) {
        results[i] = this.err(err, op, keys[i]);
      }
    }
    return results;
  }

  // ---------------------------------------------------------------- list

  async list(opts: {
    prefix: string;
    delimiter: string | undefined;
    cursor: string | undefined;
    limit: number;
    signal: Sig;
  }): Promise<ListPage> {
    try {
      const out = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.name,
          Prefix: opts.prefix === '' ? undefined : opts.prefix,
          Delimiter: opts.delimiter,
          ContinuationToken: opts.cursor,
          MaxKeys: opts.limit,
          // Keys come back percent-encoded, so characters XML cannot carry survive the trip.
          EncodingType: 'url',
        }),
        { abortSignal: opts.signal },
      );
      const encoded = out.EncodingType === 'url';
      const dec = (s: string | undefined) => (s === undefined ? '' : encoded ? decodeS3Url(s) : s);
      return {
        items: (out.Contents ?? []).map((o) => ({
          key: dec(o.Key),
          size: o.Size ?? 0,
          etag: o.ETag ?? '',
          lastModified: o.LastModified ?? new Date(0),
        })),
        prefixes: (out.CommonPrefixes ?? []).map((p) => dec(p.Prefix)),
        cursor: out.IsTruncated && out.NextContinuationToken ? out.NextContinuationToken : undefined,
      };
    } catch (err) {
      throw this.err(err, 'list', undefined);
    }
  }

  // ---------------------------------------------------------------- copy

  async copy(src: string, dst: string, opts: DriverCopyOptions): Promise<BlobInfo> {
    // Without ifMatch, a source replaced between our HEAD and the copy is simply copied again
    // (a protocol loop on SourceChanged only; transport failures go to the portable layer).
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.copyOnce(src, dst, opts);
      } catch (err) {
        if (!(err instanceof SourceChanged) || opts.ifMatch !== undefined || attempt >= 3) {
          throw err instanceof SourceChanged ? err.error : err;
        }
      }
    }
  }

  private async copyOnce(src: string, dst: string, opts: DriverCopyOptions): Promise<BlobInfo> {
    const op = 'copy';
    // HEAD the source first: its size picks CopyObject or UploadPartCopy, and pinning the copy
    // to the etag seen here makes the returned info describe exactly what was copied.
    let source: HeadObjectCommandOutput;
    try {
      source = await this.client.send(
        new HeadObjectCommand({
          Bucket: this.name,
          Key: src,
          IfMatch: opts.ifMatch,
          ...ssecHeaders(opts.sourceCustomerKey),
        }),
        {
          abortSignal: opts.signal,
        },
      );
    } catch (err) {
      const e = this.readErr(err, op, src, opts.sourceCustomerKey, true);
      if (e.code === 'PRECONDITION_FAILED') throw this.precondition(op, src, opts, err);
      throw e;
    }
    const size = source.ContentLength ?? 0;
    const etag = source.ETag;
    if (opts.ifNoneMatch !== undefined) {
      // Fail fast (and on servers that ignore If-None-Match on copies); the copy request
      // itself carries the condition too.
      // Probed without a key: an object under any customer key answers as "there" all the same.
      const exists = await this.head(dst, { signal: opts.signal }).then(
        () => true,
        (e: unknown) => {
          if (isPolycloudError(e, 'NOT_FOUND')) return false;
          if (isPolycloudError(e) && ssecRefusal(e.cause, undefined, true)) return true;
          throw e;
        },
      );
      if (exists) throw this.precondition(op, dst, {}, undefined);
    }
    try {
      if (size > this.copyThreshold) {
        const done = await this.copyMultipart(src, dst, source, opts);
        return {
          ...this.info(dst, size, source),
          etag: done.ETag ?? '',
          md5: undefined,
          lastModified: nowSeconds(),
          encryption: encryptionInfo(done, opts.encryption?.customerKey).encryption,
        };
      }
      const same = src === dst;
      const out = await this.client.send(
        new CopyObjectCommand({
          Bucket: this.name,
          Key: dst,
          CopySource: copySource(this.name, src),
          CopySourceIfMatch: etag,
          IfNoneMatch: opts.ifNoneMatch,
          ...copySourceSsec(opts.sourceCustomerKey),
          ...encryptionHeaders(opts.encryption),
          // Copying an object onto itself needs REPLACE; the same headers are sent back.
          ...(same
            ? {
                MetadataDirective: 'REPLACE' as const,
                ContentType: source.ContentType,
                ContentEncoding: source.ContentEncoding,
                ContentDisposition: source.ContentDisposition,
                CacheControl: source.CacheControl,
                Metadata: source.Metadata,
              }
            : {}),
        }),
        { abortSignal: opts.signal },
      );
      const r = out.CopyObjectResult;
      return {
        ...this.info(dst, size, source),
        etag: r?.ETag ?? '',
        lastModified: r?.LastModified ?? nowSeconds(),
        md5: md5FromEtag(r?.ETag, out),
        encryption: encryptionInfo(out, opts.encryption?.customerKey).encryption,
      };
    } catch (err) {
      const e = this.err(err, op, dst);
      if (e.code !== 'PRECONDITION_FAILED') throw e;
      // Either the destination appeared (ifNoneMatch) or the source changed since the HEAD.
      if (opts.ifNoneMatch !== undefined) {
        const exists = await this.head(dst, { signal: opts.signal }).then(
          () => true,
          () => false,
        );
        if (exists) throw this.precondition(op, dst, {}, err);
      }
      throw new SourceChanged(this.precondition(op, src, { ifMatch: opts.ifMatch ?? etag ?? '' }, err));
    }
  }

  private async copyMultipart(
    src: string,
    dst: string,
    source: HeadObjectCommandOutput,
    opts: DriverCopyOptions,
  ): Promise<{
    ETag?: string | undefined;
    SSEKMSKeyId?: string | undefined;
    SSECustomerKeyMD5?: string | undefined;
  }> {
    const size = source.ContentLength ?? 0;
    let partSize = Math.max(this.copyPartBytes ?? 512 * MiB, MIN_PART, Math.ceil(size / MAX_PARTS));
    partSize = Math.min(partSize, MAX_PART);
    const created = await this.client.send(
      new CreateMultipartUploadCommand({
        Bucket: this.name,
        Key: dst,
        ContentType: source.ContentType,
        ContentEncoding: source.ContentEncoding,
        ContentDisposition: source.ContentDisposition,
        CacheControl: source.CacheControl,
        Metadata: source.Metadata,
        ...encryptionHeaders(opts.encryption),
      }),
      { abortSignal: opts.signal },
    );
    const uploadId = created.UploadId;
    if (!uploadId) throw pcError('INTERNAL', 'CreateMultipartUpload returned no UploadId');
    try {
      const ranges: { n: number; start: number; end: number }[] = [];
      for (let start = 0, n = 1; start < size; start += partSize, n++) {
        ranges.push({ n, start, end: Math.min(size, start + partSize) - 1 });
      }
      const parts: { PartNumber: number; ETag: string | undefined }[] = new Array(ranges.length);
      const echoed = new Set<string | undefined>();
      let next = 0;
      const worker = async () => {
        while (next < ranges.length) {
          const r = ranges[next++]!;
          const out = await this.client.send(
            new UploadPartCopyCommand({
              Bucket: this.name,
              Key: dst,
              UploadId: uploadId,
              PartNumber: r.n,
              CopySource: copySource(this.name, src),
              CopySourceRange: `bytes=${r.start}-${r.end}`,
              CopySourceIfMatch: source.ETag,
              ...copySourceSsec(opts.sourceCustomerKey),
              ...ssecHeaders(opts.encryption?.customerKey),
            }),
            { abortSignal: opts.signal },
          );
          parts[r.n - 1] = { PartNumber: r.n, ETag: out.CopyPartResult?.ETag };
          echoed.add(out.SSECustomerKeyMD5);
        }
      };
      await Promise.all(Array.from({ length: Math.min(4, ranges.length) }, worker));
      const done = await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.name,
          Key: dst,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
          IfNoneMatch: opts.ifNoneMatch,
          ...ssecHeaders(opts.encryption?.customerKey),
        }),
        { abortSignal: opts.signal },
      );
      return { ...done, SSECustomerKeyMD5: echoed.size === 1 ? [...echoed][0] : undefined };
    } catch (err) {
      await this.abortUpload(dst, uploadId);
      throw err;
    }
  }

  // ---------------------------------------------------------------- signed URLs

  async signedUrl(key: string, opts: DriverSignOptions): Promise<string> {
    return this.presign(key, opts, 'signedUrl');
  }

  private async presign(
    key: string,
    opts: DriverSignOptions,
    operation: 'signedUrl' | 'signedRequest',
  ): Promise<string> {
    const Bucket = this.name;
    const sse = signedSseHeaders(opts.encryption);
    const options = {
      expiresIn: opts.expiresIn,
      // Content-Type is unsigned by default; sign it so the uploader must send this type.
      ...(opts.contentType !== undefined ? { signableHeaders: new Set(['content-type']) } : {}),
      // Encryption headers stay headers (signed): hoisted into the query they would put a
      // customer key into the URL, where proxies and logs keep it.
      ...(sse.names.size > 0 ? { unhoistableHeaders: sse.names } : {}),
    };
    try {
      const { getSignedUrl } = await this.presigner(key, operation);
      if (opts.method === 'GET') {
        const c = new GetObjectCommand({ Bucket, Key: key, ...ssecHeaders(opts.encryption?.customerKey) });
        c.middlewareStack.add(stripChecksumHeaders, STRIP_OPTIONS);
        return await getSignedUrl(this.client, c, options);
      }
      if (opts.method === 'PUT') {
        const c = new PutObjectCommand({
          Bucket,
          Key: key,
          ContentType: opts.contentType,
          ...encryptionHeaders(opts.encryption),
        });
        c.middlewareStack.add(stripChecksumHeaders, STRIP_OPTIONS);
        return await getSignedUrl(this.client, c, options);
      }
      const c = new DeleteObjectCommand({ Bucket, Key: key });
      c.middlewareStack.add(stripChecksumHeaders, STRIP_OPTIONS);
      return await getSignedUrl(this.client, c, options);
    } catch (err) {
      if (isPolycloudError(err)) throw err;
      throw this.err(err, operation, key);
    }
  }

  /**
   * Loaded on first use: most applications never sign a URL, and importing it costs start-up.
   * It is an optional peer dependency, so its absence gets an answer that names the package.
   */
  private async presigner(key: string, operation: string) {
    try {
      return await import('@aws-sdk/s3-request-presigner');
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw err;
      throw pcError(
        'UNSUPPORTED',
        `${operation} on blob "${this.name}" key "${key}" (aws) needs the optional peer dependency @aws-sdk/s3-request-presigner, which is not installed: run \`npm install @aws-sdk/s3-request-presigner\``,
        {
          provider: 'aws',
          service: 'blob',
          operation,
          resource: { name: this.name, key },
          cause: err,
          retryable: false,
        },
      );
    }
  }

  /** The presigned URL plus the encryption headers the request must send (core adds content-type). */
  async signedRequest(key: string, opts: DriverSignOptions): Promise<SignedRequest> {
    const url = await this.presign(key, opts, 'signedRequest');
    return {
      url,
      method: opts.method,
      headers: signedSseHeaders(opts.encryption).headers,
    };
  }

  private err(err: unknown, operation: string, key: string | undefined): PolycloudError {
    return mapAwsError(err, { service: 'blob', operation, name: this.name, key });
  }
}

/**
 * SDK ≥3.729 signs a CRC32 of the (absent) body into presigned PUT URLs, which then reject
 * every real upload; checksums have no place in a presigned URL, so they are dropped before
 * the presigner hoists headers into the query.
 */
function stripChecksumHeaders<A extends { request: unknown }, R>(
  next: (args: A) => Promise<R>,
): (args: A) => Promise<R> {
  return (args) => {
    const req = args.request as { headers?: Record<string, string> };
    if (req.headers) {
      for (const h of Object.keys(req.headers)) {
        const l = h.toLowerCase();
        if (l.startsWith('x-amz-checksum-') || l === 'x-amz-sdk-checksum-algorithm') delete req.headers[h];
      }
    }
    return next(args);
  };
}
/** After the flexible-checksums middleware (step build, normal priority) has added its headers. */
const STRIP_OPTIONS = { step: 'build', priority: 'low', name: 'polycloudStripPresignChecksum' } as const;

/** Internal: the copy's source etag no longer matched. */
class SourceChanged extends Error {
  constructor(readonly error: PolycloudError) {
    super(error.message);
  }
}

/** Content-Type sent when the caller gives none. */

/**
 * Whether S3 refused a read for its SSE-C key: without a key an SSE-C object answers 400
 * (InvalidRequest; a HEAD has no body to say so), another key answers 403.
 */
export function ssecRefusal(err: unknown, customerKey: CustomerKey | undefined, isHead: boolean): boolean {
  const status = awsHttpStatus(err);
  const message = err instanceof Error ? err.message : '';
  if (customerKey === undefined)
    return status === 400 && (isHead || /server side encryption|customer/i.test(message));
  return status === 403;
}

/** The encryption headers of a signed request, by their wire names. */
function signedSseHeaders(enc: DriverEncryption | undefined): {
  names: Set<string>;
  headers: Record<string, string>;
} {
  const headers: Record<string, string> = {};
  if (enc?.customerKey !== undefined) {
    headers['x-amz-server-side-encryption-customer-algorithm'] = 'AES256';
    headers['x-amz-server-side-encryption-customer-key'] = enc.customerKey.base64();
    headers['x-amz-server-side-encryption-customer-key-md5'] = enc.customerKey.md5();
  } else if (enc?.kmsKeyId !== undefined) {
    headers['x-amz-server-side-encryption'] = 'aws:kms';
    headers['x-amz-server-side-encryption-aws-kms-key-id'] = enc.kmsKeyId;
  }
  return { names: new Set(Object.keys(headers)), headers };
}

/** SSE-C request fields; the SDK sends them as headers, never in a URL. */
function ssecHeaders(key: CustomerKey | undefined) {
  if (key === undefined) return {};
  return { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.base64(), SSECustomerKeyMD5: key.md5() };
}

function copySourceSsec(key: CustomerKey | undefined) {
  if (key === undefined) return {};
  return {
    CopySourceSSECustomerAlgorithm: 'AES256',
    CopySourceSSECustomerKey: key.base64(),
    CopySourceSSECustomerKeyMD5: key.md5(),
  };
}

/** The fields of a write that choose its encryption (PutObject, CreateMultipartUpload, CopyObject). */
function encryptionHeaders(enc: DriverEncryption | undefined) {
  if (enc === undefined) return {};
  if (enc.customerKey !== undefined) return ssecHeaders(enc.customerKey);
  return { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: enc.kmsKeyId };
}

/**
 * What S3 says about an object's encryption: the KMS key id, or (SSE-C) the MD5 of the key,
 * which, when it is the key the caller gave, lets us report that key's SHA-256.
 */
function encryptionInfo(
  o: { SSEKMSKeyId?: string | undefined; SSECustomerKeyMD5?: string | undefined },
  key: CustomerKey | undefined,
): { encryption?: EncryptionInfo } {
  if (o.SSEKMSKeyId) return { encryption: { kmsKeyId: o.SSEKMSKeyId } };
  if (o.SSECustomerKeyMD5 && key !== undefined && key.md5() === o.SSECustomerKeyMD5)
    return { encryption: { customerKeySha256: key.sha256 } };
  return {};
}

/** S3's ETag is the hex MD5 for single-part, unencrypted or SSE-S3 objects. */
function md5FromEtag(
  etag: string | undefined,
  o: { ServerSideEncryption?: string | undefined; SSECustomerAlgorithm?: string | undefined },
): string | undefined {
  if (etag === undefined) return undefined;
  if (o.SSECustomerAlgorithm !== undefined) return undefined;
  if (o.ServerSideEncryption !== undefined && o.ServerSideEncryption !== 'AES256') return undefined;
  const m = /^"?([0-9a-fA-F]{32})"?$/.exec(etag);
  if (!m) return undefined;
  return Buffer.from(m[1]!, 'hex').toString('base64');
}

/** Decodes a key from ListObjectsV2 with EncodingType=url (S3 encodes spaces as '+'). */
export function decodeS3Url(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    // A server that claims url encoding but sent a raw '%': the key as given is the best answer.
    return s;
  }
}

/** `bucket/key` for x-amz-copy-source, every byte outside the unreserved set percent-encoded. */
function copySource(bucket: string, key: string): string {
  const enc = (s: string) =>
    encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${enc(bucket)}/${enc(key)}`;
}

/** True when XML 1.0 can carry the string (DeleteObjects sends keys in an XML body). */
function xmlSafe(s: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: this is the check for them
  return !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(s);
}

function nowSeconds(): Date {
  return new Date(Math.floor(Date.now() / 1000) * 1000);
}
