import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import {
  MemoryBucketDriver,
  MemoryBucketStore,
  MemoryQueueDriver,
  MemoryQueueStore,
} from '@polycloud/memory';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Bucket, type DebugEvent, pcError, Queue, setDebugLogger } from '../src/index.js';

const exporter = new InMemorySpanExporter();
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({
  exporter: metricExporter,
  exportIntervalMillis: 3_600_000,
});
beforeAll(() => {
  const meterProvider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(meterProvider);
  const provider = new BasicTracerProvider();
  provider.addSpanProcessor(new SimpleSpanProcessor(exporter));
  provider.register();
});
afterEach(() => {
  exporter.reset();
  setDebugLogger(undefined);
});

const spans = (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.name === name);

describe('one span per portable call', () => {
  it('names provider, service, operation and resource, and counts attempts', async () => {
    const driver = new MemoryBucketDriver(new MemoryBucketStore(`b-${Math.random()}`));
    const put = driver.put.bind(driver);
    let fail = true;
    driver.put = async (key, body, opts) => {
      if (fail) {
        fail = false;
        throw pcError('UNAVAILABLE', 'reset', { retryable: true });
      }
      return put(key, body, opts);
    };
    const bucket = new Bucket(driver, { retry: { initialDelayMs: 1 } });
    await bucket.put('k', 'v');
    const [span] = spans(`put ${driver.name}`);
    expect(span).toBeDefined();
    expect(span!.attributes).toMatchObject({
      'polycloud.provider': 'memory',
      'polycloud.service': 'blob',
      'polycloud.operation': 'put',
      'polycloud.resource.name': driver.name,
      'polycloud.resource.key': 'k',
      'polycloud.attempts': 2,
    });
    expect(span!.events.map((e) => e.name)).toEqual(['retry']);
    expect(span!.status.code).toBe(0);
  });

  it('records the outcome of a failure: error code, retryable, status ERROR', async () => {
    const bucket = new Bucket(new MemoryBucketDriver(new MemoryBucketStore(`b-${Math.random()}`)));
    await expect(bucket.head('missing')).rejects.toThrow();
    const [span] = spans(`head ${bucket.name}`);
    expect(span!.attributes).toMatchObject({
      'error.type': 'NOT_FOUND',
      'polycloud.error.code': 'NOT_FOUND',
      'polycloud.error.retryable': false,
      'polycloud.attempts': 1,
    });
    expect(span!.status.code).toBe(2);
  });
});

describe('trace context through queue messages', () => {
  it('a consumer span joins the producer trace, and the attribute stays hidden', async () => {
    const q = new Queue<string>(new MemoryQueueDriver(new MemoryQueueStore(`q-${Math.random()}`)));
    await q.send('hello', { attributes: { kind: 'greeting' } });
    const [send] = spans(`send ${q.name}`);
    expect(send!.attributes).toMatchObject({
      'messaging.system': 'memory',
      'messaging.destination.name': q.name,
      'messaging.operation.type': 'send',
    });
    const seen: Record<string, string>[] = [];
    await new Promise<void>((resolve, reject) => {
      const consumer = q.consume(async (m) => {
        seen.push({ ...m.attributes });
        resolve();
      });
      setTimeout(() => reject(new Error('no message')), 10_000).unref();
      void Promise.resolve().then(async () => {
        while (seen.length === 0) await new Promise((r) => setTimeout(r, 10));
        await consumer.stop();
      });
    });
    expect(seen).toEqual([{ kind: 'greeting' }]);
    let process: ReadableSpan | undefined;
    for (let i = 0; i < 100 && !process; i++) {
      [process] = spans(`process ${q.name}`);
      if (!process) await new Promise((r) => setTimeout(r, 10));
    }
    expect(process!.spanContext().traceId).toBe(send!.spanContext().traceId);
    expect(process!.parentSpanId).toBe(send!.spanContext().spanId);
    expect(process!.attributes['messaging.operation.type']).toBe('process');
  });
});

describe('debug logger hook', () => {
  it('gets one event per retried attempt and one per call', async () => {
    const events: DebugEvent[] = [];
    setDebugLogger((e) => events.push(e));
    const bucket = new Bucket(new MemoryBucketDriver(new MemoryBucketStore(`b-${Math.random()}`)));
    await bucket.put('k', 'v');
    await bucket.head('nope').catch(() => {});
    expect(events.map((e) => [e.event, e.operation, e.attempts])).toEqual([
      ['call', 'put', 1],
      ['call', 'head', 1],
    ]);
    expect((events[1]!.error as { code?: string }).code).toBe('NOT_FOUND');
  });
});

describe('metrics', () => {
  it('record call duration, retries and bytes', async () => {
    const driver = new MemoryBucketDriver(new MemoryBucketStore(`b-${Math.random()}`));
    const put = driver.put.bind(driver);
    let fail = true;
    driver.put = async (key, body, opts) => {
      if (fail) {
        fail = false;
        throw pcError('THROTTLED', 'slow down', { retryable: true });
      }
      return put(key, body, opts);
    };
    const bucket = new Bucket(driver, { retry: { initialDelayMs: 1 } });
    await bucket.put('k', 'twelve bytes');
    await reader.forceFlush();
    const names = new Map<string, number>();
    for (const rm of metricExporter.getMetrics())
      for (const sm of rm.scopeMetrics)
        for (const m of sm.metrics) {
          const sum = m.dataPoints.reduce((n, p) => {
            const v = p.value as number | { count: number };
            return n + (typeof v === 'number' ? v : v.count);
          }, 0);
          names.set(m.descriptor.name, sum);
        }
    expect(names.get('polycloud.client.operation.duration')).toBeGreaterThanOrEqual(1);
    expect(names.get('polycloud.client.retries')).toBeGreaterThanOrEqual(1);
    expect(names.get('polycloud.client.bytes')).toBeGreaterThanOrEqual(12);
  });

  it('count the bytes a read delivers, whole-body and streamed, on either driver shape', async () => {
    const getBytes = async () => {
      await reader.forceFlush();
      let n = 0;
      for (const rm of metricExporter.getMetrics())
        for (const sm of rm.scopeMetrics)
          for (const m of sm.metrics) {
            if (m.descriptor.name !== 'polycloud.client.bytes') continue;
            for (const p of m.dataPoints) {
              if (p.attributes['polycloud.operation'] === 'get') n += p.value as number;
            }
          }
      return n;
    };
    const driver = new MemoryBucketDriver(new MemoryBucketStore(`b-${Math.random()}`));
    // Without `read` the driver hands over a Web stream (the fallback path).
    const webOnly = Object.create(driver) as MemoryBucketDriver;
    (webOnly as { read?: unknown }).read = undefined;
    const body = new Uint8Array(5000).fill(7);
    await new Bucket(driver).put('k', body);
    const before = await getBytes();
    for (const b of [new Bucket(driver), new Bucket(webOnly)]) {
      expect((await b.getBytes('k')).byteLength).toBe(5000);
      const r = await b.get('k', { range: { offset: 1000 } });
      let streamed = 0;
      for await (const c of r.body as unknown as AsyncIterable<Uint8Array>) streamed += c.byteLength;
      expect(streamed).toBe(4000);
    }
    // Cumulative counters: the two buckets read 2 × (5000 + 4000) bytes.
    expect((await getBytes()) - before).toBe(18_000);
  });
});
