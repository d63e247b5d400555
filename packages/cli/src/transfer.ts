import { basename } from 'node:path';
import cliProgress from 'cli-progress';
import {
  childOf,
  headOf,
  type Location,
  openRead,
  resolveLocation,
  type SourceEntry,
  walk,
  writeTo,
} from './location.js';
import { CliError, color, describeFailure, formatBytes, mapLimit, note, say } from './util.js';

export interface TransferOptions {
  readonly recursive: boolean;
  /** sync: skip objects that are already the same at the destination. */
  readonly skipSame: boolean;
  readonly dryRun: boolean;
  readonly parallel: number;
  readonly partSize: number;
  readonly concurrency: number;
  readonly progress: boolean;
  readonly json: boolean;
}

export interface TransferSummary {
  copied: number;
  skipped: number;
  failed: number;
  bytes: number;
  seconds: number;
}

const MD5_ETAG = /^"?[0-9a-f]{32}"?$/i;

/**
 * Whether the destination already holds the same object: same size and, when both etags are
 * plain MD5 digests (single-part S3, GCS, memory), the same etag; otherwise a destination at
 * least as new as the source. Providers compute etags differently, so only MD5 ones compare.
 */
export function sameObject(src: SourceEntry, dst: SourceEntry | undefined): boolean {
  if (!dst || dst.size !== src.size) return false;
  if (src.md5 && dst.md5) return src.md5 === dst.md5;
  if (src.etag && dst.etag && MD5_ETAG.test(src.etag) && MD5_ETAG.test(dst.etag))
    return src.etag.replaceAll('"', '').toLowerCase() === dst.etag.replaceAll('"', '').toLowerCase();
  return dst.lastModified.getTime() >= src.lastModified.getTime();
}

/** Counts bytes as they stream through, for the progress bar. */
function counting(
  body: ReadableStream<Uint8Array>,
  onBytes: (n: number) => void,
): ReadableStream<Uint8Array> {
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctl) {
        onBytes(chunk.byteLength);
        ctl.enqueue(chunk);
      },
    }),
  );
}

/** cp and sync: copies objects between any two locations, streaming, with bounded parallelism. */
export async function transfer(
  srcArg: string,
  dstArg: string,
  opts: TransferOptions,
): Promise<TransferSummary> {
  const src = await resolveLocation(srcArg);
  const dst = await resolveLocation(dstArg);
  const started = Date.now();
  const sum: TransferSummary = { copied: 0, skipped: 0, failed: 0, bytes: 0, seconds: 0 };

  // One object, named exactly (cp without --recursive).
  if (!opts.recursive) {
    let target = dst;
    if (dst.kind === 'bucket' && (dst.key === '' || dst.key.endsWith('/')))
      target = childOf(dst, srcBase(src));
    else if (dst.kind === 'fs' && (dstArg.endsWith('/') || (await isDir(dst.path))))
      target = childOf(dst, srcBase(src));
    if (opts.dryRun) {
      say(`would copy ${src.display} -> ${describe(target)}`);
      return sum;
    }
    const entry = src.kind === 'stdio' ? undefined : await headOf(src);
    if (src.kind !== 'stdio' && !entry)
      throw new CliError('NOT_FOUND', `${src.display} does not exist`, 'check the key with `polycloud ls`');
    const r = await openRead(src);
    let n = 0;
    await writeTo(
      target,
      counting(r.body, (b) => (n += b)),
      r.headers,
      {
        size: entry?.size,
        partSize: opts.partSize,
        concurrency: opts.concurrency,
      },
    );
    sum.copied = 1;
    sum.bytes = n;
    sum.seconds = (Date.now() - started) / 1000;
    if (target.kind !== 'stdio') note(`copied ${src.display} -> ${describe(target)} (${formatBytes(n)})`);
    return sum;
  }

  if (src.kind === 'stdio' || dst.kind === 'stdio')
    throw new CliError(
      'INVALID_ARGUMENT',
      'a recursive copy needs a directory or bucket on both sides',
      undefined,
    );

  const bar =
    opts.progress && !opts.dryRun
      ? new cliProgress.SingleBar(
          {
            format: `{bar} {percentage}% | {done}/{objects} objects | {moved} | {rate}/s | ETA {eta_formatted}`,
            hideCursor: true,
            stream: process.stderr,
            etaBuffer: 50,
            fps: 5,
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  let objects = 0;
  let done = 0;
  let moved = 0;
  let total = 0;
  const payload = () => ({
    objects,
    done,
    moved: formatBytes(moved),
    rate: formatBytes(moved / Math.max(0.001, (Date.now() - started) / 1000)),
  });
  bar?.start(1, 0, payload());

  await mapLimit(walk(src), opts.parallel, async (entry) => {
    objects++;
    total += entry.size;
    bar?.setTotal(Math.max(1, total));
    const from = childOf(src, entry.rel);
    const to = childOf(dst, entry.rel);
    try {
      if (opts.skipSame && sameObject(entry, await headOf(to))) {
        sum.skipped++;
        if (!bar && !opts.dryRun) line(opts, 'skip', from, to, entry.size);
        moved += 0;
        return;
      }
      if (opts.dryRun) {
        line(opts, 'would copy', from, to, entry.size);
        sum.copied++;
        return;
      }
      const r = await openRead(from);
      let n = 0;
      await writeTo(
        to,
        counting(r.body, (b) => {
          n += b;
          moved += b;
          bar?.update(moved, payload());
        }),
        r.headers,
        { size: entry.size, partSize: opts.partSize, concurrency: opts.concurrency },
      );
      sum.copied++;
      sum.bytes += n;
      if (!bar) line(opts, 'copied', from, to, n);
    } catch (err) {
      sum.failed++;
      const f = describeFailure(err);
      bar?.stop();
      note(
        `${color.red('failed')} ${from.display === src.display ? describe(from) : describe(from)}: ${f.line}`,
      );
    } finally {
      done++;
      bar?.update(moved, payload());
    }
  });
  bar?.update(Math.max(1, total), payload());
  bar?.stop();
  sum.seconds = (Date.now() - started) / 1000;
  return sum;
}

function line(opts: TransferOptions, what: string, from: Location, to: Location, size: number): void {
  if (opts.json) say(JSON.stringify({ action: what, from: describe(from), to: describe(to), size }));
  else say(`${what} ${describe(from)} -> ${describe(to)} (${formatBytes(size)})`);
}

/** A location as printed: URL scheme and bucket plus key, or the file path. */
export function describe(loc: Location): string {
  if (loc.kind === 'bucket') return `${loc.url.protocol}//${loc.url.hostname}/${loc.key}`;
  if (loc.kind === 'fs') return loc.path;
  return '-';
}

function srcBase(src: Location): string {
  if (src.kind === 'bucket') return src.key.split('/').filter(Boolean).pop() ?? 'object';
  if (src.kind === 'fs') return basename(src.path);
  return 'stdin';
}

async function isDir(path: string): Promise<boolean> {
  const { stat } = await import('node:fs/promises');
  return (await stat(path).catch(() => undefined))?.isDirectory() === true;
}

/** The summary line printed after cp/sync. */
export function summaryLine(s: TransferSummary, dryRun: boolean): string {
  const rate = s.seconds > 0 ? `, ${formatBytes(s.bytes / s.seconds)}/s` : '';
  return `${dryRun ? 'would copy' : 'copied'} ${s.copied}, skipped ${s.skipped}, failed ${s.failed}: ${formatBytes(s.bytes)} in ${s.seconds.toFixed(1)} s${rate}`;
}
