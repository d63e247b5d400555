/**
 * `@polycloud/core/kv`: the KvStore alone, for code (and adapters) that use no bucket or
 * queue; importing it does not load them. `@polycloud/core` exports the same names.
 */
export { KvStore, type KvStoreOptions } from './kvstore.js';
export type * from './types.js';
