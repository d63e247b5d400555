// Calls skip their telemetry while nothing could observe it; a debug logger or an SDK registered
// later must still see every call after it.
import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { MemoryKvDriver, MemoryKvNamespace } from '@polycloud/memory';
import { afterAll, describe, expect, it } from 'vitest';
import { type DebugEvent, KvStore, setDebugLogger } from '../src/index.js';

afterAll(() => {
  trace.disable();
  setDebugLogger(undefined);
});

describe('telemetry without an SDK, then with one', () => {
  it('a debug logger sees calls made while no SDK is registered', async () => {
    const kv = new KvStore(new MemoryKvDriver(new MemoryKvNamespace('late-sdk-log', 'default')));
    await kv.set('a', 1); // loads the API
    const events: DebugEvent[] = [];
    setDebugLogger((e) => events.push(e));
    await kv.get('a');
    setDebugLogger(undefined);
    await kv.get('a');
    expect(events).toEqual([
      expect.objectContaining({
        event: 'call',
        operation: 'get',
        service: 'kv',
        resource: { name: kv.name, key: 'a' },
      }),
    ]);
  });

  it('a tracer provider registered after the first calls gets spans for the next ones', async () => {
    const kv = new KvStore(new MemoryKvDriver(new MemoryKvNamespace('late-sdk-trace', 'default')));
    await kv.set('a', 1);
    await kv.get('a');
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider();
    provider.addSpanProcessor(new SimpleSpanProcessor(exporter));
    provider.register();
    await kv.get('a');
    const spans = exporter.getFinishedSpans().map((s) => s.name);
    expect(spans).toEqual([`get ${kv.name}`]);
    expect(exporter.getFinishedSpans()[0]!.attributes).toMatchObject({
      'polycloud.service': 'kv',
      'polycloud.operation': 'get',
      'polycloud.resource.key': 'a',
    });
  });
});
