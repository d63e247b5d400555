import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  type BlobHTTPHeaders,
  type BlobProperties,
  BlobSASPermissions,
  BlobServiceClient,
  type ContainerClient,
  generateBlobSASQueryParameters,
  type SASQueryParameters,
  StorageSharedKeyCredential,
  type UserDelegationKey,
} from '@azure/storage-blob';
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
  customerKeyRequiredMessage,
  DEFAULT_CONTENT_TYPE,
  type DriverBody,
  type DriverCopyOptions,
  type DriverEncryption,
  type DriverPutOptions,
  type DriverSignOptions,
  defineCapabilities,
  type EncryptionInfo,
  fromBase64Url,
  fromUtf8,
  guardStream,
  isPolycloudError,
  multipartUpload,
  type NormalizedBody,
  pcError,
  toBase64,
  toBase64Url,
  totalFromContentRange,
  utf8,
} from '@polycloud/core/driver';
import type { AzureTokenCredential } from '../credentials.js';
import { type AzureErrorContext, azureErrorCode, azureStatus, mapAzureError, PROVIDER } from '../errors.js';
import { decodeMetadata, encodeMetadata } from './metadata.js';
import { decodeBlobName, encodeBlobName, encodeListPrefix, isPlain } from './names.js';

/** Azure's limits for block blobs (service version 2019-12-12 and later). */
const EMPTY = new Uint8Array(0);
const MAX_BLOCKS = 50_000;
const MAX_BLOCK_BYTES = 4000 * 1024 * 1024;
const MAX_SAS_SECONDS = 7 * 24 * 3600;
const MAX_BATCH = 256;

/** Azure refused a read for the blob's customer-provided key (missing or another one). */
export function isCpkRefusal(err: unknown): boolean {
  return /CustomerSpecifiedEncryption|EncryptionKey/i.test(azureErrorCode(err) ?? '');
}

/** Block size of a copy streamed through the client. */
const COPY_BLOCK_BYTES = 8 * 1024 * 1024;

/** The SDK's customer-provided key option (the key travels only in request headers). */
function cpk(key: CustomerKey | undefined) {
  if (key === undefined) return {};
  return {
    customerProvidedKey: {
      encryptionKey: key.base64(),
      encryptionKeySha256: key.sha256,
      encryptionAlgorithm: 'AES256' as const,
    },
  };
}

/** Upload options choosing a write's encryption: a scope or a customer key. */
function encryptionOptions(enc: DriverEncryption | undefined) {
  if (enc === undefined) return {};
  if (enc.customerKey !== undefined) return cpk(enc.customerKey);
  return { encryptionScope: enc.kmsKeyId };
}

/** What Azure reports: the encryption scope (unless the account default) or the CPK hash. */
function encryptionInfo(p: { encryptionScope?: string; encryptionKeySha256?: string }): {
  encryption?: EncryptionInfo;
} {
  if (p.encryptionKeySha256) return { encryption: { customerKeySha256: p.encryptionKeySha256 } };
  if (p.encryptionScope && p.encryptionScope !== '$account-encryption-key')
    return { encryption: { kmsKeyId: p.encryptionScope } };
  return {};
}

function capabilities(signing: boolean, https: boolean): BucketCapabilities {
  return defineCapabilities({
    putIfNoneMatch: true,
    putIfMatch: true,
    getIfMatch: true,
    deleteIfMatch: true,
    // Core verifies the digests (single-shot before the request, block lists before the commit).
    putMd5: true,
    putCrc32c: true,
    copyIfNoneMatch: true,
    contentEncoding: true,
    contentDisposition: true,
    cacheControl: true,
    metadata: true,
    rangeRead: true,
    listDelimiter: true,
    // PUT through a SAS URL needs the header `x-ms-blob-type: BlockBlob`, which a plain URL
    // cannot carry: signedRequest() returns it with the URL (see the README).
    signedUrlMethods: signing ? (['GET', 'PUT', 'DELETE'] as const) : ([] as const),
    maxSignedUrlSeconds: signing ? MAX_SAS_SECONDS : 0,
    maxKeyBytes: 1024,
    maxObjectBytes: MAX_BLOCKS * MAX_BLOCK_BYTES,
    minPartBytes: 1,
    maxListLimit: 5000,
    maxDeleteBatch: MAX_BATCH,
    // Encryption scopes on every write (a copy with encryption streams through the client: Copy
    // Blob takes neither a scope nor a customer key in this SDK).
    encryptionManagedKey: true,
    // The SDK refuses customer-provided keys on a plain-http endpoint (Azurite): not declared there.
    encryptionCustomerKey: https,
  });
}

/** How the driver signs URLs: the account key, a token credential (user delegation), or not at all. */
export type BlobSigner =
  | { readonly kind: 'sharedKey'; readonly credential: StorageSharedKeyCredential }
  | { readonly kind: 'userDelegation'; readonly credential: AzureTokenCredential }
  | { readonly kind: 'none' };

/** Works out how a container client can sign: from its own credential or the one given. */
export function signerFor(client: ContainerClient, token?: AzureTokenCredential): BlobSigner {
  const cred: unknown = client.credential;
  if (cred instanceof StorageSharedKeyCredential) return { kind: 'sharedKey', credential: cred };
  if (token) return { kind: 'userDelegation', credential: token };
  if (
    typeof cred === 'object' &&
    cred !== null &&
    typeof (cred as AzureTokenCredential).getToken === 'function'
  ) {
    return { kind: 'userDelegation', credential: cred as AzureTokenCredential };
  }
  return { kind: 'none' };
}

interface Cursor {
  /** Azure's continuation marker. */
  readonly m?: string;
  /** A prefix already returned (client-side grouping): skip names under it. */
  readonly s?: string;
}

/**
 * Blob Storage driver: one container. Keys are stored under names encoded by `encodeBlobName`
 * (identical for ordinary keys), metadata by `encodeMetadata`.
 */
export class AzureBucketDriver implements BucketDriver {
  readonly provider = PROVIDER;
  readonly name: string;
  readonly capabilities: BucketCapabilities;
  /** Every Azure call passes the attempt's signal, and the pipeline's HTTP client ends the request on abort. */
  readonly signalEndsRequests = true;
  private delegationKey: { key: UserDelegationKey; expiresOn: number } | undefined;

  constructor(
    readonly client: ContainerClient,
    private readonly signer: BlobSigner,
  ) {
    this.name = client.containerName;
    this.capabilities = capabilities(signer.kind !== 'none', client.url.toLowerCase().startsWith('https:'));
  }

  async put(key: string, body: NormalizedBody, opts: DriverPutOptions): Promise<BlobInfo> {
    const ctx = this.ctx('put', key);
    const blob = this.client.getBlockBlobClient(encodeBlobName(key));
    const headers: BlobHTTPHeaders = {
      blobContentType: opts.contentType ?? DEFAULT_CONTENT_TYPE,
      ...(opts.contentEncoding === undefined ? {} : { blobContentEncoding: opts.contentEncoding }),
      ...(opts.contentDisposition === undefined ? {} : { blobContentDisposition: opts.contentDisposition }),
      ...(opts.cacheControl === undefined ? {} : { blobCacheControl: opts.cacheControl }),
    };
    const metadata = encodeMetadata(opts.metadata);
    const conditions = {
      ...(opts.ifNoneMatch === undefined ? {} : { ifNoneMatch: opts.ifNoneMatch }),
      ...(opts.ifMatch === undefined ? {} : { ifMatch: opts.ifMatch }),
    };
    const conditional = opts.ifNoneMatch !== undefined || opts.ifMatch !== undefined;
    const enc = encryptionOptions(opts.encryption);
    const info = (
      size: number,
      r: {
        etag?: string;
        lastModified?: Date;
        contentMD5?: Uint8Array;
        encryptionScope?: string;
        encryptionKeySha256?: string;
      },
    ): BlobInfo => ({
      key,
      size,
      etag: quoteEtag(r.etag),
      contentType: headers.blobContentType,
      contentEncoding: opts.contentEncoding,
      contentDisposition: opts.contentDisposition,
      cacheControl: opts.cacheControl,
      metadata: { ...opts.metadata },
      lastModified: r.lastModified ?? new Date(),
      md5: r.contentMD5 ? toBase64(r.contentMD5) : opts.md5,
      ...encryptionInfo(r),
    });

    if (body.kind === 'bytes') {
      try {
        const r = await blob.upload(body.data, body.data.byteLength, {
          blobHTTPHeaders: headers,
          metadata,
          conditions,
          abortSignal: opts.signal,
          ...enc,
        });
        return info(body.data.byteLength, r);
      } catch (err) {
        throw this.conditionalError(err, ctx, conditional);
      }
    }

    // Unknown or large size: stage blocks, then commit the list. Nothing is visible before the
    // commit; blocks left uncommitted by a failure are discarded by the service after 7 days.
    // Block ids: equal length, unique per upload so concurrent uploads of one key never mix blocks.
    const blockId = (upload: string, n: number) =>
      Buffer.from(`${upload}-${String(n).padStart(6, '0')}`).toString('base64');
    return multipartUpload<string, string>(
      body.stream,
      body.size,
      opts,
      {
        limits: { minPartBytes: 1, maxPartBytes: MAX_BLOCK_BYTES, maxParts: MAX_BLOCKS },
        ...(conditional ? { precheck: () => this.precheck(key, opts, ctx) } : {}),
        create: async () => randomBytes(8).toString('hex'),
        uploadPart: async (upload, part, n, signal) => {
          const id = blockId(upload, n);
          await blob.stageBlock(id, part, part.byteLength, { abortSignal: signal, ...enc });
          return id;
        },
        complete: async (_upload, ids, size, signal) => {
          const r = await blob.commitBlockList(ids, {
            blobHTTPHeaders:
              opts.md5 === undefined
                ? headers
                : { ...headers, blobContentMD5: Buffer.from(opts.md5, 'base64') },
            metadata,
            conditions,
            abortSignal: signal,
            ...enc,
          });
          return info(size, r);
        },
        // Committing consumes the staged blocks: still uncommitted means it did not land, our
        // ids as the committed list means it did.
        confirm: async (upload, signal) => {
          const list = await blob.getBlockList('all', { abortSignal: signal });
          const uncommitted = new Set((list.uncommittedBlocks ?? []).map((b) => b.name));
          const committed = (list.committedBlocks ?? []).map((b) => b.name);
          if (committed.length > 0 && committed.every((n, i) => n === blockId(upload, i + 1))) {
            const p = await blob.getProperties({ abortSignal: signal, ...cpk(opts.encryption?.customerKey) });
            return { applied: info(p.contentLength ?? 0, p) };
          }
          return uncommitted.has(blockId(upload, 1)) ? 'not-applied' : 'unknown';
        },
        error: (err) => this.conditionalError(err, ctx, conditional),
        emptyPart: false,
      },
      { provider: PROVIDER, name: this.name, key },
    );
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
    const r = await this.read(key, opts);
    return {
      info: r.info,
      body: r.body instanceof Readable ? this.webStream(r.body, this.ctx('get', key)) : bytesStream(r.body),
    };
  }

  /** The read with the SDK's response stream as is (a Node stream): no Web stream in between. */
  async read(
    key: string,
    opts: {
      range: ByteRange | undefined;
      ifMatch: string | undefined;
      signal: AbortSignal | undefined;
      customerKey?: CustomerKey | undefined;
    },
  ): Promise<{ info: BlobInfo; body: DriverBody }> {
    const ctx = this.ctx('get', key);
    const blob = this.client.getBlobClient(encodeBlobName(key));
    const conditions = opts.ifMatch === undefined ? {} : { ifMatch: opts.ifMatch };
    const key_ = cpk(opts.customerKey);
    const empty = async () => {
      const p = await blob
        .getProperties({ conditions, abortSignal: opts.signal, ...key_ })
        .catch((err: unknown) => {
          throw this.readError(err, ctx, opts.customerKey, opts.ifMatch !== undefined);
        });
      return { info: this.toInfo(key, p), body: EMPTY };
    };
    if (opts.range?.length === 0) return empty();
    const offset = opts.range?.offset ?? 0;
    try {
      const r = await blob.download(offset, opts.range?.length, {
        conditions,
        abortSignal: opts.signal,
        ...key_,
      });
      const total = totalFromContentRange(r.contentRange) ?? r.contentLength ?? 0;
      // The response object exposes its fields as getters: pick them, do not spread.
      const info = this.toInfo(key, {
        contentLength: total,
        etag: r.etag,
        contentType: r.contentType,
        contentEncoding: r.contentEncoding,
        contentDisposition: r.contentDisposition,
        cacheControl: r.cacheControl,
        metadata: r.metadata,
        lastModified: r.lastModified,
        blobContentMD5: r.blobContentMD5 ?? (r.contentRange === undefined ? r.contentMD5 : undefined),
        encryptionScope: r.encryptionScope,
        encryptionKeySha256: r.encryptionKeySha256,
      });
      const node = r.readableStreamBody;
      if (node === undefined) return { info, body: EMPTY };
      // In Node the SDK's body is a Readable (its retrying wrapper around the response).
      return { info, body: node instanceof Readable ? node : new Readable().wrap(node) };
    } catch (err) {
      // A range that starts at or past the end is an empty read, not an error.
      if (azureStatus(err) === 416) return empty();
      throw this.readError(err, ctx, opts.customerKey, opts.ifMatch !== undefined);
    }
  }

  async head(
    key: string,
    opts: { signal: AbortSignal | undefined; customerKey?: CustomerKey | undefined },
  ): Promise<BlobInfo> {
    const ctx = this.ctx('head', key);
    try {
      const p = await this.client
        .getBlobClient(encodeBlobName(key))
        .getProperties({ abortSignal: opts.signal, ...cpk(opts.customerKey) });
      return this.toInfo(key, p);
    } catch (err) {
      throw this.readError(err, ctx, opts.customerKey, false);
    }
  }

  /**
   * Azure answers a read of a CPK blob without its key (BlobUsesCustomerSpecifiedEncryption) or
   * with another key (...EncryptionKeyMismatch / 409) with a code naming it: "pass the right key".
   */
  private readError(
    err: unknown,
    ctx: AzureErrorContext,
    customerKey: CustomerKey | undefined,
    conditional: boolean,
  ): PolycloudError {
    if (isCpkRefusal(err)) {
      return pcError(
        'PERMISSION_DENIED',
        customerKeyRequiredMessage(
          ctx.operation,
          this.name,
          ctx.key ?? '',
          PROVIDER,
          customerKey !== undefined,
        ),
        { ...this.errCtx(ctx), retryable: false, cause: err },
      );
    }
    return this.conditionalError(err, ctx, conditional);
  }

  async delete(
    key: string,
    opts: { ifMatch: string | undefined; signal: AbortSignal | undefined },
  ): Promise<void> {
    const ctx = this.ctx('delete', key);
    const blob = this.client.getBlobClient(encodeBlobName(key));
    try {
      if (opts.ifMatch === undefined) {
        await blob.deleteIfExists({ deleteSnapshots: 'include', abortSignal: opts.signal });
      } else {
        await blob.delete({
          deleteSnapshots: 'include',
          conditions: { ifMatch: opts.ifMatch },
          abortSignal: opts.signal,
        });
      }
    } catch (err) {
      throw this.conditionalError(err, ctx, opts.ifMatch !== undefined);
    }
  }

  async deleteMany(
    keys: readonly string[],
    opts: { signal: AbortSignal | undefined },
  ): Promise<readonly (PolycloudError | undefined)[]> {
    const ctx = this.ctx('deleteMany');
    if (keys.length === 0) return [];
    // One batch request (Blob Batch, ≤ 256 sub-requests); where the account or emulator has no
    // batch support, parallel deletes give the same per-key results.
    try {
      const clients = keys.map((k) => this.client.getBlobClient(encodeBlobName(k)));
      const r = await this.client.getBlobBatchClient().deleteBlobs(clients, {
        deleteSnapshots: 'include',
        abortSignal: opts.signal,
      });
      return keys.map((key, i) => {
        const sub = r.subResponses[i];
        if (sub === undefined)
          return pcError(
            'INTERNAL',
            `deleteMany: no batch result for key "${key}"`,
            this.errCtx({ ...ctx, key }),
          );
        if (sub.status >= 200 && sub.status < 300) return undefined;
        if (sub.status === 404 && (sub.errorCode === 'BlobNotFound' || sub.errorCode === undefined))
          return undefined;
        const native = Object.assign(new Error(`HTTP ${sub.status} ${sub.errorCode ?? sub.statusMessage}`), {
          statusCode: sub.status,
          code: sub.errorCode,
        });
        return mapAzureError(native, { ...ctx, key });
      });
    } catch (err) {
      const e = mapAzureError(err, ctx);
      if (e.code !== 'INVALID_ARGUMENT' && e.code !== 'UNSUPPORTED' && e.code !== 'NOT_FOUND') throw e;
      if (e.code === 'NOT_FOUND' && azureErrorCode(err) === 'ContainerNotFound') throw e;
    }
    return Promise.all(
      keys.map((k) =>
        this.delete(k, { ifMatch: undefined, signal: opts.signal }).then(
          () => undefined,
          (err: unknown) => mapAzureError(err, { ...ctx, key: k }),
        ),
      ),
    );
  }

  async list(opts: {
    prefix: string;
    delimiter: string | undefined;
    cursor: string | undefined;
    limit: number;
    signal: AbortSignal | undefined;
  }): Promise<ListPage> {
    const ctx = this.ctx('list');
    const cursor = this.decodeCursor(opts.cursor, ctx);
    const { serverPrefix, filter } = encodeListPrefix(opts.prefix);
    const delimiter = opts.delimiter;
    // A delimiter made of characters the name encoding keeps as they are can be left to the
    // service; any other is applied here over a flat listing.
    const serverGrouping = delimiter !== undefined && delimiter !== '' && isPlain(delimiter);
    const items: BlobListItem[] = [];
    const prefixes: string[] = [];
    let marker: string | undefined;
    try {
      const listOpts = { ...(serverPrefix === '' ? {} : { prefix: serverPrefix }), abortSignal: opts.signal };
      const pages = serverGrouping
        ? this.client
            .listBlobsByHierarchy(delimiter, listOpts)
            .byPage({ continuationToken: cursor.m, maxPageSize: opts.limit })
        : this.client
            .listBlobsFlat(listOpts)
            .byPage({ continuationToken: cursor.m, maxPageSize: opts.limit });
      const page = (await pages.next()).value as
        | {
            continuationToken?: string;
            segment: {
              blobItems: { name: string; properties: BlobProperties & { contentLength?: number } }[];
              blobPrefixes?: { name: string }[];
            };
          }
        | undefined;
      marker = page?.continuationToken || undefined;
      let lastGroup = cursor.s;
      for (const b of page?.segment.blobItems ?? []) {
        const key = decodeBlobName(b.name);
        if (filter && !key.startsWith(opts.prefix)) continue;
        if (delimiter !== undefined && delimiter !== '' && !serverGrouping) {
          const at = key.indexOf(delimiter, opts.prefix.length);
          if (at >= 0) {
            const group = key.slice(0, at + delimiter.length);
            if (group !== lastGroup) {
              prefixes.push(group);
              lastGroup = group;
            }
            continue;
          }
        }
        items.push({
          key,
          size: b.properties.contentLength ?? 0,
          etag: quoteEtag(b.properties.etag),
          lastModified: b.properties.lastModified ?? new Date(0),
        });
      }
      for (const p of page?.segment.blobPrefixes ?? []) {
        const key = decodeBlobName(p.name);
        if (filter && !key.startsWith(opts.prefix)) continue;
        prefixes.push(key);
      }
      if (marker === undefined) return { items, prefixes };
      const next: Cursor =
        serverGrouping || lastGroup === undefined ? { m: marker } : { m: marker, s: lastGroup };
      return { items, prefixes, cursor: toBase64Url(utf8(JSON.stringify(next))) };
    } catch (err) {
      throw mapAzureError(err, ctx);
    }
  }

  async copy(src: string, dst: string, opts: DriverCopyOptions): Promise<BlobInfo> {
    if (opts.encryption !== undefined || opts.sourceCustomerKey !== undefined)
      return this.copyThrough(src, dst, opts);
    const ctx = this.ctx('copy', dst);
    const source = this.client.getBlobClient(encodeBlobName(src));
    const target = this.client.getBlobClient(encodeBlobName(dst));
    try {
      // Copy Blob within one account is authorised by this request's own credential (shared key,
      // SAS in the client URL, or Microsoft Entra ID), so the source URL needs no SAS of its own.
      const poller = await target.beginCopyFromURL(source.url, {
        ...(opts.ifNoneMatch === undefined ? {} : { conditions: { ifNoneMatch: opts.ifNoneMatch } }),
        ...(opts.ifMatch === undefined ? {} : { sourceConditions: { ifMatch: opts.ifMatch } }),
        abortSignal: opts.signal,
        intervalInMs: 200,
      });
      const r = await poller.pollUntilDone();
      if (r.copyStatus !== undefined && r.copyStatus !== 'success') {
        throw pcError(
          'UNAVAILABLE',
          `copy on blob "${this.name}" to "${dst}" ended with status ${r.copyStatus}`,
          this.errCtx(ctx),
        );
      }
      const p = await target.getProperties({ abortSignal: opts.signal });
      return this.toInfo(dst, p);
    } catch (err) {
      if (isPolycloudError(err)) throw err;
      const code = azureErrorCode(err);
      if (azureStatus(err) === 404 && code !== 'ContainerNotFound') {
        // Copy answers 404 for a missing source (the destination's absence is never an error).
        throw mapAzureError(err, { ...ctx, key: src });
      }
      const e = mapAzureError(err, ctx);
      if (opts.ifNoneMatch !== undefined && e.code === 'ALREADY_EXISTS')
        throw this.precondition(err, ctx, 'the destination exists');
      throw e;
    }
  }

  /**
   * Copy with an encryption scope or a customer key on either side: Copy Blob in this SDK
   * takes neither, so the bytes stream through the client (a read with the source's key, a
   * block upload with the destination's encryption), headers and metadata carried over.
   */
  private async copyThrough(src: string, dst: string, opts: DriverCopyOptions): Promise<BlobInfo> {
    const read = await this.get(src, {
      range: undefined,
      ifMatch: opts.ifMatch,
      signal: opts.signal,
      customerKey: opts.sourceCustomerKey,
    }).catch((err: unknown) => {
      throw isPolycloudError(err) ? err : mapAzureError(err, this.ctx('copy', src));
    });
    const i = read.info;
    return this.put(
      dst,
      { kind: 'stream', stream: read.body, size: i.size },
      {
        contentType: i.contentType,
        contentEncoding: i.contentEncoding,
        contentDisposition: i.contentDisposition,
        cacheControl: i.cacheControl,
        metadata: i.metadata,
        ifNoneMatch: opts.ifNoneMatch,
        ifMatch: undefined,
        md5: undefined,
        crc32c: undefined,
        partSize: COPY_BLOCK_BYTES,
        concurrency: 4,
        beforeCommit: () => {},
        signal: opts.signal,
        encryption: opts.encryption,
      },
    );
  }

  /**
   * A SAS URL for `opts.method` on `key`. For PUT this is the bare URL: Put Blob through it
   * must also send `x-ms-blob-type: BlockBlob` (or the service answers 400), which is why
   * uploaders should be handed `signedRequest()`, whose headers include it.
   */
  async signedUrl(key: string, opts: DriverSignOptions): Promise<string> {
    return this.sasUrl(key, opts, this.ctx('signedUrl', key));
  }

  /** The SAS URL plus the headers the request must send: for PUT `x-ms-blob-type: BlockBlob`. */
  async signedRequest(key: string, opts: DriverSignOptions): Promise<SignedRequest> {
    const url = await this.sasUrl(key, opts, this.ctx('signedRequest', key));
    // The SAS does not sign these; the service still requires them on the request.
    const enc: Record<string, string> = {};
    if (opts.encryption?.customerKey !== undefined) {
      enc['x-ms-encryption-key'] = opts.encryption.customerKey.base64();
      enc['x-ms-encryption-key-sha256'] = opts.encryption.customerKey.sha256;
      enc['x-ms-encryption-algorithm'] = 'AES256';
    } else if (opts.encryption?.kmsKeyId !== undefined)
      enc['x-ms-encryption-scope'] = opts.encryption.kmsKeyId;
    if (opts.method !== 'PUT') return { url, method: opts.method, headers: enc };
    // content-type is added by core.
    return { url, method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob', ...enc } };
  }

  private sasUrl(key: string, opts: DriverSignOptions, ctx: AzureErrorContext): Promise<string> {
    // PUT: create + write. For GET, contentType becomes the response's Content-Type (rsct);
    // a SAS cannot pin the Content-Type of an upload.
    const permissions = BlobSASPermissions.parse(
      opts.method === 'GET' ? 'r' : opts.method === 'PUT' ? 'cw' : 'd',
    );
    return this.sign(
      key,
      permissions,
      opts.expiresIn,
      opts.method === 'GET' ? opts.contentType : undefined,
      ctx,
    );
  }

  /** A SAS URL for `key` with `permissions` valid for `expiresIn` seconds. */
  private async sign(
    key: string,
    permissions: BlobSASPermissions,
    expiresIn: number,
    contentType: string | undefined,
    ctx: AzureErrorContext,
  ): Promise<string> {
    const blob = this.client.getBlobClient(encodeBlobName(key));
    const expiresOn = new Date(Date.now() + expiresIn * 1000);
    const values = {
      containerName: this.name,
      blobName: blob.name,
      permissions,
      expiresOn,
      ...(contentType === undefined ? {} : { contentType }),
    };
    let sas: SASQueryParameters;
    try {
      if (this.signer.kind === 'sharedKey') {
        sas = generateBlobSASQueryParameters(values, this.signer.credential);
      } else if (this.signer.kind === 'userDelegation') {
        const udk = await this.userDelegationKey(expiresOn);
        sas = generateBlobSASQueryParameters(values, udk, this.client.accountName);
      } else {
        throw pcError(
          'UNSUPPORTED',
          `${ctx.operation} on blob "${this.name}": this client has neither an account key nor a token credential to sign with`,
          { ...this.errCtx(ctx), retryable: false },
        );
      }
    } catch (err) {
      throw mapAzureError(err, ctx);
    }
    const url = new URL(blob.url);
    return `${url.origin}${url.pathname}?${sas.toString()}`;
  }

  async close(): Promise<void> {
    // The SDK holds no resources that need releasing (HTTP connections are pooled per process).
  }

  native(): ContainerClient {
    return this.client;
  }

  private async userDelegationKey(until: Date): Promise<UserDelegationKey> {
    const now = Date.now();
    const cached = this.delegationKey;
    if (cached && cached.expiresOn >= until.getTime() && cached.expiresOn - now < MAX_SAS_SECONDS * 1000)
      return cached.key;
    if (this.signer.kind !== 'userDelegation') throw new Error('no token credential');
    const service = new BlobServiceClient(
      new URL(this.client.url).origin + serviceBasePath(this.client.url),
      this.signer.credential,
    );
    // The key may live up to 7 days; keep one for the longest URL we may be asked for.
    const startsOn = new Date(now - 5 * 60 * 1000);
    const expiresOn = new Date(Math.max(until.getTime(), now + 3600 * 1000));
    const r = await service.getUserDelegationKey(
      startsOn,
      new Date(Math.min(expiresOn.getTime(), now + MAX_SAS_SECONDS * 1000)),
    );
    this.delegationKey = { key: r, expiresOn: r.signedExpiresOn.getTime() };
    return r;
  }

  private toInfo(
    key: string,
    p: {
      contentLength?: number;
      etag?: string;
      contentType?: string;
      contentEncoding?: string;
      contentDisposition?: string;
      cacheControl?: string;
      metadata?: Record<string, string>;
      lastModified?: Date;
      contentMD5?: Uint8Array;
      blobContentMD5?: Uint8Array;
      encryptionScope?: string;
      encryptionKeySha256?: string;
    },
  ): BlobInfo {
    const md5 = p.blobContentMD5 ?? p.contentMD5;
    const enc = encryptionInfo(p);
    return {
      key,
      size: p.contentLength ?? 0,
      etag: quoteEtag(p.etag),
      contentType: p.contentType,
      contentEncoding: p.contentEncoding || undefined,
      contentDisposition: p.contentDisposition || undefined,
      cacheControl: p.cacheControl || undefined,
      metadata: decodeMetadata(p.metadata),
      lastModified: p.lastModified ?? new Date(0),
      md5: md5 && md5.byteLength > 0 ? toBase64(md5) : undefined,
      ...enc,
    };
  }

  /** Fails fast before streaming blocks when the condition already fails (the commit checks again). */
  private async precheck(key: string, opts: DriverPutOptions, ctx: AzureErrorContext): Promise<void> {
    let etag: string | undefined;
    // ifNoneMatch only asks "is it there" (no key sent); ifMatch sends the new key. A blob under
    // another customer key refuses the read for that reason, not the condition: it exists (which
    // fails ifNoneMatch), and for ifMatch the commit's own condition decides.
    const customerKey = opts.ifMatch === undefined ? undefined : opts.encryption?.customerKey;
    try {
      etag = (
        await this.client
          .getBlobClient(encodeBlobName(key))
          .getProperties({ abortSignal: opts.signal, ...cpk(customerKey) })
      ).etag;
    } catch (err) {
      if (isCpkRefusal(err)) {
        if (opts.ifNoneMatch !== undefined) throw this.precondition(err, ctx, 'the key exists');
        return;
      }
      if (azureStatus(err) !== 404) throw mapAzureError(err, ctx);
    }
    if (opts.ifNoneMatch !== undefined && etag !== undefined)
      throw this.precondition(undefined, ctx, 'the key exists');
    if (opts.ifMatch !== undefined && etag !== opts.ifMatch) {
      throw this.precondition(
        undefined,
        ctx,
        etag === undefined ? 'the key does not exist' : `its etag is ${etag}`,
      );
    }
  }

  /** Maps errors of conditional requests: Azure answers If-None-Match: * with 409 BlobAlreadyExists. */
  private conditionalError(err: unknown, ctx: AzureErrorContext, conditional: boolean): PolycloudError {
    const e = mapAzureError(err, ctx);
    if (!conditional) return e;
    if (e.code === 'ALREADY_EXISTS') return this.precondition(err, ctx, 'the key exists');
    // If-Match on a missing blob.
    if (e.code === 'NOT_FOUND' && azureErrorCode(err) !== 'ContainerNotFound' && ctx.operation === 'put') {
      return this.precondition(err, ctx, 'the key does not exist');
    }
    return e;
  }

  private precondition(cause: unknown, ctx: AzureErrorContext, why: string): PolycloudError {
    return pcError(
      'PRECONDITION_FAILED',
      `${ctx.operation} on blob "${this.name}" key "${ctx.key}": condition not met (${why})`,
      {
        ...this.errCtx(ctx),
        cause,
        retryable: false,
      },
    );
  }

  private webStream(node: Readable, ctx: AzureErrorContext): ReadableStream<Uint8Array> {
    return guardStream(Readable.toWeb(node) as ReadableStream<Uint8Array>, (err) => mapAzureError(err, ctx));
  }

  private decodeCursor(cursor: string | undefined, ctx: AzureErrorContext): Cursor {
    if (cursor === undefined) return {};
    try {
      const c = JSON.parse(fromUtf8(fromBase64Url(cursor))) as Cursor;
      if (typeof c !== 'object' || c === null) throw new Error('not an object');
      return c;
    } catch (err) {
      throw pcError(
        'INVALID_ARGUMENT',
        `list on blob "${this.name}": the cursor is not one this bucket returned`,
        {
          ...this.errCtx(ctx),
          cause: err,
          retryable: false,
        },
      );
    }
  }

  private ctx(operation: string, key?: string): AzureErrorContext {
    return { service: 'blob', operation, name: this.name, key };
  }

  private errCtx(ctx: AzureErrorContext) {
    return {
      provider: PROVIDER,
      service: 'blob' as const,
      operation: ctx.operation,
      resource: { name: this.name, ...(ctx.key === undefined ? {} : { key: ctx.key }) },
    };
  }
}

/** Listings give etags bare, headers quoted: always report the quoted form. */
function quoteEtag(etag: string | undefined): string {
  if (etag === undefined || etag === '') return '';
  return etag.startsWith('"') || etag.startsWith('W/') ? etag : `"${etag}"`;
}

/** `/devstoreaccount1` for path-style (emulator) URLs, '' for `acct.blob.core.windows.net`. */
function serviceBasePath(containerUrl: string): string {
  const u = new URL(containerUrl);
  const parts = u.pathname.split('/').filter((s) => s !== '');
  // Path-style: /<account>/<container>
  return parts.length >= 2 ? `/${parts[0]}` : '';
}
