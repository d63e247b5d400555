/**
 * Queues on SQS (ElasticMQ), Pub/Sub (pstest) and Azure Queue (Azurite), 1 KiB bodies:
 *
 * - consume: time to drain a pre-filled queue with `Queue.consume()` (concurrency 16) against a
 *   hand-batched consumer written the way each SDK's docs recommend (SQS: ReceiveMessage 10 with
 *   long polling + DeleteMessageBatch, two pollers; Pub/Sub: streaming pull with flow control 16,
 *   against both of polycloud's consume paths, streaming pull (the default) and sync pull;
 *   Azure: receiveMessages 32 + deleteMessage each) in ABBA drains, and against a naive loop
 *   (receive one, delete one, sequential). The fill is not timed.
 * - send (c=16) and sendBatch (batches of 10, c=4) against the SDK's single and batch send.
 * - latency: end to end, send to handler, with the consumer running and one message every 10 ms.
 *
 * All rows are in µs (or ms) per message, lower is better: vs naive the goal is ≤ 0.2 (5× the
 * throughput), vs hand-batched ≤ 1.0.
 */
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { QueueServiceClient } from '@azure/storage-queue';
import { createSqsClient, sqsQueue } from '@polycloud/aws/sqs';
import { azureQueue } from '@polycloud/azure/queue';
import type { Queue } from '@polycloud/core';
import { pubsubClient, pubsubQueue } from '@polycloud/gcp/pubsub';
import { abba } from './abba.js';
import { type BenchSettings, formatRatio, median, progress, quantile, sortedCopy } from './common.js';
import { rand, startAzuriteOnDisk, withEmulator } from './emulators.js';
import type { Row } from './results.js';

const PAD = 'x'.repeat(1024);
const CONCURRENCY = 16;
const BATCH = 10;
/** `<tag>|<performance.now() at send>|padding`: 1 KiB and a bit. */
const body = (tag: string) => `${tag}|${performance.now()}|${PAD}`.slice(0, 1024);

type OnMessage = (body: string) => void;
/** Runs until `signal` aborts, calling `onMessage` for every message it deleted/acked. */
type Consumer = (onMessage: OnMessage, signal: AbortSignal) => Promise<void>;

/** One queue (or topic + subscription) with polycloud and the raw clients on it. */
interface Opened {
  readonly pc: Queue<string>;
  /** The same queue with the provider's other consume path (Pub/Sub: synchronous pull). */
  readonly pcAlt?: Queue<string>;
  rawSend(text: string): Promise<unknown>;
  rawSendBatch(texts: readonly string[]): Promise<unknown>;
  readonly naive: Consumer;
  readonly batched: Consumer;
  close(): Promise<void>;
}

interface QueueTarget {
  readonly provider: string;
  readonly note: string;
  readonly batchedName: string;
  /** A bound on each hand-batched drain, where the baseline cannot run longer (ms). */
  readonly batchedLimitMs?: number;
  /** What `pc` and `pcAlt` consume with, where the provider has two paths. */
  readonly variants?: readonly [string, string];
  /**
   * A fresh queue for each drain: a consumer stopped while its long poll is in flight leaves
   * the server a request that can still take messages (invisible for the visibility timeout,
   * ~30 s), which would otherwise stall the next drain.
   */
  open(): Promise<Opened>;
}

const pcConsumer =
  (q: Queue<string>): Consumer =>
  async (onMessage, signal) => {
    const c = q.consume((m) => onMessage(m.body), { concurrency: CONCURRENCY });
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    await c.stop();
  };

/**
 * Starts `consumer` and waits until `n` messages tagged `tag` went through, or the time limit;
 * µs per message over what it saw (a consumer too slow for the limit is still measured).
 */
async function run(consumer: Consumer, tag: string, n: number, limitMs = drainLimitMs(n)): Promise<number> {
  const ac = new AbortController();
  let seen = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const t0 = performance.now();
  const running = consumer((b) => {
    if (!b.startsWith(`${tag}|`)) return;
    if (++seen === n) done();
  }, ac.signal);
  const timeout = setTimeout(done, limitMs);
  await Promise.race([finished, running]);
  const ms = performance.now() - t0;
  clearTimeout(timeout);
  ac.abort();
  await running.catch(() => {});
  if (seen === 0) throw new Error(`consumer saw none of ${n} messages tagged ${tag} in ${limitMs} ms`);
  if (seen < n)
    progress(`consumer saw ${seen} of ${n} messages tagged ${tag} in ${limitMs} ms; rate from those`);
  return (ms * 1000) / seen;
}

/** A drain may take 60 s, or 6 ms per message for big drains (BENCH_QUEUE_MESSAGES=20000: 120 s). */
const drainLimitMs = (n: number) => Math.max(60_000, n * 6);

async function fill(q: Queue<string>, tag: string, n: number): Promise<void> {
  const chunk = 100;
  const jobs: Promise<unknown>[] = [];
  for (let i = 0; i < n; i += chunk) {
    const msgs = Array.from({ length: Math.min(chunk, n - i) }, () => ({ body: body(tag) }));
    jobs.push(
      q.sendBatch(msgs).then((rs) => {
        const bad = rs.find((r) => !r.ok);
        if (bad && !bad.ok) throw bad.error;
      }),
    );
    if (jobs.length >= 4) await Promise.all(jobs.splice(0));
  }
  await Promise.all(jobs);
}

async function measure(s: BenchSettings, t: QueueTarget): Promise<Row[]> {
  const rows: Row[] = [];
  const n = s.queueMessages;
  const base = { section: 'queue', provider: t.provider, service: 'queue' as const, note: t.note };
  const onFresh = async <T>(body: (q: Opened) => Promise<T>): Promise<T> => {
    const q = await t.open();
    try {
      return await body(q);
    } finally {
      await q.close();
    }
  };
  // Warm-up of both consumers and the send paths.
  await onFresh(async (q) => {
    await fill(q.pc, 'warma', 20);
    await run(pcConsumer(q.pc), 'warma', 20);
  });
  await onFresh(async (q) => {
    await fill(q.pc, 'warmb', 20);
    await run(q.batched, 'warmb', 20);
  });

  // consume() vs hand-batched, ABBA drains of n messages each (with a second consume path,
  // its drains sit next to the first one's: B A A' A' A B ...).
  type Side = 'pc' | 'alt' | 'batched';
  const per: Record<Side, number[]> = { pc: [], alt: [], batched: [] };
  const order: readonly Side[] = t.variants
    ? ['batched', 'pc', 'alt', 'alt', 'pc', 'batched', 'batched', 'pc', 'alt', 'alt', 'pc', 'batched']
    : ['batched', 'pc', 'pc', 'batched', 'batched', 'pc', 'pc', 'batched'];
  let round = 0;
  for (const side of order) {
    if (s.quick && round >= order.length / 2) break;
    const tag = `d${round++}`;
    const us = await onFresh(async (q) => {
      await fill(q.pc, tag, n);
      if (side === 'batched')
        return run(q.batched, tag, n, Math.min(drainLimitMs(n), t.batchedLimitMs ?? Infinity));
      return run(pcConsumer(side === 'alt' ? q.pcAlt! : q.pc), tag, n);
    });
    per[side].push(us);
    progress(`${t.provider} drain ${n} via ${side}: ${(1e6 / us).toFixed(0)} msg/s`);
  }
  const sides: { side: 'pc' | 'alt'; label: string | undefined }[] = t.variants
    ? [
        { side: 'pc', label: t.variants[0] },
        { side: 'alt', label: t.variants[1] },
      ]
    : [{ side: 'pc', label: undefined }];

  // Naive loop: one drain of fewer messages (it is slow by design).
  const nn = s.queueNaiveMessages;
  const naiveUs = await onFresh(async (q) => {
    await fill(q.pc, 'naive', nn);
    return run(q.naive, 'naive', nn);
  });
  progress(`${t.provider} drain ${nn} via naive loop: ${(1e6 / naiveUs).toFixed(0)} msg/s`);

  // End-to-end latency with the consumer idle-waiting and one message every 10 ms.
  const latency = async (consumer: Consumer, send: (text: string) => Promise<unknown>) => {
    const lat: number[] = [];
    const count = s.quick ? 30 : 100;
    const tag = `lat${rand()}`;
    const ac = new AbortController();
    let seen = 0;
    let done!: () => void;
    const finished = new Promise<void>((r) => {
      done = r;
    });
    const running = consumer((b) => {
      if (!b.startsWith(`${tag}|`)) return;
      lat.push(performance.now() - Number(b.split('|')[1]));
      if (++seen === count) done();
    }, ac.signal);
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < count; i++) {
      void send(body(tag));
      await new Promise((r) => setTimeout(r, 10));
    }
    const timeout = setTimeout(done, 30_000);
    await finished;
    clearTimeout(timeout);
    ac.abort();
    await running.catch(() => {});
    const sorted = sortedCopy(lat);
    return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) };
  };
  const rawLat = await onFresh((q) => latency(q.batched, (x) => q.rawSend(x)));
  for (const { side, label } of sides) {
    const pcLat = await onFresh((q) =>
      latency(pcConsumer(side === 'alt' ? q.pcAlt! : q.pc), (x) => q.pc.send(x)),
    );
    const pcUs = median(per[side]);
    const batchedUs = median(per.batched);
    const blocks = per[side].map((p, i) => p / per.batched[i]!);
    const variant = label ? `, ${label}` : '';
    rows.push({
      ...base,
      operation: label ? `consume (${label})` : 'consume',
      concurrency: CONCURRENCY,
      ratio: pcUs / batchedUs,
      noise: [Math.min(...blocks), Math.max(...blocks)],
      polycloud: pcUs,
      raw: batchedUs,
      unit: 'µs/msg',
      baseline: `hand-batched (${t.batchedName})`,
      goal: 1.0,
      latencyMs: { raw: rawLat, polycloud: pcLat },
      ops: n,
    });
    rows.push({
      ...base,
      operation: label ? `consume (${label})` : 'consume',
      concurrency: CONCURRENCY,
      ratio: pcUs / naiveUs,
      noise: [Math.min(...per[side]) / naiveUs, Math.max(...per[side]) / naiveUs],
      polycloud: pcUs,
      raw: naiveUs,
      unit: 'µs/msg',
      baseline: 'naive loop (receive 1, delete 1)',
      goal: 0.2,
      ops: nn,
    });
    progress(
      `${t.provider} consume${variant}: ${formatRatio(pcUs / batchedUs)} of hand-batched, ${formatRatio(pcUs / naiveUs)} of naive; e2e p50/p99 ${pcLat.p50.toFixed(1)}/${pcLat.p99.toFixed(1)} ms (raw ${rawLat.p50.toFixed(1)}/${rawLat.p99.toFixed(1)})`,
    );
  }
  const t2 = await t.open();

  // Sends last: what they leave in the queue is never counted by a drain (tags differ).
  const send = await abba(
    { raw: () => t2.rawSend(body('s')), polycloud: () => t2.pc.send(body('s')) },
    { concurrency: CONCURRENCY, cellMs: s.queueSendMs, rounds: s.rounds },
  );
  const batch = () => Array.from({ length: BATCH }, () => body('b'));
  const sendBatch = await abba(
    {
      raw: () => t2.rawSendBatch(batch()),
      polycloud: () => t2.pc.sendBatch(batch().map((b) => ({ body: b }))),
    },
    { concurrency: 4, cellMs: s.queueSendMs, rounds: s.rounds },
  );
  for (const [op, c, per, baseline] of [
    ['send', send, 1, 'SDK single send'],
    ['sendBatch', sendBatch, BATCH, 'SDK batch send (hand-batched)'],
  ] as const) {
    rows.push({
      ...base,
      operation: op,
      concurrency: op === 'send' ? CONCURRENCY : 4,
      ratio: c.ratio,
      noise: c.noise,
      polycloud: (c.polycloud.msPerOp * 1000) / per,
      raw: (c.raw.msPerOp * 1000) / per,
      unit: 'µs/msg',
      baseline,
      goal: op === 'send' ? 1.02 : 1.0,
      cpu: {
        raw: c.raw.cpuUsPerOp / per,
        polycloud: c.polycloud.cpuUsPerOp / per,
        ratio: c.cpuRatio,
        noise: c.cpuNoise,
      },
      latencyMs: {
        raw: { p50: c.raw.p50, p99: c.raw.p99 },
        polycloud: { p50: c.polycloud.p50, p99: c.polycloud.p99 },
      },
      ops: c.raw.ops * per,
    });
    progress(`${t.provider} ${op}: ratio ${formatRatio(c.ratio)} [${c.noise.map(formatRatio).join('..')}]`);
  }
  await t2.close();
  return rows;
}

const aborted = (signal: AbortSignal) => signal.aborted;

async function sqs(s: BenchSettings): Promise<Row[]> {
  return withEmulator('elasticmq', async (e) => {
    const client = createSqsClient({
      endpoint: e.env.AWS_ENDPOINT_URL_SQS ?? e.env.AWS_ENDPOINT_URL!,
      region: e.env.AWS_REGION ?? 'us-east-1',
      clientConfig: { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
    });
    const open = async (): Promise<Opened> => {
      const created = await client.send(new CreateQueueCommand({ QueueName: `pc-bench-${rand()}` }));
      const QueueUrl = created.QueueUrl!;
      const pc = await sqsQueue<string>({ queueUrl: QueueUrl, client });
      // The naive loop takes the API's defaults (one message, short poll); the batched one long-polls.
      const poller =
        (max: number, batchDelete: boolean) => async (onMessage: OnMessage, signal: AbortSignal) => {
          while (!aborted(signal)) {
            const r = await client
              .send(
                new ReceiveMessageCommand({
                  QueueUrl,
                  MaxNumberOfMessages: max,
                  WaitTimeSeconds: batchDelete ? 20 : 0,
                }),
                {
                  abortSignal: signal,
                },
              )
              .catch((err: unknown) => {
                if (aborted(signal)) return { Messages: [] };
                throw err;
              });
            const msgs = r.Messages ?? [];
            if (msgs.length === 0) continue;
            if (batchDelete) {
              await client.send(
                new DeleteMessageBatchCommand({
                  QueueUrl,
                  Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
                }),
              );
            } else {
              for (const m of msgs)
                await client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle! }));
            }
            for (const m of msgs) onMessage(bodyText(m.Body ?? ''));
          }
        };
      return {
        pc,
        close: () => pc.close(),
        rawSend: (b) => client.send(new SendMessageCommand({ QueueUrl, MessageBody: b })),
        rawSendBatch: (bs) =>
          client.send(
            new SendMessageBatchCommand({
              QueueUrl,
              Entries: bs.map((b, i) => ({ Id: String(i), MessageBody: b })),
            }),
          ),
        naive: poller(1, false),
        batched: async (onMessage, signal) => {
          const one = poller(10, true);
          await Promise.all([one(onMessage, signal), one(onMessage, signal)]);
        },
      };
    };
    try {
      return await measure(s, {
        provider: 'aws',
        note: e.description,
        batchedName: 'ReceiveMessage 10 + DeleteMessageBatch, 2 pollers',
        open,
      });
    } finally {
      client.destroy();
    }
  });
}

async function pubsub(s: BenchSettings): Promise<Row[]> {
  return withEmulator('pstest', async (e) => {
    const projectId = e.env.GOOGLE_CLOUD_PROJECT ?? 'polycloud-test';
    const client = pubsubClient({ projectId, apiEndpoint: e.env.PUBSUB_EMULATOR_HOST! });
    const open = async (): Promise<Opened> => {
      const name = `pc-bench-${rand()}`;
      const [topic] = await client.createTopic(name);
      await topic.createSubscription(name, { ackDeadlineSeconds: 30 });
      const pc = await pubsubQueue<string>({ topic: name, subscription: name, projectId, client });
      const pcAlt = await pubsubQueue<string>({
        topic: name,
        subscription: name,
        projectId,
        client,
        consumePull: 'sync',
      });
      const single = client.topic(name, { batching: { maxMessages: 1 } });
      const batching = client.topic(name, { batching: { maxMessages: 100, maxMilliseconds: 10 } });
      const subscription = `projects/${projectId}/subscriptions/${name}`;
      const request = <T>(method: string, reqOpts: object) =>
        new Promise<T>((resolve, reject) =>
          client.request<T>({ client: 'SubscriberClient', method, reqOpts }, (err, res) =>
            err ? reject(err) : resolve(res as T),
          ),
        );
      return {
        pc,
        pcAlt,
        // Delete what a drain leaves: pstest scans every subscription's messages on each 10 ms
        // delivery tick under one lock, so leftovers of 20,000-message drains slow all later ones.
        close: async () => {
          await pc.close();
          await pcAlt.close();
          await client
            .subscription(name)
            .delete()
            .catch(() => {});
          await topic.delete().catch(() => {});
        },
        rawSend: (b) => single.publishMessage({ data: Buffer.from(b) }),
        rawSendBatch: (bs) => Promise.all(bs.map((b) => batching.publishMessage({ data: Buffer.from(b) }))),
        // Synchronous pull of one message, then acknowledge it.
        naive: async (onMessage, signal) => {
          while (!aborted(signal)) {
            const r = await request<{ receivedMessages?: { ackId: string; message: { data: Buffer } }[] }>(
              'pull',
              {
                subscription,
                maxMessages: 1,
              },
            );
            for (const m of r.receivedMessages ?? []) {
              await request('acknowledge', { subscription, ackIds: [m.ackId] });
              onMessage(bodyText(Buffer.from(m.message.data).toString('utf8')));
            }
          }
        },
        // Streaming pull with flow control, as the client library's docs show.
        batched: async (onMessage, signal) => {
          const sub = client.subscription(name, {
            flowControl: { maxMessages: CONCURRENCY, allowExcessMessages: false },
          });
          sub.on('message', (m) => {
            m.ack();
            onMessage(bodyText(m.data.toString('utf8')));
          });
          sub.on('error', () => {});
          await new Promise<void>((resolve) =>
            signal.addEventListener('abort', () => resolve(), { once: true }),
          );
          await sub.close();
        },
      };
    };
    try {
      return await measure(s, {
        provider: 'gcp',
        note: e.description,
        batchedName: 'streaming pull, flowControl 16',
        variants: ['streaming pull', 'sync pull'],
        // The library sends a keepalive every 30 s on protocol version 1; pstest answers it with a
        // blocking send under its server lock, which deadlocks the emulator once the library's
        // flow control has paused the stream (a full drain of 20,000 at ~100 msg/s does).
        batchedLimitMs: 25_000,
        open,
      });
    } finally {
      await client.close();
    }
  });
}

async function azure(s: BenchSettings): Promise<Row[]> {
  const e = await startAzuriteOnDisk();
  try {
    const service = QueueServiceClient.fromConnectionString(e.env.AZURE_STORAGE_CONNECTION_STRING!);
    const open = async (): Promise<Opened> => {
      const client = service.getQueueClient(`pc-bench-${rand()}`);
      await client.create();
      const pc = azureQueue<string>({ client });
      const poller =
        (max: number, parallelDelete: boolean) => async (onMessage: OnMessage, signal: AbortSignal) => {
          while (!aborted(signal)) {
            const r = await client.receiveMessages({ numberOfMessages: max, visibilityTimeout: 30 });
            const items = r.receivedMessageItems;
            if (items.length === 0) {
              await new Promise((res) => setTimeout(res, 50));
              continue;
            }
            if (parallelDelete)
              await Promise.all(items.map((m) => client.deleteMessage(m.messageId, m.popReceipt)));
            else for (const m of items) await client.deleteMessage(m.messageId, m.popReceipt);
            for (const m of items) onMessage(bodyText(m.messageText));
          }
        };
      return {
        pc,
        close: () => pc.close(),
        rawSend: (b) => client.sendMessage(b),
        rawSendBatch: (bs) => Promise.all(bs.map((b) => client.sendMessage(b))),
        naive: poller(1, false),
        batched: poller(32, true),
      };
    };
    return await measure(s, {
      provider: 'azure',
      note: e.description,
      batchedName: 'receiveMessages 32 + parallel deleteMessage',
      open,
    });
  } finally {
    await e.stop();
  }
}

/** Finds the bench's `<tag>|<ts>|` text inside whatever wrapping the provider adapter used. */
function bodyText(raw: string): string {
  if (/^[a-z0-9]+\|/.test(raw)) return raw;
  try {
    const decoded = Buffer.from(raw, 'base64').toString('utf8');
    const m = /([a-z0-9]+\|[0-9.]+\|x*)/.exec(decoded);
    if (m) return m[1]!;
  } catch {}
  const m = /([a-z0-9]+\|[0-9.]+\|x*)/.exec(raw);
  return m ? m[1]! : raw;
}

export const QUEUE_PROVIDERS: Record<string, (s: BenchSettings) => Promise<Row[]>> = {
  aws: sqs,
  gcp: pubsub,
  azure,
};
