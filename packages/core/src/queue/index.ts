/**
 * `@polycloud/core/queue`: the Queue alone, for code (and adapters) that use no bucket or
 * key-value store; importing it does not load them. `@polycloud/core` exports the same names.
 */
export { bytesCodec, type Codec, jsonCodec, textCodec } from './codec.js';
export type { ConsumeOptions, Consumer, MessageHandler } from './consumer.js';
export { Queue, type QueueOptions } from './queue.js';
export type * from './types.js';
