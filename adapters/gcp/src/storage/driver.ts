import { once } from 'node:events';
import { Readable, type Writable } from 'node:stream';
import { type File, type FileMetadata, Storage, type StorageOptions } from '@google-cloud/storage';
import type {
  BlobInfo,
  BlobListItem,
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
  checkEndpointTransport,
  compareUtf8,
  customerKeyRequiredMessage,
  DEFAULT_CONTENT_TYPE,
  type DriverBody,
  type DriverCopyOptions,
  type DriverEncryption,
  type DriverGetOptions,
  type DriverPutOptions,
  type DriverSignOptions,
  defineCapabilities,
  type EncryptionInfo,
  guardStream,
  isPolycloudError,
  type NormalizedBody,
  pcError,
} from '@polycloud/core/driver';
import { type ErrorContext, gcpError, httpStatusOf, raceSignal } from '../errors.js';
import { decodeName, encodeDelimiter, encodeKey, encodePrefix } from './names.js';

const EMPTY = new Uint8Array(0);
/** Resumable upload chunks must be multiples of 256 KiB. */
const CHUNK_QUANTUM = 256 * 1024;
/** Deletes in flight at once for deleteMany (the Node SDK has no batch endpoint). */
const DELETE_CONCURRENCY = 16;

/**
 * What Cloud Storage can do through this driver. Conditions map onto object generations:
 * ifNoneMatch '*' → ifGenerationMatch=0, ifMatch → ifGenerationMatch=<generation>, on the
 * single-shot and the resumable path alike.
 */
export const GCS_CAPABILITIES: BucketCapabilities = defineCapabilities({
  putIfNoneMatch: true,
  putIfMatch: true,
  getIfMatch: true,
  deleteIfMatch: true,
  // Checked by core before the final chunk is committed, and by the service (md5Hash/crc32c).
  putMd5: true,
  putCrc32c: true,
  copyIfNoneMatch: true,
  contentEncoding: true,
  contentDisposition: true,
  cacheControl: true,
  metadata: true,
  rangeRead: true,
  listDelimiter: true,
  signedUrlMethods: ['GET', 'PUT', 'DELETE'] as const,
  // V4 signatures are valid for at most 7 days.
  maxSignedUrlSeconds: 7 * 24 * 3600,
  maxKeyBytes: 1024,
  maxObjectBytes: 5 * 1024 ** 4,
  minPartBytes: CHUNK_QUANTUM,
  maxListLimit: 1000,
  maxDeleteBatch: 1000,
  // CMEK (kmsKeyName) and CSEK (encryptionKey) on single-shot and resumable uploads, rewrite
  // (copy) and every read.
  encryptionManagedKey: true,
  encryptionCustomerKey: true,
});

/** Where the bucket is and how to reach it. */
export interface GcsDriverOptions {
  /** Bucket name. */
  readonly bucket: string;
  /** An already-configured client; the options below are then ignored. */
  readonly client?: Storage;
  readonly projectId?: string;
  /**
   * e.g. `http://127.0.0.1:4443` for an emulator. Default: STORAGE_EMULATOR_HOST (with scheme)
   * when set, else the public endpoint.
   */
  readonly apiEndpoint?: string;
  /**
   * Allows a plain-text endpoint on a host other than this machine (refused by default:
   * credentials and data would cross the network unencrypted). Loopback emulators need nothing.
   */
  readonly allowInsecureHttp?: boolean;
  /**
   * Service-account credentials. Needed to sign URLs where the default credentials cannot
   * sign (user credentials, emulators).
   */
  readonly credentials?: { readonly client_email: string; readonly private_key: string };
}

/** The Storage client `GcsBucketDriver` makes when none is given. */
export function storageClient(
  opts: Omit<GcsDriverOptions, 'bucket' | 'client'>,
  retries: 'off' | 'resumable-sessions' = 'off',
): Storage {
  const emulator = process.env.STORAGE_EMULATOR_HOST?.trim();
  const endpoint = opts.apiEndpoint ?? (emulator ? emulator : undefined);
  const apiEndpoint = endpoint === undefined ? undefined : rootOf(endpoint);
  if (apiEndpoint !== undefined) {
    checkEndpointTransport(apiEndpoint, {
      service: 'blob',
      provider: 'gcp',
      source: opts.apiEndpoint ? 'the endpoint option' : 'STORAGE_EMULATOR_HOST',
      allow: opts.allowInsecureHttp,
    });
  }
  const options: StorageOptions = {
    ...(opts.projectId ? { projectId: opts.projectId } : {}),
    ...(apiEndpoint ? { apiEndpoint } : {}),
    ...(opts.credentials ? { credentials: { ...opts.credentials } } : {}),
    // The SDK's own retries are off: the portable layer is the one retry owner. Resumable
    // sessions are the exception (see GcsBucketDriver.sessions): each of their retries resumes
    // from the offset the service confirms, so a generous count costs no duplicate bytes.
    retryOptions:
      retries === 'off' ? { autoRetry: false, maxRetries: 0 } : { autoRetry: true, maxRetries: 8 },
    // Per-request bound (the SDK's default is 60 s): requests the SDK cannot abort free their
    // socket, and let the process exit, within it; core's attempt timeout ends the call first.
    timeout: 30_000,
  };
  const storage = new Storage(options);
  if (apiEndpoint !== undefined) {
    // With STORAGE_EMULATOR_HOST set, the Node SDK uses the variable itself as the JSON API
    // base URL, without /storage/v1 (googleapis/nodejs-storage#1314), while uploads do add
    // /upload/storage/v1: one of the two always misses. Use the documented layout for both.
    storage.baseUrl = `${apiEndpoint}/storage/v1`;
  }
  return storage;
}

/** `http://host:port[/storage/v1][/]` → `http://host:port` (https:// when no scheme is given). */
function rootOf(endpoint: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`;
  return withScheme.replace(/\/+$/, '').replace(/\/storage\/v1$/, '');
}

type Generation = string;

/**
 * The Cloud Storage driver. Etags are object generations (decimal strings), so every
 * condition maps onto a generation precondition the service checks itself.
 */
export class GcsBucketDriver implements BucketDriver {
  readonly provider = 'gcp';
  readonly capabilities = GCS_CAPABILITIES;
  readonly name: string;
  private readonly storage: Storage;
  /**
   * The bucket as seen by a client that keeps the SDK's retries, for resumable uploads only: a
   * resumable session recovers from a reset by asking the service how many bytes it has and
   * resending from there, a protocol only the SDK's session (which holds the chunk and the
   * session URI) can run. A stream cannot be replayed by the portable layer.
   */
  private readonly sessions: ReturnType<Storage['bucket']>;
  private readonly bucket: ReturnType<Storage['bucket']>;

  constructor(opts: GcsDriverOptions) {
    this.name = opts.bucket;
    this.storage = opts.client ?? storageClient(opts);
    this.bucket = this.storage.bucket(this.name);
    this.sessions = (opts.client ?? storageClient(opts, 'resumable-sessions')).bucket(this.name);
  }

  /** The SDK File for a key (keys Cloud Storage refuses are stored under an encoded name). */
  private file(key: string, generation?: string, customerKey?: CustomerKey): File {
    if (customerKey === undefined)
      return this.bucket.file(encodeKey(key), generation === undefined ? undefined : { generation });
    return this.bucket.file(encodeKey(key), {
      ...(generation === undefined ? {} : { generation }),
      encryptionKey: Buffer.from(customerKey.bytes()),
    });
  }

  /** A file as the writer of `key` sees it: its encryption key or KMS key name set. */
  private writeFile(key: string, resumable: boolean, enc: DriverEncryption | undefined): File {
    const bucket = resumable ? this.sessions : this.bucket;
    if (enc === undefined) return bucket.file(encodeKey(key));
    return bucket.file(
      encodeKey(key),
      enc.customerKey !== undefined
        ? { encryptionKey: Buffer.from(enc.customerKey.bytes()) }
        : { kmsKeyName: enc.kmsKeyId },
    );
  }

  async put(key: string, body: NormalizedBody, opts: DriverPutOptions): Promise<BlobInfo> {
    const ctx = this.ctx('put', key);
    let ifGenerationMatch: Generation | undefined;
    if (opts.ifNoneMatch === '*') ifGenerationMatch = '0';
    else if (opts.ifMatch !== undefined) {
      ifGenerationMatch = generationOf(opts.ifMatch);
      if (ifGenerationMatch === undefined) throw this.noMatch(ctx, opts.ifMatch);
    }
    const metadata: FileMetadata = {
      contentType: opts.contentType ?? DEFAULT_CONTENT_TYPE,
      ...(opts.contentEncoding !== undefined ? { contentEncoding: opts.contentEncoding } : {}),
      ...(opts.contentDisposition !== undefined ? { contentDisposition: opts.contentDisposition } : {}),
      ...(opts.cacheControl !== undefined ? { cacheControl: opts.cacheControl } : {}),
      ...(Object.keys(opts.metadata).length > 0 ? { metadata: { ...opts.metadata } } : {}),
      // The service verifies these too before it creates the object.
      ...(opts.md5 !== undefined ? { md5Hash: opts.md5 } : {}),
      ...(opts.crc32c !== undefined ? { crc32c: opts.crc32c } : {}),
    };
    const resumable = !(body.kind === 'bytes' && body.data.byteLength <= opts.partSize);
    const file = this.writeFile(key, resumable, opts.encryption);
    const common = {
      metadata,
      validation: false as const,
      ...(ifGenerationMatch !== undefined
        ? { preconditionOpts: { ifGenerationMatch: Number(ifGenerationMatch) } }
        : {}),
    };
    try {
      if (!resumable) {
        // Small: one multipart request, which the portable layer can retry as a whole.
        const ws = file.createWriteStream({ ...common, resumable: false });
        await raceSignal(
          finish(ws, () => ws.end(Buffer.from(body.data.buffer, body.data.byteOffset, body.data.byteLength))),
          opts.signal,
          () => ws.destroy(abortReason(opts.signal)),
        );
      } else {
        const chunkSize = Math.ceil(Math.max(opts.partSize, CHUNK_QUANTUM) / CHUNK_QUANTUM) * CHUNK_QUANTUM;
        const ws = file.createWriteStream({ ...common, resumable: true, chunkSize });
        // Large or of unknown length: a resumable session, chunk by chunk (each chunk retried
        // by the SDK); the object exists only once the final chunk is in.
        const stream = body.kind === 'bytes' ? bytesStream(body.data, chunkSize) : body.stream;
        await feed(stream, ws, opts.beforeCommit, opts.signal);
      }
    } catch (err) {
      throw this.uploadError(err, ctx, opts.ifMatch);
    }
    return this.info(key, file.metadata);
  }

  async get(
    key: string,
    opts: {
      range: ByteRange | undefined;
      ifMatch: string | undefined;
      signal: AbortSignal | undefined;
      customerKey?: CustomerKey | undefined;
    },
  ): Promise<{ info: BlobInfo; body: ReadableStream<Uint8Array> }> {
    const ctx = this.ctx('get', key);
    const r = await this.read(key, opts);
    return {
      info: r.info,
      body:
        r.body instanceof Readable
          ? guardStream(Readable.toWeb(r.body) as ReadableStream<Uint8Array>, (e) => gcpError(e, ctx, 'http'))
          : bytesStream(r.body),
    };
  }

  /** The read with the media response stream as is (a Node stream): no Web stream in between. */
  async read(key: string, opts: DriverGetOptions): Promise<{ info: BlobInfo; body: DriverBody }> {
    const ctx = this.ctx('get', key);
    if (opts.ifMatch === undefined && opts.range?.length !== 0) {
      const one = await this.getOnce(key, opts.range, opts.signal, ctx, opts.customerKey);
      if (one !== undefined) return one;
    }
    return this.getPinned(key, opts, ctx);
  }

  /**
   * A get in one media request, the info taken from the response headers (generation,
   * stored length and encoding, hash, content headers, x-goog-meta-*), so info and bytes come
   * from the same object generation (metadata values a header may carry encoded are read from
   * that generation's resource). Undefined, with nothing left open, for a range past the end
   * (416) or a response without the x-goog headers; the caller then reads metadata first.
   * ifMatch is not done here: the SDK's media read takes no generation precondition.
   */
  private async getOnce(
    key: string,
    range: ByteRange | undefined,
    signal: AbortSignal | undefined,
    ctx: ErrorContext,
    customerKey: CustomerKey | undefined,
  ): Promise<{ info: BlobInfo; body: DriverBody } | undefined> {
    const offset = range?.offset ?? 0;
    const ranged = offset > 0 || range?.length !== undefined;
    const rs = this.file(key, undefined, customerKey).createReadStream({
      validation: false,
      decompress: false,
      ...(ranged
        ? { start: offset, ...(range?.length === undefined ? {} : { end: offset + range.length - 1 }) }
        : {}),
    });
    let headers: ResponseHeaders;
    try {
      headers = await raceSignal(openedWithHeaders(rs), signal, () => rs.destroy());
    } catch (err) {
      rs.destroy();
      if (httpStatusOf(err) === 416 && !signal?.aborted) return undefined;
      throw this.readError(err, ctx, customerKey);
    }
    const parsed = infoFromHeaders(key, headers);
    if (parsed === undefined) {
      rs.destroy();
      return undefined;
    }
    let info = parsed.info;
    if (parsed.encodedMetadata) {
      // The metadata of exactly the generation being read, while its body waits.
      try {
        const [md] = await raceSignal(this.file(key, info.etag, customerKey).getMetadata(), signal);
        info = this.info(key, md);
      } catch (err) {
        rs.destroy();
        if (httpStatusOf(err) === 404 && !signal?.aborted) return undefined;
        throw gcpError(err, ctx, 'http');
      }
    }
    if (signal) {
      const onAbort = () => rs.destroy(abortReason(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      rs.once('close', () => signal.removeEventListener('abort', onAbort));
    }
    return { info, body: rs };
  }

  /**
   * Metadata first, then the body of exactly that generation: info and bytes always agree,
   * and ifMatch holds for the bytes returned. A generation replaced in between is retried.
   */
  private async getPinned(
    key: string,
    opts: DriverGetOptions,
    ctx: ErrorContext,
  ): Promise<{ info: BlobInfo; body: DriverBody }> {
    const wanted = opts.ifMatch === undefined ? undefined : generationOf(opts.ifMatch);
    for (let attempt = 1; ; attempt++) {
      const md = await this.metadata(key, ctx, opts.signal, opts.customerKey);
      const info = this.info(key, md);
      if (opts.ifMatch !== undefined && info.etag !== wanted) {
        throw this.precondition(ctx, `its etag (generation) is ${info.etag}, not ${opts.ifMatch}`);
      }
      const start = Math.min(opts.range?.offset ?? 0, info.size);
      const end =
        opts.range?.length === undefined ? info.size : Math.min(info.size, start + opts.range.length);
      if (end <= start) return { info, body: EMPTY };
      const pinned = this.file(key, info.etag, opts.customerKey);
      const rs = pinned.createReadStream({
        validation: false,
        decompress: false,
        ...(start > 0 || end < info.size ? { start, end: end - 1 } : {}),
      });
      try {
        await raceSignal(openedWithHeaders(rs), opts.signal, () => rs.destroy());
        if (opts.signal) {
          const onAbort = () => rs.destroy(abortReason(opts.signal));
          opts.signal.addEventListener('abort', onAbort, { once: true });
          rs.once('close', () => opts.signal?.removeEventListener('abort', onAbort));
        }
        return { info, body: rs };
      } catch (err) {
        rs.destroy();
        if (httpStatusOf(err) === 404 && attempt < 3 && !opts.signal?.aborted) continue;
        if (httpStatusOf(err) === 404 && opts.ifMatch !== undefined) {
          throw this.precondition(ctx, `generation ${info.etag} was replaced while it was being read`);
        }
        throw this.readError(err, ctx, opts.customerKey);
      }
    }
  }

  async head(
    key: string,
    opts: { signal: AbortSignal | undefined; customerKey?: CustomerKey | undefined },
  ): Promise<BlobInfo> {
    return this.info(key, await this.metadata(key, this.ctx('head', key), opts.signal, opts.customerKey));
  }

  async delete(
    key: string,
    opts: { ifMatch: string | undefined; signal: AbortSignal | undefined },
  ): Promise<void> {
    const ctx = this.ctx('delete', key);
    if (opts.ifMatch === undefined) {
      try {
        await raceSignal(this.file(key).delete({ ignoreNotFound: true }), opts.signal);
      } catch (err) {
        throw gcpError(err, ctx, 'http');
      }
      return;
    }
    const gen = generationOf(opts.ifMatch);
    if (gen === undefined) {
      // No object can have this etag: report what a conditional delete would.
      await this.metadata(key, ctx, opts.signal);
      throw this.noMatch(ctx, opts.ifMatch);
    }
    try {
      await raceSignal(this.file(key).delete({ ifGenerationMatch: Number(gen) }), opts.signal);
    } catch (err) {
      if (httpStatusOf(err) === 412)
        throw this.precondition(ctx, `its etag (generation) is not ${opts.ifMatch}`, err);
      throw gcpError(err, ctx, 'http');
    }
  }

  async deleteMany(
    keys: readonly string[],
    opts: { signal: AbortSignal | undefined },
  ): Promise<readonly (PolycloudError | undefined)[]> {
    const out: (PolycloudError | undefined)[] = new Array(keys.length).fill(undefined);
    let next = 0;
    const worker = async () => {
      while (next < keys.length) {
        const i = next++;
        const key = keys[i]!;
        try {
          if (opts.signal?.aborted) throw opts.signal.reason;
          await this.file(key).delete({ ignoreNotFound: true });
        } catch (err) {
          out[i] = gcpError(err, this.ctx('deleteMany', key), 'http');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, keys.length) }, worker));
    return out;
  }

  async list(opts: {
    prefix: string;
    delimiter: string | undefined;
    cursor: string | undefined;
    limit: number;
    signal: AbortSignal | undefined;
  }): Promise<ListPage> {
    const ctx = this.ctx('list');
    try {
      const [files, next, raw] = await raceSignal(
        this.bucket.getFiles({
          autoPaginate: false,
          maxResults: opts.limit,
          ...(opts.prefix ? { prefix: encodePrefix(opts.prefix) } : {}),
          ...(opts.delimiter ? { delimiter: encodeDelimiter(opts.delimiter) } : {}),
          ...(opts.cursor ? { pageToken: opts.cursor } : {}),
        }),
        opts.signal,
      );
      // An encoded prefix can also match names of keys outside the prefix (see names.ts):
      // decode, then keep what really starts with it.
      const items: BlobListItem[] = [];
      for (const f of files) {
        const key = decodeName(f.name);
        if (!key.startsWith(opts.prefix)) continue;
        const md = f.metadata;
        items.push({
          key,
          size: Number(md.size ?? 0),
          etag: String(md.generation ?? ''),
          lastModified: new Date(md.updated ?? md.timeCreated ?? 0),
        });
      }
      const rawPrefixes = ((raw as { prefixes?: unknown } | undefined)?.prefixes ?? []) as string[];
      let prefixes = rawPrefixes.map(decodeName).filter((p) => p.startsWith(opts.prefix));
      if (opts.delimiter) {
        // An encoded name can hide a delimiter (".well-known/acme-challenge/…"): group again.
        const d = opts.delimiter;
        const grouped = new Set(prefixes);
        for (let i = items.length - 1; i >= 0; i--) {
          const rest = items[i]!.key.slice(opts.prefix.length);
          const at = rest.indexOf(d);
          if (at < 0) continue;
          grouped.add(opts.prefix + rest.slice(0, at + d.length));
          items.splice(i, 1);
        }
        if (grouped.size !== prefixes.length) prefixes = [...grouped].sort(compareUtf8);
      }
      const token = (next as { pageToken?: unknown } | null | undefined)?.pageToken;
      return { items, prefixes, ...(typeof token === 'string' && token ? { cursor: token } : {}) };
    } catch (err) {
      throw gcpError(err, ctx, 'http');
    }
  }

  async copy(src: string, dst: string, opts: DriverCopyOptions): Promise<BlobInfo> {
    const ctx = this.ctx('copy', dst);
    const qs: Record<string, string> = {};
    if (opts.ifMatch !== undefined) {
      const gen = generationOf(opts.ifMatch);
      if (gen === undefined) {
        await this.metadata(src, this.ctx('copy', src), opts.signal, opts.sourceCustomerKey);
        throw this.noMatch(this.ctx('copy', src), opts.ifMatch);
      }
      // Copy exactly the generation that matched (and let the service check it is current).
      qs.sourceGeneration = gen;
      qs.ifSourceGenerationMatch = gen;
    }
    if (opts.ifNoneMatch === '*') qs.ifGenerationMatch = '0';
    if (opts.encryption?.kmsKeyId !== undefined) qs.destinationKmsKeyName = opts.encryption.kmsKeyId;
    // Rewrite takes the source key as x-goog-copy-source-encryption-* and the destination's as
    // x-goog-encryption-*; a plain File (no key interceptors) sends exactly these.
    const headers: Record<string, string> = {};
    const src_ = opts.sourceCustomerKey;
    if (src_ !== undefined) {
      headers['x-goog-copy-source-encryption-algorithm'] = 'AES256';
      headers['x-goog-copy-source-encryption-key'] = src_.base64();
      headers['x-goog-copy-source-encryption-key-sha256'] = src_.sha256;
    }
    const dstKey = opts.encryption?.customerKey;
    if (dstKey !== undefined) {
      headers['x-goog-encryption-algorithm'] = 'AES256';
      headers['x-goog-encryption-key'] = dstKey.base64();
      headers['x-goog-encryption-key-sha256'] = dstKey.sha256;
    }
    const source = this.file(src);
    const uri = `/rewriteTo/b/${encodeURIComponent(this.name)}/o/${encodeURIComponent(encodeKey(dst))}`;
    try {
      // Large objects take several rewrite calls; each continues with the token of the last.
      let token: string | undefined;
      for (;;) {
        const [body] = await raceSignal(
          source.request({
            method: 'POST',
            uri,
            qs: { ...qs, ...(token ? { rewriteToken: token } : {}) },
            json: {},
            ...(Object.keys(headers).length > 0 ? { headers } : {}),
          }),
          opts.signal,
        );
        const res = body as { done?: boolean; rewriteToken?: string; resource?: FileMetadata };
        if (res.done !== false && res.resource) return this.info(dst, res.resource);
        if (!res.rewriteToken)
          throw pcError('INTERNAL', 'rewrite returned neither a resource nor a rewriteToken');
        token = res.rewriteToken;
      }
    } catch (err) {
      const status = httpStatusOf(err);
      if (status === 412) {
        throw this.precondition(
          ctx,
          opts.ifNoneMatch === '*'
            ? 'the destination already exists and ifNoneMatch is "*"'
            : `the source's etag is not ${opts.ifMatch}`,
          err,
        );
      }
      if (status === 404 && opts.ifMatch !== undefined && !isPolycloudError(err)) {
        // A pinned source generation that is gone: the source changed (or was deleted).
        const exists = await this.file(src)
          .exists()
          .then(([e]) => e)
          .catch(() => false);
        if (exists)
          throw this.precondition(this.ctx('copy', src), `the source's etag is not ${opts.ifMatch}`, err);
      }
      if (isCsekRefusal(err)) throw this.readError(err, this.ctx('copy', src), src_);
      throw gcpError(err, status === 404 ? this.ctx('copy', src) : ctx, 'http');
    }
  }

  /**
   * Cloud Storage refuses to read a CSEK object without its key (or with another one) with 400
   * (resourceIsEncryptedWithCustomerEncryptionKey / customerEncryptionKeySha256IsInvalid) or
   * 403: both mean "pass the right key".
   */
  private readError(err: unknown, ctx: ErrorContext, customerKey: CustomerKey | undefined): PolycloudError {
    if (isCsekRefusal(err)) {
      return gcpError(err, ctx, 'http', {
        code: 'PERMISSION_DENIED',
        retryable: false,
        message: customerKeyRequiredMessage(
          ctx.operation,
          this.name,
          ctx.key ?? '',
          'gcp',
          customerKey !== undefined,
        ),
      });
    }
    return gcpError(err, ctx, 'http');
  }

  async signedUrl(key: string, opts: DriverSignOptions): Promise<string> {
    const action = opts.method === 'GET' ? 'read' : opts.method === 'PUT' ? 'write' : 'delete';
    const extensionHeaders = signedEncryptionHeaders(opts.encryption);
    try {
      const [url] = await this.file(key).getSignedUrl({
        version: 'v4',
        action,
        expires: Date.now() + opts.expiresIn * 1000,
        ...(opts.contentType !== undefined && opts.method === 'PUT' ? { contentType: opts.contentType } : {}),
        // Signed as headers (never query parameters): the request must send them as given.
        ...(Object.keys(extensionHeaders).length > 0 ? { extensionHeaders } : {}),
      });
      return url;
    } catch (err) {
      const status = httpStatusOf(err);
      if (
        status === undefined &&
        /sign|client_email|credential/i.test(err instanceof Error ? err.message : '')
      ) {
        throw gcpError(err, this.ctx('signedUrl', key), 'http', {
          code: 'UNAUTHENTICATED',
          retryable: false,
          message: `signedUrl on blob "${this.name}" key "${key}": the credentials in use cannot sign (${err instanceof Error ? err.message : String(err)}); use a service account key, or grant iam.serviceAccounts.signBlob to the service account`,
        });
      }
      throw gcpError(err, this.ctx('signedUrl', key), 'http');
    }
  }

  /** The signed URL plus the encryption headers the request must send (core adds content-type). */
  async signedRequest(key: string, opts: DriverSignOptions): Promise<SignedRequest> {
    const url = await this.signedUrl(key, opts);
    return {
      url,
      method: opts.method,
      headers: signedEncryptionHeaders(opts.encryption),
    };
  }

  async close(): Promise<void> {
    // Storage has nothing to close: it holds no connections beyond Node's shared HTTP agent.
  }

  /** The Cloud Storage client. */
  native(): Storage {
    return this.storage;
  }

  private async metadata(
    key: string,
    ctx: ErrorContext,
    signal: AbortSignal | undefined,
    customerKey?: CustomerKey,
  ): Promise<FileMetadata> {
    try {
      const [md] = await raceSignal(this.file(key, undefined, customerKey).getMetadata(), signal);
      return md;
    } catch (err) {
      throw this.readError(err, ctx, customerKey);
    }
  }

  private info(key: string, md: FileMetadata): BlobInfo {
    const metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(md.metadata ?? {})) {
      if (v !== null && v !== undefined) metadata[k.toLowerCase()] = String(v);
    }
    return {
      key,
      size: Number(md.size ?? 0),
      etag: String(md.generation ?? ''),
      contentType: md.contentType || undefined,
      contentEncoding: md.contentEncoding || undefined,
      contentDisposition: md.contentDisposition || undefined,
      cacheControl: md.cacheControl || undefined,
      metadata,
      lastModified: new Date(md.updated ?? md.timeCreated ?? 0),
      ...(md.md5Hash ? { md5: md5Hash(md.md5Hash) } : {}),
      ...encryptionOf(md),
    };
  }

  private uploadError(err: unknown, ctx: ErrorContext, ifMatch: string | undefined): PolycloudError {
    if (isPolycloudError(err)) return gcpError(err, ctx, 'http');
    const status = httpStatusOf(err);
    if (status === 412) {
      return this.precondition(
        ctx,
        ifMatch === undefined
          ? 'it already exists and ifNoneMatch is "*"; nothing was written'
          : `its etag (generation) is not ${ifMatch}; nothing was written`,
        err,
      );
    }
    if (status === 400 && /md5|crc32c|hash|checksum/i.test(err instanceof Error ? err.message : '')) {
      return gcpError(err, ctx, 'http', { code: 'INVALID_ARGUMENT', retryable: false });
    }
    return gcpError(err, ctx, 'http');
  }

  private precondition(ctx: ErrorContext, why: string, cause?: unknown): PolycloudError {
    return pcError(
      'PRECONDITION_FAILED',
      `${ctx.operation} on blob "${this.name}" key "${ctx.key}": ${why}`,
      {
        provider: 'gcp',
        service: 'blob',
        operation: ctx.operation,
        resource: { name: this.name, ...(ctx.key === undefined ? {} : { key: ctx.key }) },
        retryable: false,
        ...(cause === undefined ? {} : { cause }),
      },
    );
  }

  private noMatch(ctx: ErrorContext, etag: string): PolycloudError {
    return this.precondition(
      ctx,
      // Etags are given quoted (as get/head return them) or bare: quote once either way.
      `"${unquoted(etag)}" is not an etag of this bucket (Cloud Storage etags are object generations)`,
    );
  }

  private ctx(operation: string, key?: string): ErrorContext {
    return { service: 'blob', operation, name: this.name, key };
  }
}

function unquoted(etag: string): string {
  return etag.length >= 2 && etag.startsWith('"') && etag.endsWith('"') ? etag.slice(1, -1) : etag;
}

/** Etag → generation: the decimal generation, with or without quotes. */
function generationOf(etag: string): Generation | undefined {
  const s = unquoted(etag);
  return /^\d{1,19}$/.test(s) ? s.replace(/^0+(?=\d)/, '') : undefined;
}

/** md5Hash is base64 already; normalised in case a server returns hex. */
function md5Hash(v: string): string {
  return /^[0-9a-f]{32}$/i.test(v) ? Buffer.from(v, 'hex').toString('base64') : v;
}

function abortReason(signal: AbortSignal | undefined): Error {
  const r: unknown = signal?.reason;
  return r instanceof Error ? r : new Error('aborted');
}

/** Resolves when `ws` has finished (the SDK emits 'finish' after the object resource arrived). */
async function finish(ws: Writable, start: () => void): Promise<void> {
  const done = once(ws, 'finish');
  start();
  await done;
}

/**
 * Feeds a Web stream into the SDK's resumable upload with backpressure. `beforeCommit` runs
 * after the last byte was handed over and before end(): in chunked mode the SDK sends the
 * final chunk (the one that creates the object) only after end(), so a failed check leaves
 * nothing behind but an unfinished session.
 */
async function feed(
  stream: ReadableStream<Uint8Array>,
  ws: Writable,
  beforeCommit: () => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  const reader = stream.getReader();
  let failed: unknown;
  const onError = (e: unknown) => {
    failed ??= e;
  };
  ws.on('error', onError);
  const onAbort = () => {
    failed ??= signal?.reason;
    ws.destroy(abortReason(signal));
    void reader.cancel(signal?.reason).catch(() => {});
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (signal?.aborted) onAbort();
    for (;;) {
      if (failed !== undefined) throw failed;
      const { done, value } = await reader.read();
      if (done) break;
      if (failed !== undefined) throw failed;
      if (!ws.write(value)) {
        await new Promise<void>((resolve, reject) => {
          const ok = () => {
            ws.off('error', bad);
            ws.off('close', ok);
            resolve();
          };
          const bad = (e: unknown) => {
            ws.off('drain', ok);
            ws.off('close', ok);
            reject(e);
          };
          ws.once('drain', ok);
          ws.once('error', bad);
          ws.once('close', ok);
        });
      }
    }
    if (failed !== undefined) throw failed;
    beforeCommit();
    const finished = new Promise<void>((resolve, reject) => {
      ws.once('finish', () => resolve());
      ws.once('error', reject);
      ws.once('close', () => (failed === undefined ? undefined : reject(failed)));
    });
    ws.end();
    await finished;
  } catch (err) {
    failed ??= err;
    ws.destroy(err instanceof Error ? err : new Error(String(err)));
    await reader.cancel(err).catch(() => {});
    throw failed;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    ws.off('error', onError);
  }
}

/** Starts a read stream and resolves with its Web form once the response is in (errors reject). */

type ResponseHeaders = Record<string, string | string[] | undefined>;

/**
 * Cache-Control values Cloud Storage serves for objects that have none set (private and
 * public objects); in a response they cannot be told apart from a stored value, and an
 * object without one is by far the common case.
 */
const SERVED_CACHE_CONTROL_DEFAULTS = new Set(['private, max-age=0', 'public, max-age=3600']);

function header(h: ResponseHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/**
 * BlobInfo from the headers of a media response, or undefined when a header it needs is
 * missing. `encodedMetadata` when a metadata value is not printable ASCII free of % and
 * RFC 2047 words, the only form a header carries unambiguously: the metadata must then be
 * read from the object resource.
 */
/**
 * Whether Cloud Storage refused a request for the object's customer-supplied key: 400 (or 403)
 * with resourceIsEncryptedWithCustomerEncryptionKey ("encrypted by a customer-supplied
 * encryption key") without one, or "the provided encryption key is incorrect" for another.
 */
export function isCsekRefusal(err: unknown): boolean {
  const status = httpStatusOf(err);
  if (status !== 400 && status !== 403) return false;
  const text =
    err instanceof Error
      ? `${err.message} ${JSON.stringify((err as { errors?: unknown }).errors ?? '')}`
      : '';
  return /customer[- ]?(supplied|encryption)|encryption ?key/i.test(text);
}

/** The x-goog-encryption-* headers a signed (XML API) request carries. */
function signedEncryptionHeaders(enc: DriverEncryption | undefined): Record<string, string> {
  if (enc?.customerKey !== undefined) {
    return {
      'x-goog-encryption-algorithm': 'AES256',
      'x-goog-encryption-key': enc.customerKey.base64(),
      'x-goog-encryption-key-sha256': enc.customerKey.sha256,
    };
  }
  if (enc?.kmsKeyId !== undefined) return { 'x-goog-encryption-kms-key-name': enc.kmsKeyId };
  return {};
}

/** The key in effect as the object resource reports it (CMEK name with its version, or the CSEK hash). */
function encryptionOf(md: FileMetadata): { encryption?: EncryptionInfo } {
  if (typeof md.kmsKeyName === 'string' && md.kmsKeyName) return { encryption: { kmsKeyId: md.kmsKeyName } };
  const sha = md.customerEncryption?.keySha256;
  if (typeof sha === 'string' && sha) return { encryption: { customerKeySha256: sha } };
  return {};
}

function infoFromHeaders(
  key: string,
  h: ResponseHeaders,
): { info: BlobInfo; encodedMetadata: boolean } | undefined {
  const generation = header(h, 'x-goog-generation');
  const storedLength = header(h, 'x-goog-stored-content-length');
  const storedEncoding = header(h, 'x-goog-stored-content-encoding');
  if (generation === undefined || !/^\d{1,19}$/.test(generation)) return undefined;
  if (storedLength === undefined || !/^\d{1,16}$/.test(storedLength)) return undefined;
  if (storedEncoding === undefined) return undefined;
  const metadata: Record<string, string> = {};
  let encodedMetadata = false;
  for (const [name, value] of Object.entries(h)) {
    if (!name.startsWith('x-goog-meta-')) continue;
    const v = Array.isArray(value) ? value.join(', ') : (value ?? '');
    if (!/^[\x20-\x7e]*$/.test(v) || v.includes('%') || /=\?[^?]*\?[bq]\?/i.test(v)) {
      encodedMetadata = true;
    }
    metadata[name.slice('x-goog-meta-'.length)] = v;
  }
  let md5: string | undefined;
  for (const part of (header(h, 'x-goog-hash') ?? '').split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === 'md5') md5 = part.slice(eq + 1).trim();
  }
  const lastModified = new Date(header(h, 'last-modified') ?? 0);
  const cacheControl = header(h, 'cache-control');
  const info: BlobInfo = {
    key,
    size: Number(storedLength),
    etag: generation,
    contentType: header(h, 'content-type') || undefined,
    contentEncoding: storedEncoding === 'identity' ? undefined : storedEncoding || undefined,
    contentDisposition: header(h, 'content-disposition') || undefined,
    cacheControl:
      cacheControl === undefined || SERVED_CACHE_CONTROL_DEFAULTS.has(cacheControl)
        ? undefined
        : cacheControl || undefined,
    metadata,
    lastModified: Number.isNaN(lastModified.getTime()) ? new Date(0) : lastModified,
    ...(md5 ? { md5: md5Hash(md5) } : {}),
    ...encryptionFromHeaders(h),
  };
  return { info, encodedMetadata };
}

/** The same as {@link encryptionOf}, from a media response's x-goog-encryption-* headers. */
function encryptionFromHeaders(h: ResponseHeaders): { encryption?: EncryptionInfo } {
  const kms = header(h, 'x-goog-encryption-kms-key-name');
  if (kms) return { encryption: { kmsKeyId: kms } };
  const sha = header(h, 'x-goog-encryption-key-sha256');
  if (sha) return { encryption: { customerKeySha256: sha } };
  return {};
}

/**
 * Starts a read stream and resolves with its Web form and the response headers once the
 * response is in (errors reject, with the status as the error's code).
 */
function openedWithHeaders(rs: Readable): Promise<ResponseHeaders> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const onError = (e: unknown) => {
      if (settled) return;
      settled = true;
      reject(e);
    };
    rs.once('error', onError);
    rs.once('response', (res: { statusCode?: number; headers?: ResponseHeaders }) => {
      if (settled) return;
      const status = res.statusCode ?? 200;
      if (status >= 300) return; // the stream errors next, with the service's message
      settled = true;
      rs.off('error', onError);
      resolve(res.headers ?? {});
    });
    // Nothing is requested until someone reads: start the request without consuming data.
    rs.pause();
    rs.read(0);
  });
}

export type { File };
