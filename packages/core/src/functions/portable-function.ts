import type { BlobEventFunction } from './blob-event.js';
import type { HttpFunction } from './http.js';
import type { QueueFunction } from './queue.js';
import type { ScheduleFunction } from './schedule.js';

/** Any portable function; bindings dispatch on `kind`. */
export type PortableFunction<T = unknown> =
  | HttpFunction
  | QueueFunction<T>
  | ScheduleFunction
  | BlobEventFunction;
