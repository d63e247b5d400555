import type { DriverPutOptions } from '../blob/driver.js';
import type { BlobInfo } from '../blob/types.js';
import { isPolycloudError, type PolycloudError, pcError } from '../errors.js';
import { backoffDelay, DEFAULT_RETRY, type RetryPolicy, withRetry } from '../internal/retry.js';
import { sleep } from '../internal/signal.js';
import { uploadParts } from '../parts.js';
import type { Probe } from './outcome.js';

const MiB = 1024 * 1024;

/** A service's multipart limits. */
export interface MultipartLimits {
  /** Smallest part the service accepts (the last part may be smaller). */
  readonly minPartBytes: number;
  /** Largest part. */
  readonly maxPartBytes: number;
  /** Most parts in one upload (S3 10,000; Azure 50,000 blocks). */
  readonly maxParts: number;
}

/**
 * What a driver supplies for a multipart upload: the service calls and its limits. The kit runs
 * the flow (precondition check, part sizing, bounded-memory parallel parts, per-part retries,
 * checksum gate, conditional commit, abort on failure) the same way for every service.
 */
export interface MultipartTarget<Upload, Part> {
  readonly limits: MultipartLimits;
  /**
   * Fails fast on ifNoneMatch / ifMatch before any part is sent. The commit carries the same
   * condition, which is what makes the upload atomic; this only saves the bytes.
   */
  precheck?(signal: AbortSignal | undefined): Promise<void>;
  /** Starts the upload (S3 CreateMultipartUpload; nothing for Azure blocks). */
  create(signal: AbortSignal | undefined): Promise<Upload>;
  /**
   * Uploads part `partNumber` (1-based). Idempotent: the kit retries it from its buffered bytes.
   * `part` is lent: once the returned promise resolves the kit fills the next part into the same
   * buffer, so send the bytes, never keep them.
   */
  uploadPart(upload: Upload, part: Uint8Array, partNumber: number, signal: AbortSignal): Promise<Part>;
  /** Commits the parts in order, with the caller's condition. */
  complete(
    upload: Upload,
    parts: Part[],
    totalBytes: number,
    signal: AbortSignal | undefined,
  ): Promise<BlobInfo>;
  /**
   * After a commit whose answer was lost (`outcomeUnknown`): whether it landed. Without it such a
   * commit is reported as outcome-unknown; with it the kit returns the landed result, or commits
   * again when the upload is provably still open.
   */
  confirm?(upload: Upload, signal: AbortSignal | undefined): Promise<Probe<BlobInfo>>;
  /** Best effort clean-up after a failure (not tied to the caller's signal). */
  abort?(upload: Upload): Promise<void>;
  /** The driver's error wrapper: native error → PolycloudError. */
  error(err: unknown): PolycloudError;
  /** Upload one empty part for an empty stream (S3 needs a part to complete). Default true. */
  readonly emptyPart?: boolean;
}

/** Where the upload goes, for messages. */
export interface MultipartSite {
  readonly provider: string;
  readonly name: string;
  readonly key: string;
}

/**
 * The one policy for part sizes: the caller's partSize, raised to the service minimum; when a
 * known size would need more than `maxParts` parts, raised to the smallest whole MiB that fits
 * (up to `maxPartBytes`). A stream of unknown length that runs past `maxParts` fails with
 * PAYLOAD_TOO_LARGE before the extra part is sent.
 */
export function choosePartSize(requested: number, size: number | undefined, limits: MultipartLimits): number {
  let partSize = Math.max(requested, limits.minPartBytes);
  if (size !== undefined && Math.ceil(size / partSize) > limits.maxParts) {
    partSize = Math.min(limits.maxPartBytes, Math.ceil(size / limits.maxParts / MiB) * MiB);
  }
  return partSize;
}

/**
 * Runs a multipart upload of `stream` through a driver's `target`.
 *
 * @example
 * return multipartUpload(stream, size, opts, {
 *   limits: { minPartBytes: 5 << 20, maxPartBytes: 5 << 30, maxParts: 10_000 },
 *   create: async () => (await s3.createMultipartUpload(...)).UploadId,
 *   uploadPart: async (id, part, n, signal) => ({ PartNumber: n, ETag: (await s3.uploadPart(...)).ETag }),
 *   complete: (id, parts, total) => s3.completeMultipartUpload(...),
 *   abort: (id) => s3.abortMultipartUpload(...),
 *   error: (err) => mapS3Error(err),
 * }, { provider: 'aws', name: bucket, key });
 */
export async function multipartUpload<Upload, Part>(
  stream: ReadableStream<Uint8Array>,
  size: number | undefined,
  opts: DriverPutOptions & { readonly retry?: RetryPolicy | undefined },
  target: MultipartTarget<Upload, Part>,
  site: MultipartSite,
): Promise<BlobInfo> {
  const partSize = choosePartSize(opts.partSize, size, target.limits);
  const { maxParts } = target.limits;
  const tooLarge = (what: string) =>
    pcError(
      'PAYLOAD_TOO_LARGE',
      `put on blob "${site.name}" key "${site.key}" (${site.provider}): ${what} is over the ${maxParts} parts this service allows; pass a larger partSize`,
      {
        provider: site.provider,
        service: 'blob',
        operation: 'put',
        resource: { name: site.name, key: site.key },
        retryable: false,
      },
    );
  const policy = opts.retry ?? DEFAULT_RETRY;
  const what = `put on blob "${site.name}" key "${site.key}"`;
  // The precheck reads, and a created upload that lost its answer is only an orphan the
  // service (or a lifecycle rule) cleans up: both are retried like any idempotent call.
  const retried = <T>(fn: () => Promise<T>) =>
    withRetry(
      () =>
        fn().catch((err: unknown) => {
          throw wrap(target, err);
        }),
      { policy, signal: opts.signal, what },
    );
  let upload: Upload;
  try {
    if (size !== undefined && Math.ceil(size / partSize) > maxParts)
      throw tooLarge(`${size} bytes in parts of ${partSize}`);
    if (target.precheck) await retried(() => target.precheck!(opts.signal));
    upload = await retried(() => target.create(opts.signal));
  } catch (err) {
    await stream.cancel(err).catch(() => {});
    throw wrap(target, err);
  }
  try {
    const { results, totalBytes } = await uploadParts(
      stream,
      {
        partSize,
        concurrency: opts.concurrency,
        signal: opts.signal,
        emptyPart: target.emptyPart !== false,
        // Parts are sent, not kept: at most concurrency + 1 part buffers for the whole upload.
        reuseBuffers: true,
      },
      (part, n, signal) => {
        if (n > maxParts) throw tooLarge('the stream');
        // A part is buffered, so it can be sent again: the kit, not the SDK, retries it.
        return withRetry(
          () =>
            target.uploadPart(upload, part, n, signal).catch((err: unknown) => {
              throw wrap(target, err);
            }),
          { policy, signal, what: `${what} part ${n}` },
        );
      },
    );
    opts.beforeCommit();
    if (opts.signal?.aborted) throw opts.signal.reason;
    return await commit(target, upload, results, totalBytes, opts.signal, policy, what);
  } catch (err) {
    await target.abort?.(upload).catch(() => {});
    throw wrap(target, err);
  }
}

/**
 * Commits, retrying what provably did not land. A commit whose answer was lost is settled by
 * the driver's `confirm` (never re-sent blindly: a conditional commit that landed would then
 * fail its own condition and report "nothing written").
 */
async function commit<U, P>(
  target: MultipartTarget<U, P>,
  upload: U,
  parts: P[],
  totalBytes: number,
  signal: AbortSignal | undefined,
  policy: RetryPolicy,
  what: string,
): Promise<BlobInfo> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await target.complete(upload, parts, totalBytes, signal);
    } catch (err) {
      const e = wrap(target, err);
      if (!e.retryable || attempt >= policy.maxAttempts || signal?.aborted) throw e;
      if (e.outcomeUnknown) {
        if (!target.confirm) throw e;
        const found = await target.confirm(upload, signal).catch(() => 'unknown' as const);
        if (found === 'unknown') throw e;
        if (found !== 'not-applied') return found.applied;
      }
      await sleep(backoffDelay(policy, attempt), signal, what);
    }
  }
}

function wrap<U, P>(target: MultipartTarget<U, P>, err: unknown): PolycloudError {
  return isPolycloudError(err) ? err : target.error(err);
}
