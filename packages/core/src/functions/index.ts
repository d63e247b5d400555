export {
  type BlobEvent,
  type BlobEventFunction,
  type BlobEventHandler,
  blobEventFunction,
} from './blob-event.js';
export {
  abortMargin,
  type ContextInit,
  consoleLogger,
  createFunctionContext,
  type FunctionContext,
  type FunctionLogger,
} from './context.js';
export {
  type CronSpec,
  cronMatches,
  nextCronTime,
  parseCron,
  toEventBridgeCron,
  toNcrontab,
  toUnixCron,
} from './cron.js';
export { type HttpFunction, type HttpHandler, httpFunction, invokeHttp } from './http.js';
export { isTextBody, methodHasBody, type ResponseParts, responseParts } from './http-parts.js';
export { describeEvent, invalidEvent } from './invalid-event.js';
export { type NodeRequestLike, nodeToWebRequest, readNodeBody, writeWebResponse } from './node-http.js';
export type { PortableFunction } from './portable-function.js';
export {
  type QueueFunction,
  type QueueFunctionOptions,
  type QueueHandler,
  type QueueItemFailure,
  queueFunction,
  runQueueBatch,
} from './queue.js';
export {
  type ScheduleEvent,
  type ScheduleFunction,
  type ScheduleHandler,
  scheduleFunction,
} from './schedule.js';
export { type ServeBlobEvents, type Served, type ServeOptions, type ServeQueue, serve } from './serve.js';
