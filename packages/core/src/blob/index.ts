/**
 * `@polycloud/core/blob`: the Bucket alone, for code (and adapters) that use no queue or
 * key-value store; importing it does not load them. `@polycloud/core` exports the same names.
 */

export type { BodyInput } from '../body.js';
export { type BlobReader, Bucket, type BucketOptions } from './bucket.js';
export type * from './types.js';
