import { createHash } from 'node:crypto';
import { constants, type Dirent } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type BlobInfo,
  type BlobListItem,
  type BucketCapabilities,
  type BucketDriver,
  type DriverBody,
  type DriverGetOptions,
  type DriverPutOptions,
  defineCapabilities,
  fromUtf8,
  isPolycloudError,
  type ListPage,
  type NormalizedBody,
  type PolycloudError,
  pcError,
  utf8,
} from '@polycloud/core';
import { type ErrorContext, type Row, type SqliteDatabase, SqliteFile } from './sqlite.js';
import {
  after,
  checkSignal,
  decodeCursor,
  encodeCursor,
  lowerBound,
  mkdirp,
  newToken,
  num,
  optText,
  PROVIDER,
  prefixEnd,
} from './util.js';

/** S3's object limit; a file system allows more, but code moved to a cloud should still fit. */
const MAX_OBJECT_BYTES = 5 * 1024 ** 4;
const READ_CHUNK = 256 * 1024;
const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
/** Temp files untouched this long are left over from a killed process and are removed on open. */
const STALE_TEMP_MS = 24 * 60 * 60 * 1000;
/** Files in a bucket folder that polycloud wrote. */
export const INDEX_FILE = 'index.db';
const LAYOUT = new Set([
  INDEX_FILE,
  `${INDEX_FILE}-wal`,
  `${INDEX_FILE}-shm`,
  `${INDEX_FILE}-journal`,
  'objects',
  'tmp',
]);
/** Never follow a symbolic link planted where a content file should be (0 where unsupported). */
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/** What a `file://` bucket can do: everything but signed URLs. */
export const LOCAL_BUCKET_CAPABILITIES: BucketCapabilities = defineCapabilities({
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
  // Nothing serves the folder over HTTP, so a URL would point nowhere.
  signedUrlMethods: [] as const,
  maxSignedUrlSeconds: 0,
  maxKeyBytes: 1024,
  maxObjectBytes: MAX_OBJECT_BYTES,
  // Streams are written straight to a temp file, whatever part size the caller picks.
  minPartBytes: 1,
  maxListLimit: 1000,
  maxDeleteBatch: 1000,
  // Nothing here encrypts at rest with a key the caller chooses: a promise it cannot keep.
  encryptionManagedKey: false,
  encryptionCustomerKey: false,
});

/** What `native()` returns: where the bucket lives and its index database. */
export interface LocalBucketHandle {
  /** Absolute path of the bucket folder. */
  readonly root: string;
  /** The node:sqlite connection to `<root>/index.db`. */
  readonly database: SqliteDatabase;
  /** Deletes every object. */
  clear(): Promise<void>;
}

const SELECT_OBJECT = `SELECT key, file, size, content_type, content_encoding, content_disposition,
  cache_control, metadata, last_modified, md5 FROM polycloud_objects WHERE key = ?`;

/** Etags compare without their quotes, so `abc` and `"abc"` name the same version. */
function sameEtag(a: string, b: string): boolean {
  return unquote(a) === unquote(b);
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}

/**
 * Opens the bucket folder `root` (created when missing). A path that is a file, a folder
 * holding files polycloud did not write, or a folder that cannot be written is refused with a
 * PolycloudError and left as it was.
 */
export async function openLocalBucket(root: string, lockTimeoutMs?: number): Promise<LocalBucketDriver> {
  const ctx: ErrorContext = { service: 'blob', operation: 'open', name: root };
  const fail = (code: 'INVALID_ARGUMENT' | 'PERMISSION_DENIED', why: string, cause?: unknown) =>
    pcError(code, `open blob "${root}": ${why}`, {
      provider: PROVIDER,
      service: 'blob',
      operation: 'open',
      resource: { name: root },
      retryable: false,
      ...(cause === undefined ? {} : { cause }),
    });
  const fsFail = (err: unknown, doing: string) => {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      return fail(
        'PERMISSION_DENIED',
        `cannot ${doing} (${code}); the folder must be writable by this process`,
        err,
      );
    }
    if (code === 'ENOTDIR' || code === 'EEXIST') {
      return fail(
        'INVALID_ARGUMENT',
        `a part of the path is a file, not a folder (${code}); point file:// at a folder`,
        err,
      );
    }
    return fail('INVALID_ARGUMENT', `cannot ${doing}: ${(err as Error).message}`, err);
  };
  const st = await stat(root).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw fsFail(err, 'look at the folder');
  });
  if (st && !st.isDirectory()) {
    throw fail(
      'INVALID_ARGUMENT',
      'the path is a file, not a folder; point file:// at a folder (it is created when missing)',
    );
  }
  if (!st) await mkdirp(root).catch((err) => Promise.reject(fsFail(err, 'create the folder')));
  const names = await readdir(root).catch((err) => Promise.reject(fsFail(err, 'read the folder')));
  const foreign = names.filter((n) => !LAYOUT.has(n));
  if (foreign.length > 0 && !names.includes(INDEX_FILE)) {
    throw fail(
      'INVALID_ARGUMENT',
      `the folder holds files polycloud did not write (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}); point file:// at a new or empty folder, so nothing of yours is mixed with the store`,
    );
  }
  for (const sub of ['objects', 'tmp']) {
    const p = join(root, sub);
    await mkdir(p, { recursive: true }).catch((err) => Promise.reject(fsFail(err, `create ${p}`)));
    // A planted link would send content outside the bucket folder.
    const l = await lstat(p);
    if (!l.isDirectory()) {
      throw fail(
        'INVALID_ARGUMENT',
        `${p} is not a plain folder (a symbolic link?); polycloud only writes inside the bucket folder`,
      );
    }
  }
  // Fail now, not on the first put, when the folder is read-only.
  const probe = join(root, 'tmp', `.probe-${newToken()}`);
  await open(probe, 'wx')
    .then(async (fh) => {
      await fh.close();
      await rm(probe, { force: true });
    })
    .catch((err) => Promise.reject(fsFail(err, `write in ${join(root, 'tmp')}`)));
  await removeStaleTemps(join(root, 'tmp'));
  const file = await SqliteFile.acquire(join(root, INDEX_FILE), ctx);
  return new LocalBucketDriver(root, file, lockTimeoutMs);
}

async function removeStaleTemps(dir: string): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  const cutoff = Date.now() - STALE_TEMP_MS;
  for (const e of entries) {
    if (!e.isFile()) continue;
    const p = join(dir, e.name);
    const s = await stat(p).catch(() => undefined);
    if (s && s.mtimeMs < cutoff) await rm(p, { force: true }).catch(() => {});
  }
}

/**
 * A bucket in a folder. Content lives in immutable files under `objects/` named by a random
 * id (so no key ever becomes a path); the key, headers, metadata and the content file's id
 * live in `index.db`. A put writes a temp file, fsyncs it, renames it into `objects/`, and
 * then commits the index row in one SQLite write transaction that also checks ifNoneMatch /
 * ifMatch, so conditional writes are atomic across processes and a reader never sees part
 * of an object.
 */
export class LocalBucketDriver implements BucketDriver<LocalBucketHandle> {
  readonly provider = PROVIDER;
  readonly capabilities = LOCAL_BUCKET_CAPABILITIES;
  private closed = false;

  /** @internal Use the open functions or the `local*` constructors. */
  constructor(
    readonly name: string,
    private readonly file: SqliteFile,
    private readonly lockTimeoutMs?: number,
  ) {}

  async put(key: string, body: NormalizedBody, opts: DriverPutOptions): Promise<BlobInfo> {
    const what = this.what('put', key);
    checkSignal(opts.signal, what);
    const id = newToken();
    const { size, md5 } = await this.writeContent(id, key, body, opts);
    const now = Date.now();
    let replaced: string | undefined;
    try {
      replaced = await this.file.write(this.ctx('put', key, opts.signal), () => {
        const current = this.row(key);
        this.checkWriteCondition(current, key, opts.ifNoneMatch, opts.ifMatch, 'put');
        this.upsert(key, {
          file: id,
          size,
          contentType: opts.contentType ?? DEFAULT_CONTENT_TYPE,
          contentEncoding: opts.contentEncoding,
          contentDisposition: opts.contentDisposition,
          cacheControl: opts.cacheControl,
          metadata: JSON.stringify(opts.metadata),
          lastModified: now,
          md5,
        });
        return current ? String(current.file) : undefined;
      });
    } catch (err) {
      await rm(this.objectPath(id), { force: true }).catch(() => {});
      throw err;
    }
    if (replaced !== undefined) await this.removeContent(replaced);
    return {
      key,
      size,
      etag: etagOf(id),
      contentType: opts.contentType ?? DEFAULT_CONTENT_TYPE,
      contentEncoding: opts.contentEncoding,
      contentDisposition: opts.contentDisposition,
      cacheControl: opts.cacheControl,
      metadata: { ...opts.metadata },
      lastModified: new Date(now),
      md5,
    };
  }

  async get(
    key: string,
    opts: DriverGetOptions,
  ): Promise<{ info: BlobInfo; body: ReadableStream<Uint8Array> }> {
    const r = await this.open(key, opts);
    return {
      info: r.info,
      body:
        r.body instanceof Uint8Array ? bytesStream(r.body) : fileStream(r.body.fh, r.body.start, r.body.end),
    };
  }

  /** The read as bytes (small reads) or a Node file stream: no Web stream in between. */
  async read(key: string, opts: DriverGetOptions): Promise<{ info: BlobInfo; body: DriverBody }> {
    const r = await this.open(key, opts);
    if (r.body instanceof Uint8Array) return { info: r.info, body: r.body };
    const { fh, start, end } = r.body;
    // autoClose: the handle is closed at the end, on an error, and when the stream is destroyed.
    return { info: r.info, body: fh.createReadStream({ start, end: end - 1, highWaterMark: READ_CHUNK }) };
  }

  /** Opens a read: bytes [start, end) already read when small, else the open file to stream. */
  private async open(
    key: string,
    opts: DriverGetOptions,
  ): Promise<{ info: BlobInfo; body: Uint8Array | { fh: FileHandle; start: number; end: number } }> {
    checkSignal(opts.signal, this.what('get', key));
    const { row, fh } = await this.openCurrent(key, 'get', opts.signal);
    const i = info(row);
    if (opts.ifMatch !== undefined && !sameEtag(i.etag, opts.ifMatch)) {
      await fh.close();
      throw this.error('PRECONDITION_FAILED', 'get', key, `its etag is ${i.etag}, not ${opts.ifMatch}`);
    }
    const start = Math.min(opts.range?.offset ?? 0, i.size);
    const end = opts.range?.length === undefined ? i.size : Math.min(i.size, start + opts.range.length);
    if (end - start <= READ_CHUNK) {
      // Small reads are done now, so no file stays open for a body the caller never reads.
      try {
        const buf = new Uint8Array(end - start);
        let got = 0;
        while (got < buf.byteLength) {
          const { bytesRead } = await fh.read(buf, got, buf.byteLength - got, start + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        return { info: i, body: buf.subarray(0, got) };
      } catch (err) {
        throw this.fsError(err, 'get', key);
      } finally {
        await fh.close().catch(() => {});
      }
    }
    return { info: i, body: { fh, start, end } };
  }

  /** The object's info without its content. */
  async head(key: string, opts: { signal: AbortSignal | undefined }): Promise<BlobInfo> {
    checkSignal(opts.signal, this.what('head', key));
    const row = await this.file.read(this.ctx('head', key, opts.signal), () => this.row(key));
    if (!row) throw this.error('NOT_FOUND', 'head', key, 'no such object');
    return info(row);
  }

  async delete(
    key: string,
    opts: { ifMatch: string | undefined; signal: AbortSignal | undefined },
  ): Promise<void> {
    checkSignal(opts.signal, this.what('delete', key));
    const removed = await this.file.write(this.ctx('delete', key, opts.signal), () => {
      const current = this.row(key);
      if (opts.ifMatch !== undefined) {
        if (!current) throw this.error('NOT_FOUND', 'delete', key, 'no such object');
        const etag = etagOf(String(current.file));
        if (!sameEtag(etag, opts.ifMatch)) {
          throw this.error('PRECONDITION_FAILED', 'delete', key, `its etag is ${etag}, not ${opts.ifMatch}`);
        }
      }
      if (!current) return undefined;
      this.file.sql('DELETE FROM polycloud_objects WHERE key = ?').run(utf8(key));
      return String(current.file);
    });
    if (removed !== undefined) await this.removeContent(removed);
  }

  async deleteMany(
    keys: readonly string[],
    opts: { signal: AbortSignal | undefined },
  ): Promise<readonly (PolycloudError | undefined)[]> {
    checkSignal(opts.signal, `deleteMany on blob "${this.name}"`);
    const removed = await this.file.write(this.ctx('deleteMany', undefined, opts.signal), () =>
      keys.flatMap((k) => {
        const current = this.row(k);
        if (!current) return [];
        this.file.sql('DELETE FROM polycloud_objects WHERE key = ?').run(utf8(k));
        return [String(current.file)];
      }),
    );
    for (const id of removed) await this.removeContent(id);
    return keys.map(() => undefined);
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
    const prefixBytes = utf8(prefix);
    const upper = prefixEnd(prefixBytes);
    // The cursor is the last key (k) or common prefix (p) returned, so keys present on both
    // sides of a page boundary are neither repeated nor skipped, whatever changed in between.
    let lower: Uint8Array = prefixBytes;
    if (opts.cursor !== undefined) {
      const from = decodeCursor(opts.cursor, ['k', 'p'], { service: 'blob', name: this.name });
      const b = utf8(from.key);
      const start = from.tag === 'p' ? prefixEnd(b) : after(b);
      if (Buffer.compare(start, lower) > 0) lower = start;
    }
    return this.file.read(this.ctx('list', undefined, opts.signal), () => {
      const items: BlobListItem[] = [];
      const prefixes: string[] = [];
      let last: { tag: 'k' | 'p'; key: string } | undefined;
      const page = this.file.sql(
        'SELECT key, file, size, last_modified FROM polycloud_objects WHERE key >= ? AND key < ? ORDER BY key LIMIT ?',
      );
      for (;;) {
        if (Buffer.compare(lower, upper) >= 0) return { items, prefixes };
        const rows = page.all(lowerBound(lower), upper, limit + 1);
        if (rows.length === 0) return { items, prefixes };
        let jumped = false;
        for (const r of rows) {
          if (items.length + prefixes.length >= limit) {
            return { items, prefixes, ...(last ? { cursor: encodeCursor(last.tag, last.key) } : {}) };
          }
          const key = fromUtf8(r.key as Uint8Array);
          if (delimiter !== undefined) {
            const at = key.indexOf(delimiter, prefix.length);
            if (at >= 0) {
              const common = key.slice(0, at + delimiter.length);
              prefixes.push(common);
              last = { tag: 'p', key: common };
              // Skip every key under the common prefix with one new query.
              lower = prefixEnd(utf8(common));
              jumped = true;
              break;
            }
          }
          items.push({
            key,
            size: num(r.size),
            etag: etagOf(String(r.file)),
            lastModified: new Date(num(r.last_modified)),
          });
          last = { tag: 'k', key };
          lower = after(r.key as Uint8Array);
        }
        if (!jumped && rows.length <= limit) return { items, prefixes };
      }
    });
  }

  async copy(
    src: string,
    dst: string,
    opts: { ifNoneMatch: '*' | undefined; ifMatch: string | undefined; signal: AbortSignal | undefined },
  ): Promise<BlobInfo> {
    checkSignal(opts.signal, this.what('copy', dst));
    const { row, fh } = await this.openCurrent(src, 'copy', opts.signal);
    const id = newToken();
    try {
      const srcEtag = etagOf(String(row.file));
      if (opts.ifMatch !== undefined && !sameEtag(srcEtag, opts.ifMatch)) {
        throw this.error(
          'PRECONDITION_FAILED',
          'copy',
          src,
          `the source's etag is ${srcEtag}, not ${opts.ifMatch}`,
        );
      }
      // Copy from the open handle: the source may be replaced meanwhile, and this copies the
      // version whose row was read.
      await this.writeContent(
        id,
        dst,
        { kind: 'stream', stream: fileStream(fh, 0, num(row.size)), size: num(row.size) },
        { signal: opts.signal, beforeCommit: () => {} },
      );
    } finally {
      await fh.close().catch(() => {});
    }
    const now = Date.now();
    let replaced: string | undefined;
    try {
      replaced = await this.file.write(this.ctx('copy', dst, opts.signal), () => {
        const current = this.row(dst);
        this.checkWriteCondition(current, dst, opts.ifNoneMatch, undefined, 'copy');
        this.upsert(dst, {
          file: id,
          size: num(row.size),
          contentType: optText(row.content_type),
          contentEncoding: optText(row.content_encoding),
          contentDisposition: optText(row.content_disposition),
          cacheControl: optText(row.cache_control),
          metadata: String(row.metadata),
          lastModified: now,
          md5: String(row.md5),
        });
        return current ? String(current.file) : undefined;
      });
    } catch (err) {
      await rm(this.objectPath(id), { force: true }).catch(() => {});
      throw err;
    }
    if (replaced !== undefined) await this.removeContent(replaced);
    return info({ ...row, key: utf8(dst), file: id, last_modified: now });
  }

  /** Releases the index database (shared with other drivers of this process). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.file.release();
  }

  /** The bucket folder and its index database. */
  native(): LocalBucketHandle {
    return {
      root: this.name,
      database: this.file.db,
      clear: async () => {
        const ids = await this.file.write(this.ctx('clear'), () => {
          const all = this.file.sql('SELECT file FROM polycloud_objects').all();
          this.file.sql('DELETE FROM polycloud_objects').run();
          return all.map((r) => String(r.file));
        });
        for (const id of ids) await this.removeContent(id);
      },
    };
  }

  /**
   * Streams the body into `tmp/<id>`, fsyncs it and renames it to `objects/<xx>/<id>`. The
   * file is not referenced by the index yet, so nothing is visible; on failure it is removed.
   */
  private async writeContent(
    id: string,
    key: string,
    body: NormalizedBody,
    opts: { signal: AbortSignal | undefined; beforeCommit: () => void },
  ): Promise<{ size: number; md5: string }> {
    const what = this.what('put', key);
    const tmp = join(this.name, 'tmp', id);
    const hash = createHash('md5');
    let size = 0;
    let fh: FileHandle | undefined;
    try {
      fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW, 0o644);
      if (body.kind === 'bytes') {
        hash.update(body.data);
        size = body.data.byteLength;
        await fh.write(body.data);
      } else {
        const reader = body.stream.getReader();
        try {
          for (;;) {
            checkSignal(opts.signal, what);
            const { done, value } = await reader.read();
            if (done) break;
            size += value.byteLength;
            if (size > MAX_OBJECT_BYTES) {
              throw this.error(
                'PAYLOAD_TOO_LARGE',
                'put',
                key,
                `the body is over the limit of ${MAX_OBJECT_BYTES} bytes`,
              );
            }
            hash.update(value);
            await fh.write(value);
          }
        } catch (err) {
          await reader.cancel(err).catch(() => {});
          throw err;
        }
        opts.beforeCommit();
      }
      checkSignal(opts.signal, what);
      await fh.sync();
      await fh.close();
      fh = undefined;
      const dir = join(this.name, 'objects', id.slice(0, 2));
      await mkdir(dir, { recursive: true });
      await rename(tmp, this.objectPath(id));
      await syncDir(dir);
      return { size, md5: hash.digest('base64') };
    } catch (err) {
      await fh?.close().catch(() => {});
      await rm(tmp, { force: true }).catch(() => {});
      throw this.fsError(err, 'put', key);
    }
  }

  /**
   * Reads the index row and opens its content file. A concurrent replace may delete the file
   * between the two steps; then the row is read again (an open file stays readable on POSIX).
   */
  private async openCurrent(
    key: string,
    op: string,
    signal: AbortSignal | undefined,
  ): Promise<{ row: Row; fh: FileHandle }> {
    for (let attempt = 0; ; attempt++) {
      const row = await this.file.read(this.ctx(op, key, signal), () => this.row(key));
      if (!row) throw this.error('NOT_FOUND', op, key, 'no such object');
      try {
        const fh = await open(this.objectPath(String(row.file)), constants.O_RDONLY | NOFOLLOW);
        return { row, fh };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 10)
          throw this.fsError(err, op, key);
      }
    }
  }

  private async removeContent(id: string): Promise<void> {
    // A reader holding the file open keeps reading it; where the OS refuses (Windows), the
    // file stays behind unreferenced, which wastes space but is never visible.
    await rm(this.objectPath(id), { force: true }).catch(() => {});
  }

  private objectPath(id: string): string {
    return join(this.name, 'objects', id.slice(0, 2), id);
  }

  private row(key: string): Row | undefined {
    return this.file.sql(SELECT_OBJECT).get(utf8(key));
  }

  private upsert(
    key: string,
    o: {
      file: string;
      size: number;
      contentType: string | undefined;
      contentEncoding: string | undefined;
      contentDisposition: string | undefined;
      cacheControl: string | undefined;
      metadata: string;
      lastModified: number;
      md5: string;
    },
  ): void {
    this.file
      .sql(
        `INSERT OR REPLACE INTO polycloud_objects (key, file, size, content_type, content_encoding,
           content_disposition, cache_control, metadata, last_modified, md5)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        utf8(key),
        o.file,
        o.size,
        o.contentType ?? null,
        o.contentEncoding ?? null,
        o.contentDisposition ?? null,
        o.cacheControl ?? null,
        o.metadata,
        o.lastModified,
        o.md5,
      );
  }

  private checkWriteCondition(
    current: Row | undefined,
    key: string,
    ifNoneMatch: '*' | undefined,
    ifMatch: string | undefined,
    op: string,
  ) {
    if (ifNoneMatch === '*' && current) {
      throw this.error(
        'PRECONDITION_FAILED',
        op,
        key,
        'it already exists and ifNoneMatch is "*"; nothing was written',
      );
    }
    if (ifMatch !== undefined) {
      if (!current) {
        throw this.error(
          'PRECONDITION_FAILED',
          op,
          key,
          `it does not exist, so it cannot match ifMatch ${ifMatch}`,
        );
      }
      const etag = etagOf(String(current.file));
      if (!sameEtag(etag, ifMatch)) {
        throw this.error(
          'PRECONDITION_FAILED',
          op,
          key,
          `its etag is ${etag}, not ${ifMatch}; nothing was written`,
        );
      }
    }
  }

  private fsError(err: unknown, op: string, key: string): PolycloudError {
    if (isPolycloudError(err)) return err;
    const code = (err as NodeJS.ErrnoException).code;
    const denied = code === 'EACCES' || code === 'EPERM' || code === 'EROFS';
    const full = code === 'ENOSPC' || code === 'EDQUOT';
    return pcError(
      denied ? 'PERMISSION_DENIED' : full ? 'UNAVAILABLE' : 'INTERNAL',
      `${this.what(op, key)}: ${(err as Error).message}; ${denied ? 'the bucket folder must be writable by this process' : full ? 'the disk is full; free space and retry' : 'the file system refused the operation'}. Nothing was changed`,
      {
        provider: PROVIDER,
        service: 'blob',
        operation: op,
        resource: { name: this.name, key },
        retryable: false,
        cause: err,
      },
    );
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

  private ctx(operation: string, key?: string, signal?: AbortSignal): ErrorContext {
    return { service: 'blob', operation, name: this.name, key, lockTimeoutMs: this.lockTimeoutMs, signal };
  }
}

function etagOf(id: string): string {
  return `"${id}"`;
}

function info(row: Row): BlobInfo {
  return {
    key: fromUtf8(row.key as Uint8Array),
    size: num(row.size),
    etag: etagOf(String(row.file)),
    contentType: optText(row.content_type),
    contentEncoding: optText(row.content_encoding),
    contentDisposition: optText(row.content_disposition),
    cacheControl: optText(row.cache_control),
    metadata: JSON.parse(String(row.metadata)) as Record<string, string>,
    lastModified: new Date(num(row.last_modified)),
    md5: String(row.md5),
  };
}

/** Makes a rename durable: fsync the folder that holds the new name (not possible on Windows). */
async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Windows cannot open folders; NTFS journals the rename itself.
  } finally {
    await fh?.close().catch(() => {});
  }
}

function bytesStream(data: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(c) {
      if (data.byteLength > 0) c.enqueue(data);
      c.close();
    },
  });
}

/** A stream of bytes [start, end) of an open file; the handle is closed at the end or on cancel. */
function fileStream(fh: FileHandle, start: number, end: number): ReadableStream<Uint8Array> {
  let pos = start;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await fh.close().catch(() => {});
  };
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      if (pos >= end) {
        await close();
        c.close();
        return;
      }
      const n = Math.min(READ_CHUNK, end - pos);
      const buf = new Uint8Array(n);
      const { bytesRead } = await fh.read(buf, 0, n, pos);
      if (bytesRead === 0) {
        await close();
        c.error(new Error(`content file ended at ${pos} of ${end} bytes`));
        return;
      }
      pos += bytesRead;
      c.enqueue(bytesRead === n ? buf : buf.subarray(0, bytesRead));
      if (pos >= end) {
        await close();
        c.close();
      }
    },
    async cancel() {
      await close();
    },
  });
}
