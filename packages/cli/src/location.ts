import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { type BlobInfo, type Bucket, openBucket, type PutOptions } from '@polycloud/core';
import { CliError, parseUrl, schemeOf } from './util.js';

/**
 * Where data commands read and write: a bucket plus a key or prefix (`s3://bucket/some/prefix/`),
 * or a path on this machine (`./dir`, `/tmp/x`, `file:///tmp/x`; `-` is stdin/stdout).
 */
export type Location =
  | {
      readonly kind: 'bucket';
      readonly bucket: Bucket;
      readonly key: string;
      readonly url: URL;
      readonly display: string;
    }
  | { readonly kind: 'fs'; readonly path: string; readonly display: string }
  | { readonly kind: 'stdio'; readonly display: '-' };

/** `s3://b/a/b.txt?region=x` → bucket URL `s3://b?region=x` and key `a/b.txt`. */
export function splitBucketUrl(url: URL): { bucketUrl: string; key: string } {
  const key = decodeURIComponent(url.pathname.replace(/^\//, ''));
  const b = new URL(url.href);
  b.pathname = '';
  b.hash = '';
  // new URL keeps a trailing "/" for special schemes; remove it so adapters see a bare name.
  return { bucketUrl: b.href.replace(/^([a-z0-9]+:\/\/[^/?#]*)\/(?=\?|$)/, '$1'), key };
}

/** Resolves a command argument to a Location (opens the bucket; no network I/O yet). */
export async function resolveLocation(arg: string): Promise<Location> {
  if (arg === '-') return { kind: 'stdio', display: '-' };
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(arg)) return { kind: 'fs', path: resolve(arg), display: arg };
  const url = parseUrl(arg);
  if (schemeOf(url) === 'file' && !process.env.POLYCLOUD_FILE_VIA_LOCAL) {
    // Plain files: the CLI reads and writes them itself, as `aws s3 cp` does; no adapter needed.
    return { kind: 'fs', path: fileURLToPath(url), display: arg };
  }
  const { bucketUrl, key } = splitBucketUrl(url);
  const bucket = await openBucket(bucketUrl);
  return { kind: 'bucket', bucket, key, url, display: arg };
}

/** One object to copy, from a bucket or a file. */
export interface SourceEntry {
  /** Path relative to the source root ("" for a single object named exactly). */
  readonly rel: string;
  readonly size: number;
  readonly etag?: string | undefined;
  readonly md5?: string | undefined;
  readonly lastModified: Date;
}

/** Lists every object under a location (recursive). */
export async function* walk(loc: Location): AsyncIterable<SourceEntry> {
  if (loc.kind === 'stdio') throw new CliError('INVALID_ARGUMENT', 'cannot list stdin', 'name a file or URL');
  if (loc.kind === 'bucket') {
    const prefix = loc.key === '' || loc.key.endsWith('/') ? loc.key : `${loc.key}/`;
    for await (const item of loc.bucket.entries({ prefix })) {
      yield {
        rel: item.key.slice(prefix.length),
        size: item.size,
        etag: item.etag,
        lastModified: item.lastModified,
      };
    }
    return;
  }
  const root = loc.path;
  const top = await stat(root).catch(() => undefined);
  if (!top?.isDirectory())
    throw new CliError(
      top ? 'INVALID_ARGUMENT' : 'NOT_FOUND',
      `${loc.display} ${top ? 'is not a folder' : 'does not exist'}`,
      top ? 'copy one file with `polycloud cp` (no --recursive)' : 'check the path',
    );
  async function* rec(dir: string): AsyncIterable<SourceEntry> {
    const names = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const d of names) {
      const p = join(dir, d.name);
      if (d.isDirectory()) yield* rec(p);
      else if (d.isFile()) {
        const s = await stat(p);
        yield { rel: relative(root, p).split(sep).join('/'), size: s.size, lastModified: s.mtime };
      }
    }
  }
  yield* rec(root);
}

/** The key or path for `rel` under a location root. */
export function childOf(loc: Location, rel: string): Location {
  if (loc.kind === 'bucket') {
    const key =
      rel === ''
        ? loc.key
        : loc.key === '' || loc.key.endsWith('/')
          ? `${loc.key}${rel}`
          : `${loc.key}/${rel}`;
    return { ...loc, key };
  }
  if (loc.kind === 'fs') return { ...loc, path: rel === '' ? loc.path : join(loc.path, ...rel.split('/')) };
  return loc;
}

/** Headers and metadata that travel with an object. */
export type Headers = Pick<
  PutOptions,
  'contentType' | 'contentEncoding' | 'contentDisposition' | 'cacheControl' | 'metadata'
>;

/** What `head` finds at a destination, for skip-if-same. */
export async function headOf(loc: Location): Promise<SourceEntry | undefined> {
  if (loc.kind === 'bucket') {
    const info = await loc.bucket.head(loc.key).catch((err: { code?: string }) => {
      if (err?.code === 'NOT_FOUND') return undefined;
      throw err;
    });
    return (
      info && { rel: '', size: info.size, etag: info.etag, md5: info.md5, lastModified: info.lastModified }
    );
  }
  if (loc.kind === 'fs') {
    const s = await stat(loc.path).catch(() => undefined);
    return s?.isFile() ? { rel: '', size: s.size, lastModified: s.mtime } : undefined;
  }
  return undefined;
}

/** Opens an object for reading: a Web stream plus what travels with it. */
export async function openRead(
  loc: Location,
): Promise<{ body: ReadableStream<Uint8Array>; info: Partial<BlobInfo>; headers: Headers }> {
  if (loc.kind === 'bucket') {
    const r = await loc.bucket.get(loc.key);
    const i = r.info;
    const headers: Headers = {
      ...(i.contentType !== undefined ? { contentType: i.contentType } : {}),
      ...(i.contentEncoding !== undefined ? { contentEncoding: i.contentEncoding } : {}),
      ...(i.contentDisposition !== undefined ? { contentDisposition: i.contentDisposition } : {}),
      ...(i.cacheControl !== undefined ? { cacheControl: i.cacheControl } : {}),
      ...(Object.keys(i.metadata).length > 0 ? { metadata: i.metadata } : {}),
    };
    return { body: r.body, info: i, headers };
  }
  const stream = loc.kind === 'fs' ? createReadStream(loc.path) : process.stdin;
  return { body: Readable.toWeb(stream) as ReadableStream<Uint8Array>, info: {}, headers: {} };
}

/** Writes a stream to a location, with headers where the destination can hold them. */
export async function writeTo(
  loc: Location,
  body: ReadableStream<Uint8Array>,
  headers: Headers,
  opts: { size?: number | undefined; partSize: number; concurrency: number },
): Promise<void> {
  if (loc.kind === 'bucket') {
    const caps = loc.bucket.capabilities;
    const put: PutOptions = {
      partSize: opts.partSize,
      concurrency: opts.concurrency,
      ...(headers.contentType !== undefined ? { contentType: headers.contentType } : {}),
      ...(headers.contentEncoding !== undefined && caps.contentEncoding
        ? { contentEncoding: headers.contentEncoding }
        : {}),
      ...(headers.contentDisposition !== undefined && caps.contentDisposition
        ? { contentDisposition: headers.contentDisposition }
        : {}),
      ...(headers.cacheControl !== undefined && caps.cacheControl
        ? { cacheControl: headers.cacheControl }
        : {}),
      ...(headers.metadata !== undefined && caps.metadata ? { metadata: headers.metadata } : {}),
    };
    // Small objects go up in one request; bigger ones stream in parts (memory ≈ partSize × concurrency).
    if (opts.size !== undefined && opts.size <= opts.partSize) {
      const bytes = new Uint8Array(await new Response(body).arrayBuffer());
      await loc.bucket.put(loc.key, bytes, put);
    } else await loc.bucket.put(loc.key, body, put);
    return;
  }
  if (loc.kind === 'fs') await mkdir(dirname(loc.path), { recursive: true });
  const out = loc.kind === 'fs' ? createWriteStream(loc.path) : process.stdout;
  await pipeline(Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>), out, {
    end: loc.kind === 'fs',
  });
}
