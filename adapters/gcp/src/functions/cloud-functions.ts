import type { ServerResponse } from 'node:http';
import {
  createFunctionContext,
  describeEvent,
  type FunctionContext,
  type FunctionLogger,
  invalidArgument,
  invalidEvent,
  invokeHttp,
  isPolycloudError,
  type NodeRequestLike,
  nodeToWebRequest,
  type PortableFunction,
  readNodeBody,
  toUnixCron,
  writeWebResponse,
} from '@polycloud/core';
import type { CloudEventLike } from './events.js';
import { checkPushBody, handleCloudEvent, runPushedMessage } from './triggers.js';

const BINDING = '@polycloud/gcp/functions';

/** What `native()` returns on Cloud Functions: the request and response, or the CloudEvent. */
export type CloudFunctionsNative =
  | { readonly req: NodeRequestLike; readonly res: ServerResponse }
  | { readonly cloudEvent: CloudEventLike };

/** Options of the Cloud Functions bindings. */
export interface CloudFunctionsOptions {
  /** The function's configured timeout: gives the context a deadline (Cloud Functions does not send one). */
  readonly timeoutSeconds?: number;
  /** Where `ctx.logger` writes; default one JSON line per record on the console. */
  readonly logger?: FunctionLogger;
}

/** An HTTP function for functions-framework (`functions.http(name, handler)`) or any node server. */
export type CloudFunctionsHttpHandler = (req: NodeRequestLike, res: ServerResponse) => Promise<void>;

/** A CloudEvent function for functions-framework (`functions.cloudEvent(name, handler)`). */
export type CloudFunctionsEventHandler = (cloudEvent: CloudEventLike) => Promise<void>;

function context(
  requestId: string,
  native: CloudFunctionsNative,
  opts: CloudFunctionsOptions,
): { ctx: FunctionContext<CloudFunctionsNative>; done(): void } {
  return createFunctionContext<CloudFunctionsNative>({
    requestId,
    provider: 'gcp',
    native,
    deadlineMs: opts.timeoutSeconds !== undefined ? Date.now() + opts.timeoutSeconds * 1000 : undefined,
    logger: opts.logger,
  });
}

function header(req: NodeRequestLike, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A CloudEvent from an HTTP request in binary mode (ce-* headers) or structured mode. */
export function cloudEventFromHttp(req: NodeRequestLike, body: Uint8Array): CloudEventLike | undefined {
  const contentType = header(req, 'content-type') ?? '';
  const text = () => Buffer.from(body).toString('utf8');
  if (contentType.startsWith('application/cloudevents+json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text());
    } catch (err) {
      throw invalidEvent(`${BINDING} (CloudEvents)`, 'structured-mode body', 'is not JSON', err);
    }
    if (typeof parsed !== 'object' || parsed === null) {
      throw invalidEvent(
        `${BINDING} (CloudEvents)`,
        'structured-mode body',
        `is ${describeEvent(parsed)}, not a CloudEvent`,
      );
    }
    const e = parsed as Record<string, unknown>;
    const data =
      typeof e.data_base64 === 'string'
        ? parseData(Buffer.from(e.data_base64, 'base64'), String(e.datacontenttype ?? ''))
        : e.data;
    return { ...(e as unknown as CloudEventLike), data };
  }
  const type = header(req, 'ce-type');
  if (type === undefined) return undefined;
  const get = (n: string) => header(req, `ce-${n}`);
  return {
    specversion: get('specversion') ?? '1.0',
    id: get('id') ?? '',
    type,
    source: get('source') ?? '',
    ...(get('subject') !== undefined ? { subject: get('subject')! } : {}),
    ...(get('time') !== undefined ? { time: get('time')! } : {}),
    datacontenttype: contentType,
    data: parseData(body, contentType),
  };
}

function parseData(body: Uint8Array, contentType: string): unknown {
  if (body.byteLength === 0) return undefined;
  if (/json/i.test(contentType) || contentType === '') {
    try {
      return JSON.parse(Buffer.from(body).toString('utf8'));
    } catch (err) {
      throw invalidEvent(`${BINDING} (CloudEvents)`, 'event data', 'is not JSON', err);
    }
  }
  return body;
}

/**
 * Binds a portable function as an HTTP function. HTTP functions get the request as is; queue
 * functions accept Pub/Sub push requests and messagePublished CloudEvents (binary or
 * structured), answering 204 or 500 so Pub/Sub redelivers; schedule functions accept Cloud
 * Scheduler HTTP-target requests; blob functions Cloud Storage CloudEvents. A malformed event
 * is answered 400 with the INVALID_ARGUMENT message (never a stack trace).
 *
 * @example
 * import * as ff from '@google-cloud/functions-framework';
 * ff.http('api', cloudFunctionsHttp(api));
 */
export function cloudFunctionsHttp(
  fn: PortableFunction,
  opts: CloudFunctionsOptions = {},
): CloudFunctionsHttpHandler {
  if (fn.kind === 'schedule') toUnixCron(fn.cron);
  return async (req, res) => {
    const requestId =
      header(req, 'function-execution-id') ??
      header(req, 'x-cloud-trace-context')?.split('/')[0] ??
      crypto.randomUUID();
    const { ctx, done } = context(requestId, { req, res }, opts);
    try {
      if (fn.kind === 'http') {
        await writeWebResponse(res, await invokeHttp(fn, await nodeToWebRequest(req), ctx));
        return;
      }
      const status = await handleEventRequest(fn, req, ctx);
      res.statusCode = status;
      res.end();
    } catch (err) {
      const invalid = isPolycloudError(err, 'INVALID_ARGUMENT');
      ctx.logger.error(invalid ? 'rejected a malformed event' : 'the function failed', {
        error: err instanceof Error ? err.message : String(err),
      });
      res.statusCode = invalid ? 400 : 500;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end(invalid && err instanceof Error ? err.message : 'Internal Server Error');
    } finally {
      done();
    }
  };
}

async function handleEventRequest(
  fn: Exclude<PortableFunction, { kind: 'http' }>,
  req: NodeRequestLike,
  ctx: FunctionContext,
): Promise<number> {
  const body = await readNodeBody(req);
  if (fn.kind === 'schedule' && header(req, 'x-cloudscheduler') !== undefined) {
    const when = header(req, 'x-cloudscheduler-scheduletime');
    await fn.handler(
      {
        scheduledTime: when ? new Date(when) : new Date(),
        cron: fn.cron,
        source: header(req, 'x-cloudscheduler-jobname'),
      },
      ctx,
    );
    return 204;
  }
  const ce = cloudEventFromHttp(req, body);
  if (ce) {
    await handleCloudEvent(fn, ce, ctx);
    return 204;
  }
  if (fn.kind === 'queue') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(body).toString('utf8'));
    } catch (err) {
      throw invalidEvent(`${BINDING} (Pub/Sub push)`, 'request body', 'is not JSON', err);
    }
    const failure = await runPushedMessage(fn, checkPushBody(parsed, 'push request body'), ctx);
    return failure ? 500 : 204;
  }
  throw invalidEvent(
    BINDING,
    `request ${req.method} ${req.url}`,
    fn.kind === 'schedule'
      ? 'is neither a Cloud Scheduler request (X-CloudScheduler header) nor a Pub/Sub CloudEvent'
      : 'is not a CloudEvent (binary or structured mode)',
  );
}

/**
 * Binds a queue, schedule or blob function as a CloudEvent function (Eventarc triggers:
 * Pub/Sub messagePublished, Cloud Storage finalized / deleted). A throw makes the trigger retry.
 *
 * @example
 * ff.cloudEvent('worker', cloudFunctionsEvent(worker));
 */
export function cloudFunctionsEvent(
  fn: PortableFunction,
  opts: CloudFunctionsOptions = {},
): CloudFunctionsEventHandler {
  if (fn.kind === 'http') {
    throw invalidEvent(
      BINDING,
      'an HTTP function',
      'cannot take CloudEvents; bind it with cloudFunctionsHttp',
    );
  }
  if (fn.kind === 'schedule') toUnixCron(fn.cron);
  return async (cloudEvent) => {
    const { ctx, done } = context(cloudEvent?.id ?? crypto.randomUUID(), { cloudEvent }, opts);
    try {
      await handleCloudEvent(fn, cloudEvent, ctx);
    } finally {
      done();
    }
  };
}

/**
 * The Cloud Scheduler schedule (unix cron, time zone Etc/UTC) for a schedule function.
 *
 * @example
 * const nightly = scheduleFunction('0 3 * * 1-5', run);
 * cloudSchedulerSchedule(nightly); // '0 3 * * 1-5': create the job with --time-zone=Etc/UTC
 */
export function cloudSchedulerSchedule(fn: PortableFunction): string {
  if (fn.kind !== 'schedule')
    throw invalidArgument('cloudSchedulerSchedule: pass a scheduleFunction', { service: 'functions' });
  return toUnixCron(fn.cron);
}
