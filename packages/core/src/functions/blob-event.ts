import { invalidArgument } from '../errors.js';
import type { FunctionContext } from './context.js';

/** A change to an object in a bucket, as every platform reports it. */
export interface BlobEvent {
  readonly type: 'created' | 'deleted';
  readonly bucket: string;
  /** The portable key, decoded (S3's URL encoding, Azure's name encoding undone). */
  readonly key: string;
  /** Bytes, where the event says (deletions usually do not). */
  readonly size: number | undefined;
  readonly etag: string | undefined;
  readonly time: Date;
}

/** A throw makes the platform retry the event (where it retries). */
export type BlobEventHandler = (event: BlobEvent, ctx: FunctionContext) => void | Promise<void>;

/** A portable blob-event function; bind it with a platform binding or `serve()`. */
export interface BlobEventFunction {
  readonly kind: 'blob';
  readonly handler: BlobEventHandler;
}

/**
 * Declares a blob-event function.
 *
 * @example
 * export const onUpload = blobEventFunction(async (ev) => { if (ev.type === 'created') await index(ev.key) });
 */
export function blobEventFunction(handler: BlobEventHandler): BlobEventFunction {
  if (typeof handler !== 'function')
    throw invalidArgument('blobEventFunction: handler must be a function', { service: 'functions' });
  return { kind: 'blob', handler };
}
