import { type BodyInput, byobReader, forwardBytes, type NormalizedBody, normalizeBody } from '../body.js';
import { type BucketCapabilities, requireCapability } from '../capabilities.js';
import { mapLimit } from '../driver/concurrency.js';
import { abortError, invalidArgument, isPolycloudError, type PolycloudError, pcError } from '../errors.js';
import { fromUtf8, utf8Length } from '../internal/bytes.js';
import { BodyDigests } from '../internal/checksum.js';
import { CallRunner, type PortableOptions } from '../internal/context.js';
import { type AnyBody, discardBody, ResumingBody } from '../internal/resume.js';
import { checkInt, checkOptions, checkSignal, checkString } from '../internal/validate.js';
import { validateKey, validatePrefix } from '../keys.js';
import { recordBytes } from '../telemetry.js';
import type { BucketDriver, DriverGetOptions, DriverSignOptions } from './driver.js';
import {
  type CustomerKey,
  type DriverEncryption,
  type Encryption,
  readEncryption,
  scrubKey,
  signEncryption,
  writeEncryption,
} from './encryption.js';
import type {
  BlobInfo,
  BlobListItem,
  CallOptions,
  CopyOptions,
  DeleteManyResult,
  DeleteOptions,
  GetOptions,
  HeadOptions,
  ListOptions,
  ListPage,
  PutOptions,
  SignedRequest,
  SignedUrlOptions,
} from './types.js';

/** Single deletes in flight when a driver has no batch delete (services rate-limit bursts). */
const DELETE_CONCURRENCY = 16;

export interface BucketOptions extends PortableOptions {
  /** Default bytes per part for streamed uploads (default 8 MiB, at least the driver's minimum). */
  readonly partSize?: number;
  /** Default parts in flight for streamed uploads (default 4). */
  readonly concurrency?: number;
  /**
   * Default server-side encryption of every write (put, copy destination) that gives none. A
   * `customerKey` default is also sent on every read: open such a bucket only for objects
   * written with that key. A per-call `encryption` replaces the default.
   */
  readonly encryption?: Encryption;
}

/** A read in progress: metadata now, the body as a stream or all at once. */
export interface BlobReader {
  readonly info: BlobInfo;
  /** The body; read it once. */
  readonly body: ReadableStream<Uint8Array>;
  /** Reads the whole body into memory. Use `body` for objects too large to buffer. */
  bytes(): Promise<Uint8Array>;
  /** Reads the whole body as UTF-8 text; invalid UTF-8 is an error, not replacement characters. */
  text(): Promise<string>;
  /** Reads the whole body and parses it as JSON. `T` is not checked at run time. */
  json<T = unknown>(): Promise<T>;
}

const MAX_METADATA_BYTES = 2048;
/** What an HTTP header value can carry on every provider: printable ASCII and tab. */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;
/** Metadata values may be any UTF-8 (adapters encode non-ASCII), but never control characters. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds.
const CONTROL_CHAR = /[\x00-\x08\x0a-\x1f\x7f]/;
const METADATA_KEY = /^[a-z0-9!#$%&'*+\-.^_`|~]+$/;
const PUT_OPTIONS = [
  'contentType',
  'contentEncoding',
  'contentDisposition',
  'cacheControl',
  'metadata',
  'ifNoneMatch',
  'ifMatch',
  'md5',
  'crc32c',
  'partSize',
  'concurrency',
  'encryption',
  'signal',
] as const;

/** beforeCommit when the put has no digests to verify. */
const noop = (): void => {};

/** Put options sent as HTTP headers, checked for characters a header cannot carry. */
const HEADER_OPTIONS = [
  'contentType',
  'contentEncoding',
  'contentDisposition',
  'cacheControl',
  'md5',
  'crc32c',
] as const;

type ByteSite = Parameters<typeof recordBytes>[0];

/**
 * Blob storage on any provider. Open one with `openBucket(url)` or wrap a driver.
 *
 * @example
 * await using bucket = await openBucket('mem://uploads');
 * await bucket.put('hello.txt', 'hi', { contentType: 'text/plain' });
 * console.log(await bucket.getText('hello.txt'));
 */
export class Bucket<TNative = unknown> {
  readonly capabilities: BucketCapabilities;
  readonly name: string;
  readonly provider: string;
  private readonly runner: CallRunner;
  private readonly partSize: number;
  private readonly concurrency: number;
  /** The bucket-level default encryption (validated), and its customer key for reads. */
  private readonly encryption: DriverEncryption | undefined;
  /** Where byte metrics are counted, built once rather than per call. */
  private readonly sites: { readonly put: ByteSite; readonly get: ByteSite };

  constructor(
    private readonly driver: BucketDriver<TNative>,
    opts: BucketOptions = {},
  ) {
    this.capabilities = driver.capabilities;
    this.name = driver.name;
    this.provider = driver.provider;
    this.runner = new CallRunner(
      driver.provider,
      'blob',
      driver.name,
      opts,
      false,
      driver.signalEndsRequests === true,
    );
    this.partSize = Math.max(opts.partSize ?? 8 * 1024 * 1024, driver.capabilities.minPartBytes);
    this.concurrency = opts.concurrency ?? 4;
    const site = (operation: string): ByteSite => ({ provider: driver.provider, service: 'blob', operation });
    this.sites = { put: site('put'), get: site('get') };
    try {
      this.encryption = writeEncryption(opts.encryption, driver.capabilities, this.runner.ctx('open'));
    } catch (err) {
      void driver.close().catch(() => {});
      throw err;
    }
  }

  /** The customer key a read sends: the call's own, else the bucket's default. */
  private readKey(
    value: unknown,
    ctx: ReturnType<CallRunner['ctx']>,
    name?: string,
  ): CustomerKey | undefined {
    if (value !== undefined) return readEncryption(value, this.capabilities, ctx, name);
    return this.encryption?.customerKey;
  }

  /**
   * Writes `body` under `key`. Streams of unknown length are uploaded in parts with memory
   * bounded near partSize × concurrency; nothing becomes visible unless the whole upload succeeds.
   *
   * @example
   * await bucket.put('a/b.json', JSON.stringify(doc), { contentType: 'application/json', ifNoneMatch: '*' });
   * await bucket.put('big.bin', fs.createReadStream('big.bin'));
   */
  async put(key: string, body: BodyInput, opts: PutOptions = {}): Promise<BlobInfo> {
    const op = 'put';
    this.runner.ensureOpen(op);
    this.key(key, op);
    const ctx = this.runner.ctx(op, key);
    checkOptions(opts, PUT_OPTIONS, ctx);
    const caps = this.capabilities;
    // The capability context is built only for a capability that is missing.
    const need = (flag: boolean, name: string) => {
      if (!flag) requireCapability(flag, name, this.capCtx(op, key));
    };
    for (const h of HEADER_OPTIONS) {
      checkString(opts[h], h, ctx);
      const v = opts[h];
      if (v !== undefined && !HEADER_VALUE.test(v)) {
        throw invalidArgument(
          `put on blob "${this.name}" key "${key}": ${h} contains a character an HTTP header cannot carry (control characters such as CR/LF, or non-ASCII); use printable ASCII (RFC 8187 encoding for non-ASCII file names)`,
          ctx,
        );
      }
    }
    if (opts.contentEncoding !== undefined) need(caps.contentEncoding, 'contentEncoding');
    if (opts.contentDisposition !== undefined) need(caps.contentDisposition, 'contentDisposition');
    if (opts.cacheControl !== undefined) need(caps.cacheControl, 'cacheControl');
    if (opts.ifNoneMatch !== undefined) {
      if (opts.ifNoneMatch !== '*') throw invalidArgument(`put: ifNoneMatch must be '*' (create only)`, ctx);
      need(caps.putIfNoneMatch, 'putIfNoneMatch');
    }
    if (opts.ifMatch !== undefined) {
      checkString(opts.ifMatch, 'ifMatch', ctx);
      need(caps.putIfMatch, 'putIfMatch');
    }
    if (opts.ifMatch !== undefined && opts.ifNoneMatch !== undefined) {
      throw invalidArgument('put: ifMatch and ifNoneMatch cannot be combined', ctx);
    }
    if (opts.md5 !== undefined) need(caps.putMd5, 'putMd5');
    if (opts.crc32c !== undefined) need(caps.putCrc32c, 'putCrc32c');
    const metadata = this.metadata(opts.metadata, op, key);
    if (Object.keys(metadata).length > 0) need(caps.metadata, 'metadata');
    checkInt(opts.partSize, 'partSize', Math.max(1, caps.minPartBytes), 5 * 1024 ** 3, ctx);
    checkInt(opts.concurrency, 'concurrency', 1, 64, ctx);
    const partSize = opts.partSize ?? this.partSize;
    const concurrency = opts.concurrency ?? this.concurrency;
    const encryption =
      opts.encryption === undefined ? this.encryption : writeEncryption(opts.encryption, caps, ctx);

    let normalized: NormalizedBody;
    try {
      normalized = normalizeBody(body);
    } catch (err) {
      throw this.runner.normalize(err, op, key);
    }
    // A stream that fits in one part is read up front: a single-shot request is cheaper and
    // can be retried, which a half-consumed stream cannot.
    if (normalized.kind === 'stream' && (normalized.size === undefined || normalized.size <= partSize)) {
      normalized = await peek(normalized, partSize, opts.signal).catch((err: unknown) => {
        // Aborted while the body was being read: CANCELLED (or TIMEOUT), as for any other call.
        if (opts.signal?.aborted) {
          throw this.runner.normalize(abortError(opts.signal, `put on blob "${this.name}"`), op, key);
        }
        throw this.runner.normalize(err, op, key);
      });
    }
    if (normalized.kind === 'bytes' && normalized.data.byteLength > caps.maxObjectBytes) {
      throw pcError(
        'PAYLOAD_TOO_LARGE',
        `put on blob "${this.name}": ${normalized.data.byteLength} bytes is over this provider's limit of ${caps.maxObjectBytes}`,
        { ...ctx, retryable: false },
      );
    }

    const wantDigest = { md5: opts.md5 !== undefined, crc32c: opts.crc32c !== undefined };
    const verify = (d: BodyDigests) => {
      const got = d.result();
      if (opts.md5 !== undefined && got.md5 !== opts.md5) {
        throw invalidArgument(
          `put on blob "${this.name}" key "${key}": the body's MD5 is ${got.md5}, not the expected ${opts.md5}; nothing was written`,
          ctx,
        );
      }
      if (opts.crc32c !== undefined && got.crc32c !== opts.crc32c) {
        throw invalidArgument(
          `put on blob "${this.name}" key "${key}": the body's CRC32C is ${got.crc32c}, not the expected ${opts.crc32c}; nothing was written`,
          ctx,
        );
      }
    };
    let beforeCommit = noop;
    if (wantDigest.md5 || wantDigest.crc32c) {
      const digests = new BodyDigests(wantDigest);
      if (normalized.kind === 'bytes') {
        digests.update(normalized.data);
        verify(digests);
      } else {
        let ended = false;
        const byob = byobReader(normalized.stream);
        // A byte stream stays one, so the upload still reads it into its part buffers.
        const counted = byob
          ? forwardBytes(byob, { onChunk: (chunk) => digests.update(chunk), onEnd: () => (ended = true) })
          : normalized.stream.pipeThrough(
              new TransformStream<Uint8Array, Uint8Array>({
                transform(chunk, c) {
                  digests.update(chunk);
                  c.enqueue(chunk);
                },
                flush() {
                  ended = true;
                },
              }),
            );
        normalized = { kind: 'stream', stream: counted, size: normalized.size };
        beforeCommit = () => {
          if (!ended) throw pcError('INTERNAL', 'beforeCommit called before the body was fully read', ctx);
          verify(digests);
        };
      }
    }

    const driverOpts = {
      contentType: opts.contentType ?? blobType(body),
      contentEncoding: opts.contentEncoding,
      contentDisposition: opts.contentDisposition,
      cacheControl: opts.cacheControl,
      metadata,
      ifNoneMatch: opts.ifNoneMatch,
      ifMatch: opts.ifMatch,
      md5: opts.md5,
      crc32c: opts.crc32c,
      partSize,
      concurrency,
      beforeCommit,
      retry: this.runner.retry,
      ...(encryption === undefined ? {} : { encryption }),
    };
    const final = normalized;
    const putKey = encryption?.customerKey;
    const running = this.runner.run(
      op,
      key,
      opts.signal,
      (signal) => this.driver.put(key, final, { ...driverOpts, signal }),
      {
        // A conditional create that timed out may have succeeded; retrying would report a
        // false conflict. Streams cannot be replayed.
        retry: final.kind === 'bytes',
        settlesAtOnce: final.kind === 'bytes' && this.driver.settlesSynchronously === true,
        idempotent: opts.ifNoneMatch === undefined && opts.ifMatch === undefined,
        // A streamed upload has no per-attempt bound (only timeoutMs): its length is the
        // caller's. A buffered one gets the attempt bound plus 1 s per MiB.
        attemptTimeoutMs:
          final.kind === 'bytes' && this.runner.attemptTimeoutMs > 0
            ? this.runner.attemptTimeoutMs + Math.ceil(final.data.byteLength / 1024)
            : 0,
      },
    );
    // Without a customer key there is nothing to scrub from an error.
    const info = await (putKey === undefined
      ? running
      : running.catch((err: unknown) => {
          throw scrubKey(err, putKey);
        }));
    recordBytes(this.sites.put, info.size);
    return info;
  }

  /**
   * Reads an object. NOT_FOUND when it does not exist.
   *
   * @example
   * const r = await bucket.get('video.mp4', { range: { offset: 0, length: 1024 } });
   * for await (const chunk of r.body) process(chunk);
   */
  async get(key: string, opts: GetOptions = {}): Promise<BlobReader> {
    const op = 'get';
    this.runner.ensureOpen(op);
    this.key(key, op);
    const ctx = this.runner.ctx(op, key);
    checkOptions(opts, ['range', 'ifMatch', 'encryption', 'signal'], ctx);
    const customerKey = this.readKey(opts.encryption, ctx);
    const keyOpt = customerKey === undefined ? {} : { customerKey };
    if (opts.ifMatch !== undefined) {
      checkString(opts.ifMatch, 'ifMatch', ctx);
      requireCapability(this.capabilities.getIfMatch, 'getIfMatch', this.capCtx(op, key));
    }
    let range = opts.range;
    if (range !== undefined) {
      if (typeof range !== 'object' || range === null)
        throw invalidArgument(
          `get on blob "${this.name}" key "${key}": range must be { offset, length? }`,
          ctx,
        );
      checkInt(range.offset, 'range.offset', 0, Number.MAX_SAFE_INTEGER, ctx);
      if (range.offset === undefined)
        throw invalidArgument(
          `get on blob "${this.name}" key "${key}": range.offset is required; a range is { offset, length? }`,
          ctx,
        );
      checkInt(range.length, 'range.length', 0, Number.MAX_SAFE_INTEGER, ctx);
      requireCapability(this.capabilities.rangeRead, 'rangeRead', this.capCtx(op, key));
      range = { offset: range.offset, ...(range.length === undefined ? {} : { length: range.length }) };
    }
    const what = `get on blob "${this.name}" key "${key}"`;
    checkSignal(opts.signal, ctx);
    // The deadline outlives the run: it also bounds reading the body, and the body disposes it.
    // Without a caller signal or timeoutMs there is nothing to link (attempts keep their bound).
    const deadline =
      opts.signal !== undefined || this.runner.timeoutMs !== undefined
        ? this.runner.deadline(opts.signal, what)
        : undefined;
    const driver = this.driver;
    // A driver's `read` hands over bytes or its Node stream: no Web stream unless `body` is asked for.
    const open = driver.read
      ? (o: DriverGetOptions): Promise<{ info: BlobInfo; body: AnyBody }> => driver.read!(key, o)
      : (o: DriverGetOptions): Promise<{ info: BlobInfo; body: AnyBody }> => driver.get(key, o);
    const discard = (late: { body: AnyBody }) => void discardBody(late.body);
    let r: { info: BlobInfo; body: AnyBody };
    try {
      r = await this.runner.run(
        op,
        key,
        opts.signal,
        (signal) => open({ range, ifMatch: opts.ifMatch, signal, ...keyOpt }),
        { deadline, discard, settlesAtOnce: driver.settlesSynchronously === true },
      );
    } catch (err) {
      deadline?.dispose();
      throw scrubKey(err, customerKey);
    }
    const start = range?.offset ?? 0;
    const size = r.info.size;
    const expected =
      typeof size === 'number' && Number.isSafeInteger(size) && size >= 0
        ? Math.max(0, Math.min(range?.length ?? Number.POSITIVE_INFINITY, size - start))
        : undefined;
    const etag = opts.ifMatch ?? r.info.etag;
    const caps = this.capabilities;
    const body = new ResumingBody(r.body, {
      start,
      expected,
      canResume: caps.rangeRead && caps.getIfMatch && typeof etag === 'string' && etag.length > 0,
      policy: this.runner.retry,
      idleMs: this.runner.idleTimeoutMs,
      deadline,
      what,
      reopen: async (offset, length, signal) => {
        const next = await this.runner.run(
          op,
          key,
          signal,
          (s) =>
            open({
              range: { offset, ...(length === undefined ? {} : { length }) },
              ifMatch: etag,
              signal: s,
              ...keyOpt,
            }),
          { retry: false, discard },
        );
        return next.body;
      },
      normalize: (err) => scrubKey(this.runner.normalize(err, op, key), customerKey) as PolycloudError,
      done: (n) => recordBytes(this.sites.get, n),
    });
    return makeReader(r.info, body);
  }

  /**
   * Reads a whole object into memory. A body cut off mid-way resumes from the last byte (a
   * conditional range read on the same etag) within the retry budget and the call's deadline.
   */
  async getBytes(key: string, opts: GetOptions = {}): Promise<Uint8Array> {
    return (await this.get(key, opts)).bytes();
  }

  /** Reads a whole object as UTF-8 text. */
  async getText(key: string, opts: GetOptions = {}): Promise<string> {
    return (await this.get(key, opts)).text();
  }

  /** Metadata of an object; NOT_FOUND when it does not exist. */
  async head(key: string, opts: HeadOptions = {}): Promise<BlobInfo> {
    const op = 'head';
    this.runner.ensureOpen(op);
    this.key(key, op);
    const ctx = this.runner.ctx(op, key);
    checkOptions(opts, ['encryption', 'signal'], ctx);
    const customerKey = this.readKey(opts.encryption, ctx);
    const keyOpt = customerKey === undefined ? {} : { customerKey };
    return this.runner
      .run(op, key, opts.signal, (signal) => this.driver.head(key, { signal, ...keyOpt }))
      .catch((err: unknown) => {
        throw scrubKey(err, customerKey);
      });
  }

  /** Whether an object exists. */
  async exists(key: string, opts: HeadOptions = {}): Promise<boolean> {
    try {
      await this.head(key, opts);
      return true;
    } catch (err) {
      if (isPolycloudError(err, 'NOT_FOUND')) return false;
      throw err;
    }
  }

  /** Deletes an object; deleting a missing key succeeds unless `ifMatch` is given. */
  async delete(key: string, opts: DeleteOptions = {}): Promise<void> {
    const op = 'delete';
    this.runner.ensureOpen(op);
    this.key(key, op);
    const ctx = this.runner.ctx(op, key);
    checkOptions(opts, ['ifMatch', 'signal'], ctx);
    if (opts.ifMatch !== undefined) {
      checkString(opts.ifMatch, 'ifMatch', ctx);
      requireCapability(this.capabilities.deleteIfMatch, 'deleteIfMatch', this.capCtx(op, key));
    }
    await this.runner.run(op, key, opts.signal, (signal) =>
      this.driver.delete(key, { ifMatch: opts.ifMatch, signal }),
    );
  }

  /**
   * Deletes many objects, in batches where the provider has a batch API. Never throws for one
   * key's failure: each key gets its own result, in input order.
   */
  async deleteMany(keys: readonly string[], opts: CallOptions = {}): Promise<DeleteManyResult[]> {
    const op = 'deleteMany';
    this.runner.ensureOpen(op);
    if (!Array.isArray(keys)) throw invalidArgument('deleteMany: keys must be an array', this.runner.ctx(op));
    for (const k of keys) this.key(k, op);
    const out: DeleteManyResult[] = [];
    const batch = Math.max(1, this.capabilities.maxDeleteBatch);
    for (let i = 0; i < keys.length; i += batch) {
      const chunk = keys.slice(i, i + batch);
      let errors: readonly (PolycloudError | undefined)[];
      if (this.driver.deleteMany) {
        const dm = this.driver.deleteMany.bind(this.driver);
        errors = await this.runner.run(op, undefined, opts.signal, (signal) => dm(chunk, { signal }));
      } else {
        errors = await mapLimit(chunk, DELETE_CONCURRENCY, (k) =>
          this.delete(k, opts).then(
            () => undefined,
            (e: unknown) => this.runner.normalize(e, op, k),
          ),
        );
      }
      chunk.forEach((key, j) => {
        const error = errors[j];
        out.push(error === undefined ? { key, ok: true } : { key, ok: false, error });
      });
    }
    return out;
  }

  /**
   * One page of a listing, ordered by the UTF-8 bytes of the keys.
   *
   * @example
   * let page = await bucket.list({ prefix: 'logs/', delimiter: '/' });
   * while (page.cursor) page = await bucket.list({ prefix: 'logs/', delimiter: '/', cursor: page.cursor });
   */
  async list(opts: ListOptions = {}): Promise<ListPage> {
    const op = 'list';
    this.runner.ensureOpen(op);
    const ctx = this.runner.ctx(op);
    checkOptions(opts, ['prefix', 'delimiter', 'cursor', 'limit', 'signal'], ctx);
    const prefix = opts.prefix ?? '';
    validatePrefix(prefix, this.capabilities.maxKeyBytes, { ...this.keyCtx(op) });
    if (opts.delimiter !== undefined) {
      checkString(opts.delimiter, 'delimiter', ctx);
      requireCapability(this.capabilities.listDelimiter, 'listDelimiter', this.capCtx(op));
    }
    checkString(opts.cursor, 'cursor', ctx);
    checkInt(opts.limit, 'limit', 1, this.capabilities.maxListLimit, ctx);
    const limit = opts.limit ?? this.capabilities.maxListLimit;
    return this.runner.run(op, undefined, opts.signal, (signal) =>
      this.driver.list({ prefix, delimiter: opts.delimiter, cursor: opts.cursor, limit, signal }),
    );
  }

  /**
   * Every item under a prefix, page by page.
   *
   * @example
   * for await (const item of bucket.entries({ prefix: 'photos/' })) console.log(item.key, item.size);
   */
  async *entries(opts: Omit<ListOptions, 'cursor' | 'delimiter'> = {}): AsyncGenerator<BlobListItem> {
    let cursor: string | undefined;
    do {
      const page = await this.list({ ...opts, ...(cursor === undefined ? {} : { cursor }) });
      yield* page.items;
      cursor = page.cursor;
    } while (cursor !== undefined);
  }

  /** Server-side copy within this bucket; the copy is independent of the source afterwards. */
  async copy(src: string, dst: string, opts: CopyOptions = {}): Promise<BlobInfo> {
    const op = 'copy';
    this.runner.ensureOpen(op);
    this.key(src, op);
    this.key(dst, op);
    const ctx = this.runner.ctx(op, dst);
    checkOptions(opts, ['ifNoneMatch', 'ifMatch', 'encryption', 'sourceEncryption', 'signal'], ctx);
    const encryption =
      opts.encryption === undefined
        ? this.encryption
        : writeEncryption(opts.encryption, this.capabilities, ctx);
    const sourceCustomerKey = this.readKey(opts.sourceEncryption, ctx, 'sourceEncryption');
    const encOpts = {
      ...(encryption === undefined ? {} : { encryption }),
      ...(sourceCustomerKey === undefined ? {} : { sourceCustomerKey }),
    };
    if (opts.ifNoneMatch !== undefined) {
      if (opts.ifNoneMatch !== '*') throw invalidArgument(`copy: ifNoneMatch must be '*'`, ctx);
      requireCapability(this.capabilities.copyIfNoneMatch, 'copyIfNoneMatch', this.capCtx(op, dst));
    }
    if (opts.ifMatch !== undefined) {
      checkString(opts.ifMatch, 'ifMatch', ctx);
      requireCapability(this.capabilities.getIfMatch, 'getIfMatch', this.capCtx(op, src));
    }
    return this.runner
      .run(
        op,
        dst,
        opts.signal,
        (signal) =>
          this.driver.copy(src, dst, {
            ifNoneMatch: opts.ifNoneMatch,
            ifMatch: opts.ifMatch,
            signal,
            ...encOpts,
          }),
        // A server-side copy of a large object takes time the request cannot report on.
        { idempotent: opts.ifNoneMatch === undefined, attemptTimeoutMs: this.runner.attemptTimeoutMs * 4 },
      )
      .catch((err: unknown) => {
        throw scrubKey(err, encryption?.customerKey, sourceCustomerKey);
      });
  }

  /**
   * A URL that grants `method` on one key for `expiresIn` seconds without credentials.
   *
   * A GET or DELETE URL works on its own. A PUT URL may need request headers as well: the
   * `content-type` it was signed with (when `contentType` was given), and on some providers
   * headers of their own (Azure: `x-ms-blob-type: BlockBlob`), which a bare URL cannot carry.
   * Hand uploaders `signedRequest()` instead, which returns the URL with those headers.
   *
   * @example
   * const url = await bucket.signedUrl('report.pdf', { method: 'GET', expiresIn: 300 });
   */
  async signedUrl(key: string, opts: SignedUrlOptions): Promise<string> {
    const op = 'signedUrl';
    const args = this.signArgs(op, key, opts);
    const signer = this.driver.signedUrl!.bind(this.driver);
    return this.runner.run(op, key, undefined, () => signer(key, args));
  }

  /**
   * What a client without credentials must send to act on one key for `expiresIn` seconds:
   * the signed URL, the method, and the headers the request must carry (`content-type` for a
   * PUT signed with `contentType`, plus any the provider needs). Send all of them as given.
   * Validation and capabilities are those of `signedUrl` (`signedUrlMethods`).
   *
   * @example
   * const req = await bucket.signedRequest('photo.jpg', { method: 'PUT', expiresIn: 600, contentType: 'image/jpeg' });
   * // …in a browser or another service, with no credentials:
   * await fetch(req.url, { method: req.method, headers: req.headers, body: file });
   */
  async signedRequest(key: string, opts: SignedUrlOptions): Promise<SignedRequest> {
    const op = 'signedRequest';
    const args = this.signArgs(op, key, opts);
    const driver = this.driver;
    // A PUT signed with a content type must send it, on every provider; a driver adds its own.
    const base: Record<string, string> =
      args.method === 'PUT' && args.contentType !== undefined ? { 'content-type': args.contentType } : {};
    return this.runner.run(op, key, undefined, async () => {
      if (driver.signedRequest) {
        const r = await driver.signedRequest(key, args);
        return signedRequestOf(r.url, args.method, { ...base, ...r.headers });
      }
      return signedRequestOf(await driver.signedUrl!(key, args), args.method, base);
    });
  }

  /** Validation and capability checks shared by signedUrl and signedRequest. */
  private signArgs(op: string, key: string, opts: SignedUrlOptions): DriverSignOptions {
    this.runner.ensureOpen(op);
    this.key(key, op);
    const ctx = this.runner.ctx(op, key);
    checkOptions(opts, ['method', 'expiresIn', 'contentType', 'encryption'], ctx);
    const o: Partial<SignedUrlOptions> = opts ?? {};
    const method = o.method ?? 'GET';
    if (!['GET', 'PUT', 'DELETE'].includes(method)) {
      throw invalidArgument(`${op}: method must be GET, PUT or DELETE, got ${String(method)}`, ctx);
    }
    const d = this.driver;
    const signer = op === 'signedRequest' ? (d.signedRequest ?? d.signedUrl) : d.signedUrl;
    requireCapability(
      this.capabilities.signedUrlMethods.includes(method) && signer !== undefined,
      `signedUrlMethods:${method}`,
      this.capCtx(op, key),
    );
    checkInt(o.expiresIn, 'expiresIn', 1, this.capabilities.maxSignedUrlSeconds, ctx);
    if (o.expiresIn === undefined) throw invalidArgument(`${op}: expiresIn (seconds) is required`, ctx);
    checkString(o.contentType, 'contentType', ctx);
    if (o.contentType !== undefined && !HEADER_VALUE.test(o.contentType)) {
      throw invalidArgument(`${op}: contentType contains a character an HTTP header cannot carry`, ctx);
    }
    const encryption = signEncryption(
      o.encryption,
      method,
      this.encryption,
      this.capabilities,
      ctx,
      d.signedRequest !== undefined,
    );
    return {
      method,
      expiresIn: o.expiresIn,
      contentType: o.contentType,
      ...(encryption ? { encryption } : {}),
    };
  }

  /** The native SDK client, typed when the bucket came from an adapter's own constructor. */
  native(): TNative {
    return this.driver.native();
  }

  /** Releases the driver's resources; later calls fail. */
  async close(): Promise<void> {
    if (this.runner.isClosed) return;
    this.runner.markClosed();
    await this.driver.close();
  }

  /**
   * Closes the bucket at the end of an `await using` block.
   *
   * @example
   * await using bucket = await openBucket('mem://assets');
   * await bucket.put('a.txt', 'hi');
   * // closed here
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private key(key: unknown, operation: string): asserts key is string {
    validateKey(key, this.capabilities.maxKeyBytes, this.keyCtx(operation));
  }

  private keyCtx(operation: string) {
    return { provider: this.provider, service: 'blob' as const, operation, name: this.name };
  }

  private capCtx(operation: string, key?: string) {
    return {
      provider: this.provider,
      service: 'blob' as const,
      operation,
      name: this.name,
      ...(key === undefined ? {} : { key }),
    };
  }

  private metadata(md: unknown, op: string, key: string): Record<string, string> {
    if (md === undefined) return {};
    const ctx = this.runner.ctx(op, key);
    if (typeof md !== 'object' || md === null || Array.isArray(md)) {
      throw invalidArgument(`${op}: metadata must be an object of string values`, ctx);
    }
    const out: Record<string, string> = {};
    let bytes = 0;
    for (const [k, v] of Object.entries(md)) {
      const lk = k.toLowerCase();
      if (!METADATA_KEY.test(lk)) {
        throw invalidArgument(
          `${op} on blob "${this.name}": metadata key "${k}" must be 1+ characters of letters, digits or !#$%&'*+-.^_\`|~`,
          ctx,
        );
      }
      if (typeof v !== 'string')
        throw invalidArgument(`${op}: metadata value for "${k}" must be a string`, ctx);
      if (!v.isWellFormed())
        throw invalidArgument(`${op}: metadata value for "${k}" is not valid UTF-8`, ctx);
      if (CONTROL_CHAR.test(v)) {
        throw invalidArgument(
          `${op} on blob "${this.name}": metadata value for "${k}" contains a control character (e.g. CR/LF), which metadata headers cannot carry; remove it or encode the value`,
          ctx,
        );
      }
      if (lk in out)
        throw invalidArgument(`${op}: metadata key "${k}" appears twice (keys are case-insensitive)`, ctx);
      out[lk] = v;
      bytes += utf8Length(lk) + utf8Length(v);
    }
    if (bytes > MAX_METADATA_BYTES) {
      throw invalidArgument(
        `${op} on blob "${this.name}": metadata is ${bytes} bytes, over the portable limit of ${MAX_METADATA_BYTES}`,
        ctx,
      );
    }
    return out;
  }
}

/**
 * The type of a Blob or File body (`new File([...], 'a.png', { type: 'image/png' })`), the
 * default when no contentType is given; the spec already limits it to printable ASCII.
 */
function blobType(body: BodyInput): string | undefined {
  if (typeof Blob === 'undefined' || !(body instanceof Blob)) return undefined;
  return body.type !== '' && HEADER_VALUE.test(body.type) ? body.type : undefined;
}

function makeReader(info: BlobInfo, source: ResumingBody): BlobReader {
  let stream: ReadableStream<Uint8Array> | undefined;
  let used = false;
  const all = () => {
    if (used || stream) {
      return Promise.reject(pcError('PRECONDITION_FAILED', 'the body of this read was already consumed'));
    }
    used = true;
    return source.readAll();
  };
  return {
    info,
    get body() {
      stream ??= new ReadableStream<Uint8Array>({
        async pull(c) {
          const chunk = await source.read();
          if (chunk === undefined) c.close();
          else c.enqueue(chunk);
        },
        cancel(reason) {
          return source.cancel(reason);
        },
      });
      return stream;
    },
    bytes: all,
    text: async () => fromUtf8(await all()),
    json: async <T>() => JSON.parse(fromUtf8(await all())) as T,
  };
}

/** A frozen SignedRequest with a copy of the driver's headers. */
function signedRequestOf(
  url: string,
  method: SignedRequest['method'],
  headers: Readonly<Record<string, string>>,
): SignedRequest {
  return Object.freeze({ url, method, headers: Object.freeze({ ...headers }) });
}

/** Reads up to `limit` bytes: the whole body if it fits, else a stream that replays what was read. */
async function peek(
  body: NormalizedBody & { kind: 'stream' },
  limit: number,
  signal?: AbortSignal,
): Promise<NormalizedBody> {
  const byob = byobReader(body.stream);
  if (byob) return peekBytes(byob, limit, body.size, signal);
  const reader = body.stream.getReader();
  const head: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    if (signal?.aborted) {
      await reader.cancel(signal.reason).catch(() => {});
      throw signal.reason;
    }
    const { done, value } = await reader.read();
    if (done) {
      reader.releaseLock();
      const data = new Uint8Array(total);
      let off = 0;
      for (const c of head) {
        data.set(c, off);
        off += c.byteLength;
      }
      return { kind: 'bytes', data };
    }
    head.push(value);
    total += value.byteLength;
    if (total > limit) break;
  }
  const stream = new ReadableStream<Uint8Array>({
    async pull(c) {
      // shift(), not an index: replayed chunks must not stay referenced for the whole upload.
      const replay = head.shift();
      if (replay !== undefined) {
        c.enqueue(replay);
        return;
      }
      const { done, value } = await reader.read();
      if (done) c.close();
      else c.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return { kind: 'stream', stream, size: body.size };
}

/**
 * `peek` for a byte stream: reads into one growing buffer (no chunk list to join) and, when the
 * body is longer than `limit`, returns a byte stream again, so the upload keeps reading it with a
 * BYOB reader.
 */
async function peekBytes(
  reader: ReadableStreamBYOBReader,
  limit: number,
  size: number | undefined,
  signal?: AbortSignal,
): Promise<NormalizedBody> {
  // Reads go into `scratch` at offset 0 (see uploadParts: nodejs/node#58817), then into `buf`.
  let scratch = new Uint8Array(Math.min(limit + 1, 64 * 1024));
  let buf = new Uint8Array(scratch.byteLength);
  let total = 0;
  for (;;) {
    if (signal?.aborted) {
      await reader.cancel(signal.reason).catch(() => {});
      throw signal.reason;
    }
    const { done, value } = await reader.read(scratch);
    if (value === undefined) throw new TypeError('the body stream was cancelled while it was being read');
    // The read transferred the buffer; the view it returns is on the same memory.
    scratch = new Uint8Array(value.buffer as ArrayBuffer);
    if (total + value.byteLength > buf.byteLength) {
      const grown = new Uint8Array(
        Math.max(total + value.byteLength, Math.min(limit + 1, buf.byteLength * 2)),
      );
      grown.set(buf.subarray(0, total));
      buf = grown;
    }
    buf.set(value, total);
    total += value.byteLength;
    if (done) {
      reader.releaseLock();
      return { kind: 'bytes', data: buf.subarray(0, total) };
    }
    if (total > limit) break;
  }
  return { kind: 'stream', stream: forwardBytes(reader, { head: buf.subarray(0, total) }), size };
}
