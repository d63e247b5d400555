/**
 * Observability on @opentelemetry/api, an optional peer dependency: loaded lazily on the first
 * portable call, and a no-op when it is not installed (or no SDK is registered). One span per
 * portable call (retries included), metrics for duration, retries and bytes, W3C trace context
 * carried in queue message attributes, and a debug logger hook.
 */
import type * as Otel from '@opentelemetry/api';
import { isPolycloudError } from './errors.js';

type Api = typeof Otel;
/** The portable services, as named in errors, debug events and span attributes. */
export type Service = 'blob' | 'queue' | 'kv';

/** What the debug logger receives: one event per attempt that failed, one per finished call. */
export interface DebugEvent {
  readonly event: 'retry' | 'call';
  readonly provider: string;
  readonly service: Service;
  readonly operation: string;
  readonly resource: { readonly name: string; readonly key?: string };
  /** Attempts so far (the call's total on 'call'). */
  readonly attempts: number;
  readonly durationMs: number;
  /** The failure, as the caller sees (or would see) it. */
  readonly error?: unknown;
}

/** Receives debug events; installed with {@link setDebugLogger}. Must not throw. */
export type DebugLogger = (event: DebugEvent) => void;

let logger: DebugLogger | undefined;

/**
 * Installs a debug logger (or removes it with undefined): called once per finished portable call
 * and once per failed attempt that is retried. Errors it throws are ignored.
 *
 * @example
 * setDebugLogger((e) => console.debug(`${e.provider} ${e.operation} ${e.resource.name}: ${e.attempts} attempt(s), ${e.durationMs} ms`));
 */
export function setDebugLogger(next: DebugLogger | undefined): void {
  logger = next;
}

let api: Api | null | undefined;
let loading: Promise<Api | null> | undefined;

/** The OpenTelemetry API when installed; loaded once, lazily. */
function loadApi(): Promise<Api | null> {
  if (api !== undefined) return Promise.resolve(api);
  loading ??= import('@opentelemetry/api').then(
    (m) => {
      const mod = m as unknown as Api & { default?: Api };
      api = mod.trace !== undefined ? mod : (mod.default ?? null);
      return api;
    },
    () => {
      api = null;
      return null;
    },
  );
  return loading;
}

/** Trace-context attribute names on queue messages (reserved: users cannot set `polycloud*`). */
export const TRACE_ATTRIBUTES = {
  traceparent: 'polycloud-traceparent',
  tracestate: 'polycloud-tracestate',
} as const;

const CLOUD_PROVIDER: Readonly<Record<string, string>> = { aws: 'aws', gcp: 'gcp', azure: 'azure' };
const MESSAGING_SYSTEM: Readonly<Record<string, string>> = {
  aws: 'aws_sqs',
  gcp: 'gcp_pubsub',
  azure: 'azure_queue_storage',
};
const DB_SYSTEM: Readonly<Record<string, string>> = {
  aws: 'aws.dynamodb',
  gcp: 'gcp.bigtable',
  azure: 'azure.table_storage',
};

interface Instruments {
  readonly tracer: Otel.Tracer;
  readonly duration: Otel.Histogram;
  readonly retries: Otel.Counter;
  readonly bytes: Otel.Counter;
  /** Made by the no-op meter (no MeterProvider registered when they were created). */
  readonly noopMeter: boolean;
  /** The no-op tracer provider a ProxyTracerProvider delegates to while no SDK is registered. */
  readonly noopTracerProvider: Otel.TracerProvider | undefined;
}
let instruments: Instruments | undefined;

function instrumentsOf(a: Api): Instruments {
  if (instruments) return instruments;
  const meter = a.metrics.getMeter('@polycloud/core');
  instruments = {
    noopMeter: typeof a.createNoopMeter === 'function' && meter === a.createNoopMeter(),
    noopTracerProvider:
      typeof a.ProxyTracerProvider === 'function' ? new a.ProxyTracerProvider().getDelegate() : undefined,
    tracer: a.trace.getTracer('@polycloud/core'),
    duration: meter.createHistogram('polycloud.client.operation.duration', {
      unit: 's',
      description: 'Duration of portable calls, retries included',
    }),
    retries: meter.createCounter('polycloud.client.retries', {
      description: 'Attempts retried by the portable layer',
    }),
    bytes: meter.createCounter('polycloud.client.bytes', {
      unit: 'By',
      description: 'Payload bytes written (blob put, queue send) and read (blob get)',
    }),
  };
  return instruments;
}

/** Where a call runs, for span names and attributes. */
export interface CallSite {
  readonly provider: string;
  readonly service: Service;
  readonly operation: string;
  readonly name: string;
  readonly key?: string | undefined;
}

function kindOf(a: Api, site: CallSite): Otel.SpanKind {
  if (site.service !== 'queue') return a.SpanKind.CLIENT;
  if (site.operation === 'send' || site.operation === 'sendBatch') return a.SpanKind.PRODUCER;
  if (site.operation === 'receive') return a.SpanKind.CONSUMER;
  return a.SpanKind.CLIENT;
}

function baseAttributes(site: CallSite): Otel.Attributes {
  const attrs: Otel.Attributes = {
    'polycloud.provider': site.provider,
    'polycloud.service': site.service,
    'polycloud.operation': site.operation,
    'polycloud.resource.name': site.name,
  };
  if (site.key !== undefined) attrs['polycloud.resource.key'] = site.key;
  const cloud = CLOUD_PROVIDER[site.provider];
  if (cloud) attrs['cloud.provider'] = cloud;
  if (site.service === 'queue') {
    attrs['messaging.system'] = MESSAGING_SYSTEM[site.provider] ?? site.provider;
    attrs['messaging.destination.name'] = site.name;
    attrs['messaging.operation.name'] = site.operation;
    const type =
      site.operation === 'send' || site.operation === 'sendBatch'
        ? 'send'
        : site.operation === 'receive'
          ? 'receive'
          : site.operation === 'ack' || site.operation === 'nack'
            ? 'settle'
            : undefined;
    if (type) attrs['messaging.operation.type'] = type;
  } else if (site.service === 'kv') {
    attrs['db.system.name'] = DB_SYSTEM[site.provider] ?? site.provider;
    attrs['db.collection.name'] = site.name;
    attrs['db.operation.name'] = site.operation;
  }
  return attrs;
}

/** One portable call as seen by telemetry. */
export interface CallTelemetry {
  /** Puts the call's trace context into message attributes (queue sends). */
  inject(carrier: Record<string, string>): void;
  /** Reports a failed attempt that will be retried. */
  retry(attempt: number, error: unknown): void;
  /** Ends the call. */
  end(attempts: number, error?: unknown): void;
}

const NOOP: CallTelemetry = { inject() {}, retry() {}, end() {} };

/**
 * Starts the telemetry of one portable call (a no-op without OpenTelemetry and logger).
 * Synchronous once the API has been looked for (every call after the first).
 */
export function startCall(site: CallSite): CallTelemetry | Promise<CallTelemetry> {
  if (api === undefined) return loadApi().then(() => begin(site));
  return begin(site);
}

/**
 * NOOP when a call's telemetry could not be observed, so callers need not even describe the
 * call: no debug logger, and OpenTelemetry either not installed or installed with neither a
 * tracer nor a meter provider registered (its spans would not record, its instruments would
 * drop every value). Queue calls always get their telemetry: a send injects the active trace
 * context even without an SDK. Undefined: use startCall.
 */
export function quietCall(service: Service): CallTelemetry | undefined {
  if (logger !== undefined || api === undefined || service === 'queue') return undefined;
  if (api === null) return NOOP;
  const ins = instrumentsOf(api);
  if (!ins.noopMeter || ins.noopTracerProvider === undefined) return undefined;
  // Checked on every call: an SDK registered later gets the spans of every call after it.
  const tp = api.trace.getTracerProvider();
  return tp instanceof api.ProxyTracerProvider && tp.getDelegate() === ins.noopTracerProvider
    ? NOOP
    : undefined;
}

function begin(site: CallSite): CallTelemetry {
  const a = api ?? null;
  if (!a && !logger) return NOOP;
  return new Call(site, a, logger);
}

/** The telemetry of one call: a class, not closures, since every portable call makes one. */
class Call implements CallTelemetry {
  private readonly started = performance.now();
  private readonly span: Otel.Span | undefined;
  private readonly recording: boolean;

  constructor(
    private readonly site: CallSite,
    private readonly a: Api | null,
    private readonly log: DebugLogger | undefined,
  ) {
    if (a) {
      this.span = instrumentsOf(a).tracer.startSpan(`${site.operation} ${site.name}`, {
        kind: kindOf(a, site),
      });
      // Attributes only for a span someone records (no SDK registered: a cheap no-op span).
      this.recording = this.span.isRecording();
      if (this.recording) this.span.setAttributes(baseAttributes(site));
    } else {
      this.span = undefined;
      this.recording = false;
    }
  }

  inject(carrier: Record<string, string>): void {
    const { a, span } = this;
    if (!a || !span) return;
    const ctx = span.spanContext();
    if (!a.isSpanContextValid(ctx)) return;
    const out: Record<string, string> = {};
    a.propagation.inject(a.trace.setSpan(a.context.active(), span), out);
    // Fall back to W3C when no propagator is registered: the consumer side reads this format.
    carrier[TRACE_ATTRIBUTES.traceparent] = out.traceparent ?? w3c(ctx);
    if (out.tracestate) carrier[TRACE_ATTRIBUTES.tracestate] = out.tracestate;
  }

  retry(attempt: number, error: unknown): void {
    const { a, span, site } = this;
    if (a && span) {
      instrumentsOf(a).retries.add(1, {
        'polycloud.provider': site.provider,
        'polycloud.operation': site.operation,
      });
      if (this.recording) span.addEvent('retry', { 'polycloud.attempt': attempt, ...errorAttributes(error) });
    }
    this.debug('retry', attempt, error);
  }

  end(attempts: number, error?: unknown): void {
    const { a, span, site } = this;
    if (a && span) {
      const outcome: Otel.Attributes = {
        'polycloud.provider': site.provider,
        'polycloud.service': site.service,
        'polycloud.operation': site.operation,
      };
      if (this.recording) span.setAttribute('polycloud.attempts', attempts);
      if (error !== undefined) {
        const e = errorAttributes(error);
        outcome['error.type'] = e['error.type'];
        if (this.recording) {
          span.setAttributes(e);
          span.setStatus({
            code: a.SpanStatusCode.ERROR,
            message: error instanceof Error ? error.message : String(error),
          });
        }
      }
      instrumentsOf(a).duration.record((performance.now() - this.started) / 1000, outcome);
      span.end();
    }
    this.debug('call', attempts, error);
  }

  private debug(event: DebugEvent['event'], attempts: number, error: unknown): void {
    const { log, site } = this;
    if (!log) return;
    try {
      log({
        event,
        provider: site.provider,
        service: site.service,
        operation: site.operation,
        resource: { name: site.name, ...(site.key === undefined ? {} : { key: site.key }) },
        attempts,
        durationMs: Math.round((performance.now() - this.started) * 1000) / 1000,
        ...(error === undefined ? {} : { error }),
      });
    } catch {
      // A logger must not break the call it observes.
    }
  }
}

function errorAttributes(error: unknown): Otel.Attributes & { 'error.type': string } {
  if (isPolycloudError(error)) {
    return {
      'error.type': error.code,
      'polycloud.error.code': error.code,
      'polycloud.error.retryable': error.retryable,
      ...((error as { outcomeUnknown?: boolean }).outcomeUnknown
        ? { 'polycloud.error.outcome_unknown': true }
        : {}),
    };
  }
  return { 'error.type': error instanceof Error ? error.name : 'UNKNOWN' };
}

function w3c(ctx: Otel.SpanContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${(ctx.traceFlags & 1).toString(16).padStart(2, '0')}`;
}

/** Adds payload bytes to the bytes counter (no-op without OpenTelemetry). */
export function recordBytes(site: Pick<CallSite, 'provider' | 'service' | 'operation'>, n: number): void {
  if (!api || !(n > 0)) return;
  const ins = instrumentsOf(api);
  if (ins.noopMeter) return; // the no-op counter would drop it
  ins.bytes.add(n, {
    'polycloud.provider': site.provider,
    'polycloud.service': site.service,
    'polycloud.operation': site.operation,
  });
}

/** Trace context carried by received messages, kept off their visible attributes. */
const CARRIED = new WeakMap<object, Record<string, string>>();

/** Strips the trace attributes from a received message's attributes and remembers them. */
export function takeTraceContext(attributes: Readonly<Record<string, string>>): {
  attributes: Readonly<Record<string, string>>;
  carrier: Record<string, string> | undefined;
} {
  const tp = attributes[TRACE_ATTRIBUTES.traceparent];
  if (tp === undefined) return { attributes, carrier: undefined };
  const { [TRACE_ATTRIBUTES.traceparent]: _, [TRACE_ATTRIBUTES.tracestate]: ts, ...rest } = attributes;
  return { attributes: rest, carrier: { traceparent: tp, ...(ts === undefined ? {} : { tracestate: ts }) } };
}

/** Associates a received message with the trace context it carried. */
export function rememberTraceContext(message: object, carrier: Record<string, string> | undefined): void {
  if (carrier) CARRIED.set(message, carrier);
}

/**
 * Runs a consumer's handler inside a `process` span whose parent is the producer's span, so
 * the consumer joins the producer's trace on every provider.
 */
export async function processMessage<R>(
  site: { provider: string; name: string },
  message: object,
  fn: () => Promise<R>,
): Promise<R> {
  const a = api;
  if (!a) return fn();
  const carrier = CARRIED.get(message);
  let parent = a.context.active();
  if (carrier) parent = a.propagation.extract(parent, carrier);
  let remote = a.trace.getSpanContext(parent);
  if (carrier && (!remote || !a.isSpanContextValid(remote))) {
    // No propagator registered: read the W3C header ourselves.
    const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(carrier.traceparent ?? '');
    if (m) {
      remote = { traceId: m[1]!, spanId: m[2]!, traceFlags: Number.parseInt(m[3]!, 16), isRemote: true };
      parent = a.trace.setSpanContext(parent, remote);
    }
  }
  const ins = instrumentsOf(a);
  const span = ins.tracer.startSpan(
    `process ${site.name}`,
    {
      kind: a.SpanKind.CONSUMER,
      attributes: {
        ...baseAttributes({
          provider: site.provider,
          service: 'queue',
          operation: 'process',
          name: site.name,
        }),
        'messaging.operation.type': 'process',
      },
    },
    parent,
  );
  try {
    const r = await a.context.with(a.trace.setSpan(parent, span), fn);
    span.end();
    return r;
  } catch (err) {
    span.setStatus({
      code: a.SpanStatusCode.ERROR,
      message: err instanceof Error ? err.message : String(err),
    });
    span.setAttribute('error.type', err instanceof Error ? err.name : 'Error');
    span.end();
    throw err;
  }
}
