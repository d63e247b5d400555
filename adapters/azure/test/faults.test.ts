import { TableClient } from '@azure/data-tables';
import { QueueServiceClient } from '@azure/storage-queue';
import { azureQueue } from '@polycloud/azure/queue';
import { azureKv } from '@polycloud/azure/table';
import { FaultProxy } from '@polycloud/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectionStringAccount,
  connectionStringEndpoint,
  connectionStringKey,
} from '../src/credentials.js';
import { azuriteTarget, rand } from './emulator.js';

// Issue 18.2 and 18.3 on Azurite, through a proxy that resets ~5% of connections: sends and
// acks are retried by the portable layer (the SDK's retries are off), and a cut-off answer is
// UNAVAILABLE and retried, never UNKNOWN or CANCELLED.
const { connectionString, notRun } = azuriteTarget();
const N = 300;

describe.skipIf(notRun !== undefined)('Azure under connection resets (Azurite)', () => {
  const cs = connectionString!;
  const account = connectionStringAccount(cs)!;
  const accountKey = connectionStringKey(cs)!;
  const proxies: FaultProxy[] = [];
  const through = async (service: 'queue' | 'table') => {
    const u = new URL(connectionStringEndpoint(cs, service)!);
    // ~5% of chunks cut, requests and answers alike.
    const p = await FaultProxy.to(
      u.origin,
      { kind: 'reset-chunk', direction: 'both', probability: 0.025 },
      7,
    );
    proxies.push(p);
    return { proxy: p, endpoint: `${p.url}${u.pathname}` };
  };
  const queueName = `pc-faults-${rand()}`;
  const table = `pcfaults${rand().replace(/-/g, '')}`;

  beforeAll(async () => {
    await QueueServiceClient.fromConnectionString(cs).getQueueClient(queueName).create();
    await TableClient.fromConnectionString(cs, table, { allowInsecureConnection: true }).createTable();
  });
  afterAll(async () => {
    for (const p of proxies) await p.stop();
    await QueueServiceClient.fromConnectionString(cs).getQueueClient(queueName).deleteIfExists();
    await TableClient.fromConnectionString(cs, table, { allowInsecureConnection: true })
      .deleteTable()
      .catch(() => {});
  });

  it('every send and ack succeeds; each message arrives (at least once)', async () => {
    const { proxy, endpoint } = await through('queue');
    const q = azureQueue<number>({ queue: queueName, account, accountKey, endpoint });
    const sent = await q.sendBatch(Array.from({ length: N }, (_, i) => ({ body: i })));
    const failed = sent.filter((r) => !r.ok);
    expect(failed).toEqual([]);
    const seen = new Set<number>();
    // A receive whose answer was lost hid its messages for the visibility timeout: they come
    // back (at-least-once), so keep receiving with a short one until all have been seen.
    const deadline = Date.now() + 120_000;
    while (seen.size < N && Date.now() < deadline) {
      const msgs = await q.receive({ maxMessages: 32, waitSeconds: 1, visibilityTimeoutSeconds: 1 });
      for (const m of msgs) seen.add(m.body);
      const acks = await q.ack(msgs);
      expect(acks.filter((a) => !a.ok)).toEqual([]);
    }
    expect(seen.size).toBe(N);
    expect(proxy.stats.resets).toBeGreaterThan(0);
  }, 300_000);

  it('kv reads and unconditional writes ride out resets; nothing is UNKNOWN', async () => {
    const { proxy, endpoint } = await through('table');
    const kv = azureKv({ table, namespace: 'n', account, accountKey, endpoint });
    for (let i = 0; i < N / 3; i++) {
      await kv.set(`k${i % 10}`, i);
      expect((await kv.get(`k${i % 10}`))?.value).toBe(i);
    }
    expect(proxy.stats.resets).toBeGreaterThan(0);
  }, 300_000);
});
