import { invalidArgument } from '../errors.js';
import type { FunctionContext } from './context.js';
import { parseCron } from './cron.js';

/** One firing of a schedule. */
export interface ScheduleEvent {
  /** When the platform meant to run it (or when it did, where the platform says nothing else). */
  readonly scheduledTime: Date;
  /** The portable cron expression of the function. */
  readonly cron: string;
  /** The platform's name for the schedule (rule ARN, scheduler job, timer function), if any. */
  readonly source: string | undefined;
}

/** Handles one firing of a schedule; a throw is logged and reported as a failed invocation. */
export type ScheduleHandler = (event: ScheduleEvent, ctx: FunctionContext) => void | Promise<void>;

/** A portable scheduled function; bind it with a platform binding or `serve()`. */
export interface ScheduleFunction {
  readonly kind: 'schedule';
  readonly cron: string;
  readonly handler: ScheduleHandler;
}

/**
 * Declares a scheduled function. `cron` is unix cron in UTC (five fields); bindings convert it
 * to EventBridge or NCRONTAB, or reject what the platform cannot express.
 *
 * @example
 * export const nightly = scheduleFunction('0 3 * * *', async (ev, ctx) => ctx.logger.info('tick'));
 */
export function scheduleFunction(cron: string, handler: ScheduleHandler): ScheduleFunction {
  parseCron(cron);
  if (typeof handler !== 'function')
    throw invalidArgument('scheduleFunction: handler must be a function', { service: 'functions' });
  return { kind: 'schedule', cron, handler };
}
