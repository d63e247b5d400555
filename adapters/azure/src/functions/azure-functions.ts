import type {
  EventGridEvent,
  HttpRequest,
  HttpResponseInit,
  InvocationContext,
  StorageBlobHandler,
  StorageQueueHandler,
  Timer,
} from '@azure/functions';
import {
  type BlobEvent,
  createFunctionContext,
  describeEvent,
  type FunctionContext,
  type FunctionLogger,
  type HttpFunction,
  invalidArgument,
  invalidEvent,
  invokeHttp,
  methodHasBody,
  type PortableFunction,
  type QueueFunction,
  responseParts,
  runQueueBatch,
  type ScheduleFunction,
  toNcrontab,
} from '@polycloud/core';
import { decodeBlobName } from '../blob/names.js';
import { queueDriverMessage } from '../queue/received.js';
import { parseSetCookie } from './cookies.js';

const BINDING = '@polycloud/azure/functions';

/** What `native()` returns on Azure Functions: the trigger input and the invocation context. */
export interface AzureFunctionsNative {
  readonly input: unknown;
  readonly context: InvocationContext;
}

/** Options of the Azure Functions bindings. */
export interface AzureFunctionsOptions {
  /** The app's functionTimeout, for the context's deadline (the host does not send one). */
  readonly timeoutSeconds?: number;
  /** Where `ctx.logger` writes; default the invocation context's log methods. */
  readonly logger?: FunctionLogger;
}

function contextLogger(c: InvocationContext): FunctionLogger {
  const line = (message: string, fields?: Readonly<Record<string, unknown>>) =>
    fields ? `${message} ${JSON.stringify(fields)}` : message;
  return {
    debug: (m, f) => c.debug(line(m, f)),
    info: (m, f) => c.info(line(m, f)),
    warn: (m, f) => c.warn(line(m, f)),
    error: (m, f) => c.error(line(m, f)),
  };
}

async function withContext<R>(
  input: unknown,
  context: InvocationContext,
  opts: AzureFunctionsOptions,
  run: (ctx: FunctionContext<AzureFunctionsNative>) => Promise<R>,
): Promise<R> {
  const { ctx, done } = createFunctionContext<AzureFunctionsNative>({
    requestId: context?.invocationId ?? crypto.randomUUID(),
    provider: 'azure',
    native: { input, context },
    deadlineMs: opts.timeoutSeconds !== undefined ? Date.now() + opts.timeoutSeconds * 1000 : undefined,
    logger: opts.logger ?? (context ? contextLogger(context) : undefined),
  });
  try {
    return await run(ctx);
  } finally {
    done();
  }
}

/** An Azure HttpRequest as a Web Request. */
export async function requestFromAzure(request: HttpRequest): Promise<Request> {
  const headers = new Headers();
  request.headers.forEach((v, k) => {
    headers.append(k, v);
  });
  const body = methodHasBody(request.method) ? new Uint8Array(await request.arrayBuffer()) : undefined;
  return new Request(request.url, {
    method: request.method,
    headers,
    ...(body !== undefined && body.byteLength > 0 ? { body } : {}),
  });
}

/** A Web Response as HttpResponseInit: Set-Cookie headers become `cookies`. */
export async function responseToAzure(res: Response): Promise<HttpResponseInit> {
  const parts = await responseParts(res);
  const headers: Record<string, string> = {};
  for (const [k, v] of parts.headers) headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
  return {
    status: parts.status,
    headers,
    body: parts.body,
    ...(parts.cookies.length > 0 ? { cookies: parts.cookies.map(parseSetCookie) } : {}),
  };
}

/**
 * `app.http` handler for an HTTP function.
 *
 * @example
 * app.http('api', { methods: ['GET', 'POST'], authLevel: 'anonymous', handler: azureHttp(api) });
 */
export function azureHttp(
  fn: HttpFunction,
  opts: AzureFunctionsOptions = {},
): (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit> {
  return (request, context) =>
    withContext(request, context, opts, async (ctx) => {
      const r = request as Partial<HttpRequest> | null;
      if (typeof r?.method !== 'string' || typeof r.url !== 'string' || typeof r.arrayBuffer !== 'function') {
        throw invalidEvent(
          `${BINDING} (HTTP)`,
          `input (${describeEvent(request)})`,
          'is not an HttpRequest; bind this handler with app.http',
        );
      }
      return responseToAzure(await invokeHttp(fn, await requestFromAzure(request), ctx));
    });
}

function metaString(meta: Record<string, unknown>, name: string): string | undefined {
  const v = meta[name];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

/**
 * The message text of a storage-queue trigger input. The host gives text (or, for text that is
 * JSON, the parsed value); with the default `messageEncoding: base64` it has already decoded
 * the base64 text polycloud sends, which loses binary envelopes, so that is rejected clearly.
 */
export function queueItemText(item: unknown): string {
  let text: string;
  if (typeof item === 'string') text = item;
  else if (item instanceof Uint8Array) text = Buffer.from(item).toString('utf8');
  else if (item !== undefined && item !== null && typeof item === 'object') {
    try {
      text = JSON.stringify(item);
    } catch (e) {
      // The host hands parsed JSON; anything else (a BigInt, a cycle) is not a message.
      throw invalidEvent(
        `${BINDING} (storage queue)`,
        `queue item (${describeEvent(item)})`,
        `is not a message: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  } else {
    throw invalidEvent(
      `${BINDING} (storage queue)`,
      `queue item (${describeEvent(item)})`,
      'is not a message',
    );
  }
  if (text.startsWith('pc\u0001')) {
    throw invalidEvent(
      `${BINDING} (storage queue)`,
      'queue item',
      'was base64-decoded by the host; set "extensions": { "queues": { "messageEncoding": "none" } } in host.json so the polycloud envelope arrives intact',
    );
  }
  return text;
}

/**
 * `app.storageQueue` handler: one message per invocation; a throw makes the host retry it (then the poison queue).
 *
 * @example
 * app.storageQueue('worker', { queueName: 'jobs', connection: 'AzureWebJobsStorage', handler: azureStorageQueue(worker) });
 */
export function azureStorageQueue<T>(
  fn: QueueFunction<T>,
  opts: AzureFunctionsOptions = {},
): StorageQueueHandler {
  return (item, context) =>
    withContext(item, context, opts, async (ctx) => {
      const meta = context?.triggerMetadata ?? {};
      const id = metaString(meta, 'id');
      if (id === undefined) {
        throw invalidEvent(
          `${BINDING} (storage queue)`,
          'trigger metadata',
          'has no message id; bind this handler with app.storageQueue',
        );
      }
      const count = Number(meta.dequeueCount);
      const inserted = metaString(meta, 'insertionTime');
      const msg = queueDriverMessage({
        messageId: id,
        messageText: queueItemText(item),
        dequeueCount: Number.isFinite(count) && count > 0 ? count : 1,
        insertedOn: inserted ? new Date(inserted) : new Date(),
        popReceipt: metaString(meta, 'popReceipt') ?? '',
      });
      const queueName = metaString(meta, 'queueName') ?? context?.functionName ?? 'queue';
      const [failure] = await runQueueBatch(fn, [msg], ctx, { queueName, provider: 'azure' });
      if (failure) throw failure.error;
    });
}

/** `app.timer` handler for a schedule function; register it with `ncrontabSchedule(fn)`. */
export function azureTimer(
  fn: ScheduleFunction,
  opts: AzureFunctionsOptions = {},
): (timer: Timer, context: InvocationContext) => Promise<void> {
  toNcrontab(fn.cron);
  return (timer, context) =>
    withContext(timer, context, opts, async (ctx) => {
      if (typeof timer !== 'object' || timer === null || !('isPastDue' in timer)) {
        throw invalidEvent(
          `${BINDING} (timer)`,
          `input (${describeEvent(timer)})`,
          'is not a timer trigger input',
        );
      }
      await fn.handler({ scheduledTime: new Date(), cron: fn.cron, source: context?.functionName }, ctx);
    });
}

/** Container and decoded key from `container/blob-name`. */
function splitBlobPath(path: string, what: string): { bucket: string; key: string } {
  const i = path.indexOf('/');
  if (i <= 0 || i === path.length - 1) {
    throw invalidEvent(`${BINDING} (blob)`, what, `"${path}" is not "container/blob-name"`);
  }
  return { bucket: path.slice(0, i), key: decodeBlobName(path.slice(i + 1)) };
}

/**
 * `app.storageBlob` handler: a blob trigger fires for created or updated blobs.
 *
 * @example
 * app.storageBlob('thumbnails', { path: 'uploads/{name}', connection: 'AzureWebJobsStorage', handler: azureStorageBlob(onUpload) });
 */
export function azureStorageBlob(fn: PortableFunction, opts: AzureFunctionsOptions = {}): StorageBlobHandler {
  if (fn.kind !== 'blob')
    throw invalidArgument('azureStorageBlob: pass a blobEventFunction', { service: 'functions' });
  return (blob, context) =>
    withContext(blob, context, opts, async (ctx) => {
      const meta = context?.triggerMetadata ?? {};
      const path = metaString(meta, 'blobTrigger');
      if (path === undefined) {
        throw invalidEvent(
          `${BINDING} (blob)`,
          'trigger metadata',
          'has no blobTrigger path; bind this handler with app.storageBlob',
        );
      }
      const props = (meta.properties ?? {}) as Record<string, unknown>;
      const len = Number(props.contentLength ?? props.length);
      const etag = props.eTag ?? props.etag ?? props.ETag;
      const event: BlobEvent = {
        type: 'created',
        ...splitBlobPath(path, 'blobTrigger'),
        size: Number.isFinite(len) ? len : blob instanceof Uint8Array ? blob.byteLength : undefined,
        etag: typeof etag === 'string' ? etag.replace(/^"|"$/g, '') : undefined,
        time: new Date(),
      };
      await fn.handler(event, ctx);
    });
}

const SUBJECT = /^\/blobServices\/default\/containers\/([^/]+)\/blobs\/(.+)$/;

/** An Event Grid storage event as a portable blob event. */
export function eventGridToBlobEvent(event: EventGridEvent): BlobEvent {
  const where = `${BINDING} (Event Grid)`;
  if (typeof event !== 'object' || event === null || typeof event.eventType !== 'string') {
    throw invalidEvent(where, `event (${describeEvent(event)})`, 'is not an Event Grid event');
  }
  let type: BlobEvent['type'];
  if (event.eventType === 'Microsoft.Storage.BlobCreated') type = 'created';
  else if (event.eventType === 'Microsoft.Storage.BlobDeleted') type = 'deleted';
  else {
    throw invalidEvent(
      where,
      `event type "${event.eventType}"`,
      'is neither Microsoft.Storage.BlobCreated nor BlobDeleted',
    );
  }
  const m = typeof event.subject === 'string' ? SUBJECT.exec(event.subject) : null;
  if (!m) throw invalidEvent(where, `subject "${String(event.subject)}"`, 'is not a blob subject');
  const data = event.data ?? {};
  const len = Number(data.contentLength);
  const time = new Date(event.eventTime);
  return {
    type,
    bucket: m[1]!,
    key: decodeBlobName(m[2]!),
    size: type === 'created' && Number.isFinite(len) ? len : undefined,
    etag: typeof data.eTag === 'string' ? data.eTag.replace(/^"|"$/g, '') : undefined,
    time: Number.isNaN(time.getTime()) ? new Date() : time,
  };
}

/**
 * `app.eventGrid` handler for BlobCreated / BlobDeleted events.
 *
 * @example
 * app.eventGrid('uploads', { handler: azureEventGrid(onUpload) });
 */
export function azureEventGrid(
  fn: PortableFunction,
  opts: AzureFunctionsOptions = {},
): (event: EventGridEvent, context: InvocationContext) => Promise<void> {
  if (fn.kind !== 'blob')
    throw invalidArgument('azureEventGrid: pass a blobEventFunction', { service: 'functions' });
  return (event, context) =>
    withContext(event, context, opts, async (ctx) => fn.handler(eventGridToBlobEvent(event), ctx));
}

/**
 * The NCRONTAB schedule for `app.timer`.
 *
 * @example
 * const nightly = scheduleFunction('0 3 * * 1-5', run);
 * app.timer('nightly', { schedule: ncrontabSchedule(nightly), handler: azureTimer(nightly) });
 */
export function ncrontabSchedule(fn: PortableFunction): string {
  if (fn.kind !== 'schedule')
    throw invalidArgument('ncrontabSchedule: pass a scheduleFunction', { service: 'functions' });
  return toNcrontab(fn.cron);
}

/** The part of `app` from @azure/functions that `register` uses. */
export interface AzureApp {
  /** Registers an HTTP-triggered function. */
  http(
    name: string,
    options: {
      handler: ReturnType<typeof azureHttp>;
      methods?: ('GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS')[];
      authLevel?: 'anonymous' | 'function' | 'admin';
      route?: string;
    },
  ): void;
  /** Registers a Storage Queue-triggered function. */
  storageQueue(
    name: string,
    options: { queueName: string; connection: string; handler: StorageQueueHandler },
  ): void;
  /** Registers a timer-triggered function (NCRONTAB schedule). */
  timer(name: string, options: { schedule: string; handler: ReturnType<typeof azureTimer> }): void;
  /** Registers a blob-triggered function (polling or Event Grid source). */
  storageBlob(
    name: string,
    options: {
      path: string;
      connection: string;
      source?: 'EventGrid' | 'LogsAndContainerScan';
      handler: StorageBlobHandler;
    },
  ): void;
  /** Registers an Event Grid-triggered function. */
  eventGrid(name: string, options: { handler: ReturnType<typeof azureEventGrid> }): void;
}

/** Options of `register`: the trigger settings the portable function cannot carry itself. */
export interface RegisterOptions extends AzureFunctionsOptions {
  /** HTTP: route (default the function name), auth level (default anonymous). */
  readonly route?: string;
  readonly authLevel?: 'anonymous' | 'function' | 'admin';
  /** Queue: the storage queue name and the app setting holding its connection string. */
  readonly queueName?: string;
  /** The app setting holding the storage connection string (queue and blob triggers). */
  readonly connection?: string;
  /** Blob: `container/{name}` path for a blob trigger; or `eventGrid: true` for an Event Grid subscription. */
  readonly path?: string;
  /** Blob: subscribe through Event Grid instead of a blob trigger. */
  readonly eventGrid?: boolean;
}

/**
 * Registers a portable function with the v4 programming model.
 *
 * @example
 * import { app } from '@azure/functions';
 * register(app, 'worker', worker, { queueName: 'jobs', connection: 'AzureWebJobsStorage' });
 */
export function register(
  app: AzureApp,
  name: string,
  fn: PortableFunction,
  opts: RegisterOptions = {},
): void {
  switch (fn.kind) {
    case 'http':
      app.http(name, {
        methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
        authLevel: opts.authLevel ?? 'anonymous',
        ...(opts.route !== undefined ? { route: opts.route } : {}),
        handler: azureHttp(fn, opts),
      });
      return;
    case 'queue':
      if (!opts.queueName)
        throw invalidArgument(`register(${name}): a queue function needs opts.queueName`, {
          service: 'functions',
        });
      app.storageQueue(name, {
        queueName: opts.queueName,
        connection: opts.connection ?? 'AzureWebJobsStorage',
        handler: azureStorageQueue(fn, opts),
      });
      return;
    case 'schedule':
      app.timer(name, { schedule: toNcrontab(fn.cron), handler: azureTimer(fn, opts) });
      return;
    case 'blob':
      if (opts.eventGrid) app.eventGrid(name, { handler: azureEventGrid(fn, opts) });
      else {
        if (!opts.path)
          throw invalidArgument(
            `register(${name}): a blob function needs opts.path ("container/{name}") or eventGrid: true`,
            { service: 'functions' },
          );
        app.storageBlob(name, {
          path: opts.path,
          connection: opts.connection ?? 'AzureWebJobsStorage',
          handler: azureStorageBlob(fn, opts),
        });
      }
      return;
  }
}
