import type { BlobInfo, BlobListItem, BucketCapabilities, ListPage, PolycloudError } from '@polycloud/core';
import {
  type BucketDriver,
  concatBytes,
  DEFAULT_CONTENT_TYPE,
  type DriverGetOptions,
  type DriverPutOptions,
  defineCapabilities,
  md5Base64,
  type NormalizedBody,
  pcError,
  uploadParts,
} from '@polycloud/core/driver';
import { SortedKeys } from './sorted.js';
import { checkSignal, decodeCursor, encodeCursor, nextToken, PROVIDER } from './util.js';

/** Largest object the memory store accepts (one Uint8Array holds it). */
const MAX_OBJECT_BYTES = 2 ** 31;
/** Chunk size of get() body streams. */
const READ_CHUNK = 256 * 1024;

/**
 * What the memory bucket supports: every optional feature of the contract except signed URLs
 * (there is no server a URL could reach), so it can stand in for any provider in tests.
 */
export const MEMORY_BUCKET_CAPABILITIES: BucketCapabilities = defineCapabilities({
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
  // No HTTP server behind the memory store, so there is nothing a URL could point at.
  signedUrlMethods: [] as const,
  maxSignedUrlSeconds: 0,
  maxKeyBytes: 1024,
  maxObjectBytes: MAX_OBJECT_BYTES,
  // Streams are split at any part size the caller picks.
  minPartBytes: 1,
  maxListLimit: 1000,
  maxDeleteBatch: 1000,
  // Nothing here encrypts at rest with a key the caller chooses: a promise it cannot keep.
  encryptionManagedKey: false,
  encryptionCustomerKey: false,
});

/** One stored object. Never mutated: every write stores a new record. */
export interface MemoryObject {
  readonly data: Uint8Array;
  readonly etag: string;
  readonly contentType: string;
  readonly contentEncoding: string | undefined;
  readonly contentDisposition: string | undefined;
  readonly cacheControl: string | undefined;
  readonly metadata: Readonly<Record<string, string>>;
  readonly lastModified: number;
  readonly md5: string;
}

/** The state of one named bucket, shared by every driver opened on that name. */
export class MemoryBucketStore {
  readonly objects = new Map<string, MemoryObject>();
  /** Keys in UTF-8 byte order. */
  readonly index = new SortedKeys();
  constructor(readonly name: string) {}

  /** Stores or replaces an object, keeping the key index in order. */
  set(key: string, obj: MemoryObject): void {
    if (!this.objects.has(key)) this.index.add(key);
    this.objects.set(key, obj);
  }

  /** Deletes an object; whether it existed. */
  remove(key: string): boolean {
    if (!this.objects.delete(key)) return false;
    this.index.delete(key);
    return true;
  }

  /** Deletes every object (test resets). */
  clear(): void {
    this.objects.clear();
    this.index.clear();
  }
}

const buckets = new Map<string, MemoryBucketStore>();

/** The shared store for `name`, created on first use. */
export function bucketStore(name: string): MemoryBucketStore {
  let s = buckets.get(name);
  if (!s) {
    s = new MemoryBucketStore(name);
    buckets.set(name, s);
  }
  return s;
}

export function resetBuckets(): void {
  for (const s of buckets.values()) s.clear();
  buckets.clear();
}

/** Etags compare without their quotes, so `abc` and `"abc"` name the same version. */
function sameEtag(a: string, b: string): boolean {
  return unquote(a) === unquote(b);
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}

/**
 * The reference blob driver: everything in process memory, every feature of the contract.
 * Writes are atomic (a stream is read fully before anything becomes visible) and conditions
 * are checked at the moment of commit.
 */
export class MemoryBucketDriver implements BucketDriver {
  readonly provider = PROVIDER;
  readonly capabilities = MEMORY_BUCKET_CAPABILITIES;
  readonly name: string;

  /** A bytes put and opening a read are synchronous Map work: see BucketDriver.settlesSynchronously. */
  readonly settlesSynchronously = true;

  constructor(readonly store: MemoryBucketStore) {
    this.name = store.name;
  }

  async put(key: string, body: NormalizedBody, opts: DriverPutOptions): Promise<BlobInfo> {
    const what = this.what('put', key);
    checkSignal(opts.signal, what);
    let data: Uint8Array;
    if (body.kind === 'bytes') {
      this.checkSize(body.data.byteLength, key);
      data = body.data.slice();
    } else {
      // The stream path works like a multipart upload: parts are staged privately and only
      // the commit below makes the object visible.
      const parts: Uint8Array[] = [];
      let staged = 0;
      const { totalBytes } = await uploadParts(
        body.stream,
        { partSize: opts.partSize, concurrency: opts.concurrency, signal: opts.signal },
        async (part, n, signal) => {
          checkSignal(signal, what);
          staged += part.byteLength;
          this.checkSize(staged, key);
          parts[n - 1] = part;
        },
      );
      opts.beforeCommit();
      checkSignal(opts.signal, what);
      data = concatBytes(parts, totalBytes);
    }
    // Commit: check and write with no await in between, so the condition holds at commit time.
    this.checkWriteCondition(key, opts.ifNoneMatch, opts.ifMatch, 'put');
    const obj: MemoryObject = {
      data,
      etag: newEtag(),
      contentType: opts.contentType ?? DEFAULT_CONTENT_TYPE,
      contentEncoding: opts.contentEncoding,
      contentDisposition: opts.contentDisposition,
      cacheControl: opts.cacheControl,
      metadata: { ...opts.metadata },
      lastModified: Date.now(),
      md5: md5Base64(data),
    };
    this.store.set(key, obj);
    return info(key, obj);
  }

  async get(
    key: string,
    opts: DriverGetOptions,
  ): Promise<{ info: BlobInfo; body: ReadableStream<Uint8Array> }> {
    const r = this.open(key, opts);
    return { info: r.info, body: byteStream(r.obj.data, r.start, r.end) };
  }

  /** The read as one copy of the bytes: no stream for what is already in memory. */
  async read(key: string, opts: DriverGetOptions): Promise<{ info: BlobInfo; body: Uint8Array }> {
    const r = this.open(key, opts);
    return { info: r.info, body: r.obj.data.slice(r.start, r.end) };
  }

  private open(key: string, opts: DriverGetOptions) {
    checkSignal(opts.signal, this.what('get', key));
    const obj = this.require(key, 'get');
    if (opts.ifMatch !== undefined && !sameEtag(obj.etag, opts.ifMatch)) {
      throw this.error('PRECONDITION_FAILED', 'get', key, `its etag is ${obj.etag}, not ${opts.ifMatch}`);
    }
    const size = obj.data.byteLength;
    const start = Math.min(opts.range?.offset ?? 0, size);
    const end = opts.range?.length === undefined ? size : Math.min(size, start + opts.range.length);
    return { info: info(key, obj), obj, start, end };
  }

  async head(key: string, opts: { signal: AbortSignal | undefined }): Promise<BlobInfo> {
    checkSignal(opts.signal, this.what('head', key));
    return info(key, this.require(key, 'head'));
  }

  async delete(
    key: string,
    opts: { ifMatch: string | undefined; signal: AbortSignal | undefined },
  ): Promise<void> {
    checkSignal(opts.signal, this.what('delete', key));
    if (opts.ifMatch !== undefined) {
      const obj = this.require(key, 'delete');
      if (!sameEtag(obj.etag, opts.ifMatch)) {
        throw this.error(
          'PRECONDITION_FAILED',
          'delete',
          key,
          `its etag is ${obj.etag}, not ${opts.ifMatch}`,
        );
      }
    }
    this.store.remove(key);
  }

  async deleteMany(
    keys: readonly string[],
    opts: { signal: AbortSignal | undefined },
  ): Promise<readonly (PolycloudError | undefined)[]> {
    checkSignal(opts.signal, `deleteMany on blob "${this.name}"`);
    return keys.map((k) => {
      this.store.remove(k);
      return undefined;
    });
  }

  async list(opts: {
    prefix: string;
    delimiter: string | undefined;
    cursor: string | undefined;
    limit: number;
    signal: AbortSignal | undefined;
  }): Promise<ListPage> {
    checkSignal(opts.signal, `list on blob "${this.name}"`);
    const { prefix, limit } = opts;
    const delimiter = opts.delimiter === '' ? undefined : opts.delimiter;
    // The cursor is the last key (k) or common prefix (p) returned, so keys present on both
    // sides of a page boundary are neither repeated nor skipped, whatever changed in between.
    const from = opts.cursor === undefined ? undefined : decodeCursor(opts.cursor, ['k', 'p'], this.ctx());
    const items: BlobListItem[] = [];
    const prefixes: string[] = [];
    let last: { tag: 'k' | 'p'; key: string } | undefined;
    let more = false;
    let open: string | undefined; // the common prefix being collapsed right now
    for (const key of this.store.index.scan(prefix, from?.key, from?.tag === 'p')) {
      if (open !== undefined && key.startsWith(open)) continue;
      if (items.length + prefixes.length >= limit) {
        more = true;
        break;
      }
      if (delimiter !== undefined) {
        const at = key.indexOf(delimiter, prefix.length);
        if (at >= 0) {
          open = key.slice(0, at + delimiter.length);
          prefixes.push(open);
          last = { tag: 'p', key: open };
          continue;
        }
      }
      const obj = this.store.objects.get(key)!;
      items.push({
        key,
        size: obj.data.byteLength,
        etag: obj.etag,
        lastModified: new Date(obj.lastModified),
      });
      last = { tag: 'k', key };
    }
    const page: ListPage = { items, prefixes };
    return more && last ? { ...page, cursor: encodeCursor(last.tag, last.key) } : page;
  }

  async copy(
    src: string,
    dst: string,
    opts: { ifNoneMatch: '*' | undefined; ifMatch: string | undefined; signal: AbortSignal | undefined },
  ): Promise<BlobInfo> {
    checkSignal(opts.signal, this.what('copy', dst));
    const from = this.require(src, 'copy');
    if (opts.ifMatch !== undefined && !sameEtag(from.etag, opts.ifMatch)) {
      throw this.error(
        'PRECONDITION_FAILED',
        'copy',
        src,
        `the source's etag is ${from.etag}, not ${opts.ifMatch}`,
      );
    }
    this.checkWriteCondition(dst, opts.ifNoneMatch, undefined, 'copy');
    const obj: MemoryObject = {
      ...from,
      data: from.data.slice(),
      metadata: { ...from.metadata },
      etag: newEtag(),
      lastModified: Date.now(),
    };
    this.store.set(dst, obj);
    return info(dst, obj);
  }

  async close(): Promise<void> {}

  /** The bucket's in-memory state (objects by key). */
  native(): MemoryBucketStore {
    return this.store;
  }

  private checkWriteCondition(
    key: string,
    ifNoneMatch: '*' | undefined,
    ifMatch: string | undefined,
    op: string,
  ) {
    const current = this.store.objects.get(key);
    if (ifNoneMatch === '*' && current) {
      throw this.error(
        'PRECONDITION_FAILED',
        op,
        key,
        'it already exists and ifNoneMatch is "*"; nothing was written',
      );
    }
    if (ifMatch !== undefined) {
      if (!current)
        throw this.error(
          'PRECONDITION_FAILED',
          op,
          key,
          `it does not exist, so it cannot match ifMatch ${ifMatch}`,
        );
      if (!sameEtag(current.etag, ifMatch)) {
        throw this.error(
          'PRECONDITION_FAILED',
          op,
          key,
          `its etag is ${current.etag}, not ${ifMatch}; nothing was written`,
        );
      }
    }
  }

  private checkSize(bytes: number, key: string) {
    if (bytes > MAX_OBJECT_BYTES) {
      throw this.error(
        'PAYLOAD_TOO_LARGE',
        'put',
        key,
        `the body is over the limit of ${MAX_OBJECT_BYTES} bytes`,
      );
    }
  }

  private require(key: string, op: string): MemoryObject {
    const obj = this.store.objects.get(key);
    if (!obj) throw this.error('NOT_FOUND', op, key, 'no such object');
    return obj;
  }

  private error(
    code: 'NOT_FOUND' | 'PRECONDITION_FAILED' | 'PAYLOAD_TOO_LARGE',
    op: string,
    key: string,
    why: string,
  ) {
    return pcError(code, `${this.what(op, key)}: ${why}`, {
      provider: PROVIDER,
      service: 'blob',
      operation: op,
      resource: { name: this.name, key },
      retryable: false,
    });
  }

  private what(op: string, key: string) {
    return `${op} on blob "${this.name}" key "${key}"`;
  }

  private ctx() {
    return { service: 'blob' as const, name: this.name };
  }
}

function newEtag(): string {
  return `"${nextToken()}"`;
}

function info(key: string, obj: MemoryObject): BlobInfo {
  return {
    key,
    size: obj.data.byteLength,
    etag: obj.etag,
    contentType: obj.contentType,
    contentEncoding: obj.contentEncoding,
    contentDisposition: obj.contentDisposition,
    cacheControl: obj.cacheControl,
    metadata: { ...obj.metadata },
    lastModified: new Date(obj.lastModified),
    md5: obj.md5,
  };
}

/** A stream of copies of data[start, end), so readers cannot change what is stored. */
function byteStream(data: Uint8Array, start: number, end: number): ReadableStream<Uint8Array> {
  let pos = start;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (pos >= end) {
        c.close();
        return;
      }
      const next = Math.min(end, pos + READ_CHUNK);
      c.enqueue(data.slice(pos, next));
      pos = next;
      if (pos >= end) c.close();
    },
  });
}
