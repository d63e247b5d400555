import {
  createFunctionContext,
  type FunctionContext,
  type FunctionLogger,
  invalidArgument,
  type PortableFunction,
  toEventBridgeCron,
} from '@polycloud/core';
import type { ApiGatewayV1Result, ApiGatewayV2Result, LambdaContext, SqsBatchResponse } from './events.js';
import { handleHttpEvent } from './http.js';
import { handleS3Event, handleScheduledEvent, handleSqsEvent } from './triggers.js';

/** What `native()` returns on Lambda: the raw event and the Lambda context. */
export interface LambdaNative {
  readonly event: unknown;
  readonly context: LambdaContext;
}

/** What a Lambda handler built by `lambda()` resolves to: an HTTP response, an SQS partial batch response, or nothing. */
export type LambdaResult = ApiGatewayV1Result | ApiGatewayV2Result | SqsBatchResponse | undefined;

/** A Lambda handler for the Node.js runtime (`export const handler = lambda(fn)`). */
export type LambdaHandler = (event: unknown, context: LambdaContext) => Promise<LambdaResult>;

/** Options of `lambda()`. */
export interface LambdaOptions {
  /** Where `ctx.logger` writes; default one JSON line per record on the console. */
  readonly logger?: FunctionLogger;
}

/**
 * Binds a portable function to AWS Lambda. HTTP functions accept API Gateway REST (v1), HTTP
 * API (v2), function URL and ALB events; queue functions SQS batches (enable
 * ReportBatchItemFailures); schedule functions EventBridge scheduled events; blob functions S3
 * notifications. Any other event is rejected with INVALID_ARGUMENT naming the binding.
 *
 * @example
 * export const handler = lambda(api);
 */
export function lambda(fn: PortableFunction, opts: LambdaOptions = {}): LambdaHandler {
  if (fn.kind === 'schedule') toEventBridgeCron(fn.cron);
  return async (event, context) => {
    const remaining =
      typeof context?.getRemainingTimeInMillis === 'function'
        ? context.getRemainingTimeInMillis()
        : undefined;
    const { ctx, done } = createFunctionContext<LambdaNative>({
      requestId: context?.awsRequestId ?? crypto.randomUUID(),
      provider: 'aws',
      native: { event, context },
      deadlineMs: remaining !== undefined ? Date.now() + remaining : undefined,
      logger: opts.logger,
    });
    try {
      return await dispatch(fn, event, ctx);
    } finally {
      done();
    }
  };
}

async function dispatch(fn: PortableFunction, event: unknown, ctx: FunctionContext): Promise<LambdaResult> {
  switch (fn.kind) {
    case 'http':
      return handleHttpEvent(fn, event, ctx);
    case 'queue':
      return handleSqsEvent(fn, event, ctx);
    case 'schedule':
      await handleScheduledEvent(fn, event, ctx);
      return undefined;
    case 'blob':
      await handleS3Event(fn, event, ctx);
      return undefined;
  }
}

/**
 * The EventBridge schedule expression for a schedule function, for your deployment tooling.
 *
 * @example
 * const nightly = scheduleFunction('0 3 * * 1-5', run);
 * eventBridgeSchedule(nightly); // 'cron(0 3 ? * 2-6 *)', for the rule's ScheduleExpression
 */
export function eventBridgeSchedule(fn: PortableFunction): string {
  if (fn.kind !== 'schedule')
    throw invalidArgument('eventBridgeSchedule: pass a scheduleFunction', { service: 'functions' });
  return toEventBridgeCron(fn.cron);
}
