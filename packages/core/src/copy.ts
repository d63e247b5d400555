import type { Bucket } from './blob/bucket.js';
import type { BlobInfo, PutOptions, ReadEncryption } from './blob/types.js';

/**
 * Streams an object from one bucket to another, across providers, with bounded memory.
 * Content headers and metadata travel with it; encryption does not: pass `sourceEncryption`
 * to read a customer-keyed source and `encryption` for the destination (each bucket's
 * default applies otherwise).
 *
 * @example
 * await copyBetween(s3Bucket, 'a.bin', gcsBucket, 'a.bin');
 */
export async function copyBetween(
  src: Bucket,
  srcKey: string,
  dst: Bucket,
  dstKey: string,
  opts: Pick<PutOptions, 'ifNoneMatch' | 'signal' | 'partSize' | 'concurrency' | 'encryption'> & {
    /** The customer key the source was written with. */
    readonly sourceEncryption?: ReadEncryption;
  } = {},
): Promise<BlobInfo> {
  const { sourceEncryption, ...rest } = opts;
  const r = await src.get(srcKey, {
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(sourceEncryption === undefined ? {} : { encryption: sourceEncryption }),
  });
  const i = r.info;
  const put: PutOptions = {
    ...rest,
    ...(i.contentType !== undefined ? { contentType: i.contentType } : {}),
    ...(i.contentEncoding !== undefined && dst.capabilities.contentEncoding
      ? { contentEncoding: i.contentEncoding }
      : {}),
    ...(i.contentDisposition !== undefined && dst.capabilities.contentDisposition
      ? { contentDisposition: i.contentDisposition }
      : {}),
    ...(i.cacheControl !== undefined && dst.capabilities.cacheControl
      ? { cacheControl: i.cacheControl }
      : {}),
    ...(Object.keys(i.metadata).length > 0 && dst.capabilities.metadata ? { metadata: i.metadata } : {}),
  };
  return dst.put(dstKey, r.body, put);
}
