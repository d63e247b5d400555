import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  createSqsClient,
  decodeBody,
  encodeBody,
  SqsQueue,
  sqsQueue,
  UNGROUPED_PREFIX,
} from '@polycloud/aws/sqs';
import { bytesCodec, isPolycloudError, type Message, openQueue, type Queue } from '@polycloud/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsTarget, rand } from './emulator.js';

describe('SQS body encoding', () => {
  it('sends XML-safe UTF-8 as text and everything else as base64', () => {
    const text = new TextEncoder().encode('{"a":"ü 😀"}\n\t');
    expect(encodeBody(text)).toEqual({ text: '{"a":"ü 😀"}\n\t', marker: undefined });
    for (const bytes of [
      new Uint8Array([0xff, 0x00]),
      new TextEncoder().encode('nul \u0000'),
      new TextEncoder().encode('cr\r\n'),
      new TextEncoder().encode('\uFFFE'),
      new Uint8Array([0xed, 0xa0, 0x80]), // an encoded surrogate: not UTF-8
    ]) {
      const e = encodeBody(bytes);
      expect(e.marker).toBe('base64');
      expect(decodeBody(e.text, e.marker)).toEqual(bytes);
    }
    // A leading BOM is kept as a character (decoders must not swallow it).
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, 0x41]);
    expect(encodeBody(bom)).toEqual({ text: '\uFEFFA', marker: undefined });
    expect(decodeBody('\uFEFFA', undefined)).toEqual(bom);
    expect(encodeBody(new Uint8Array())).toEqual({ text: '-', marker: 'empty' });
    expect(decodeBody('-', 'empty')).toEqual(new Uint8Array());
  });
});

for (const emulator of ['moto', 'elasticmq'] as const) {
  const { target, notRun } = awsTarget(emulator, 'SQS');

  describe.skipIf(notRun !== undefined)(`SQS adapter (${emulator})`, () => {
    const t = target!;
    let client: SQSClient;
    const created: string[] = [];

    beforeAll(() => {
      client = createSqsClient({
        endpoint: t.endpoint,
        region: t.region,
        clientConfig: { credentials: t.credentials },
      });
    });
    afterAll(async () => {
      for (const url of created) await client.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => {});
      client.destroy();
    });

    async function fresh(
      attributes: Record<string, string> = {},
      suffix = '',
    ): Promise<{ name: string; url: string }> {
      const name = `pc-${rand()}${suffix}`;
      const out = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
      created.push(out.QueueUrl!);
      return { name, url: out.QueueUrl! };
    }

    async function receiveAll<T>(q: Queue<T>, n: number, timeoutMs = 20_000): Promise<Message<T>[]> {
      const out: Message<T>[] = [];
      const deadline = Date.now() + timeoutMs;
      while (out.length < n && Date.now() < deadline) {
        const got = await q.receive({ maxMessages: 10, waitSeconds: 1 });
        out.push(...got);
        if (got.length > 0) await q.ack(got);
      }
      return out;
    }

    it('FIFO: order is kept within each group, groupId is reported, duplicates are dropped', async () => {
      const { name } = await fresh({ FifoQueue: 'true' }, '.fifo');
      const q = await sqsQueue<{ g: string; i: number }>({ queueName: name, client });
      expect(q.capabilities).toMatchObject({ groupId: true, deduplicationId: true, delay: false });
      const sent: { g: string; i: number }[] = [];
      for (let i = 0; i < 8; i++) for (const g of ['A', 'B', 'C']) sent.push({ g, i });
      const results = await q.sendBatch(sent.map((body) => ({ body, groupId: body.g })));
      expect(results.every((r) => r.ok)).toBe(true);
      // A retried send with the same deduplication id is delivered once.
      await q.send({ g: 'D', i: 0 }, { groupId: 'D', deduplicationId: 'once' });
      await q.send({ g: 'D', i: 0 }, { groupId: 'D', deduplicationId: 'once' });
      const got = await receiveAll(q, sent.length + 1);
      expect(got.length).toBe(sent.length + 1);
      for (const g of ['A', 'B', 'C']) {
        const ofGroup = got.filter((m) => m.body.g === g);
        expect(ofGroup.map((m) => m.body.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
        expect(ofGroup.every((m) => m.groupId === g)).toBe(true);
      }
      expect(await q.receive({ waitSeconds: 1 })).toEqual([]);
      // Per-message delays do not exist on FIFO queues: rejected before any I/O.
      await expect(q.send({ g: 'x', i: 0 }, { groupId: 'x', delaySeconds: 1 })).rejects.toMatchObject({
        code: 'UNSUPPORTED',
      });
      await q.close();
    });

    it('FIFO: a message without a groupId gets a group of its own, reported as no group', async () => {
      const { name, url } = await fresh({ FifoQueue: 'true', ContentBasedDeduplication: 'false' }, '.fifo');
      const q = await sqsQueue<number>({ queueName: name, client });
      await q.sendBatch([0, 1, 2].map((body) => ({ body })));
      // Not blocked behind one another: each receive gets another message while the others are in flight.
      const first = await q.receive({ waitSeconds: 2, visibilityTimeoutSeconds: 60 });
      const second = await q.receive({ waitSeconds: 2, visibilityTimeoutSeconds: 60 });
      const third = await q.receive({ waitSeconds: 2, visibilityTimeoutSeconds: 60 });
      const got = [...first, ...second, ...third];
      expect(got.map((m) => m.body).sort()).toEqual([0, 1, 2]);
      expect(got.every((m) => m.groupId === undefined)).toBe(true);
      await q.ack(got);
      // On the wire: a driver-chosen MessageGroupId, one per message.
      await q.send(3);
      await q.send(3);
      const raw = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 2,
          MessageSystemAttributeNames: ['MessageGroupId'],
          AttributeNames: ['All'],
        }),
      );
      const groups = (raw.Messages ?? []).map((m) => m.Attributes?.MessageGroupId ?? '');
      expect(groups.length).toBe(2); // identical bodies are not deduplicated: each got its own id
      expect(groups.every((g) => g.startsWith(UNGROUPED_PREFIX))).toBe(true);
      expect(new Set(groups).size).toBe(2);
      // The prefix is reserved.
      await expect(q.send(4, { groupId: `${UNGROUPED_PREFIX}x` })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
      await q.close();
    });

    it('FIFO: one groupId keeps messages in order and blocks the group while one is in flight', async () => {
      const { name } = await fresh({ FifoQueue: 'true' }, '.fifo');
      const q = await sqsQueue<string>({ queueName: name, client });
      await q.sendBatch(['A0', 'A1', 'B0'].map((body) => ({ body, groupId: body[0] })));
      const [a0] = await q.receive({ waitSeconds: 2, visibilityTimeoutSeconds: 60 });
      expect(a0?.body).toBe('A0');
      expect(a0?.groupId).toBe('A');
      // A1 waits for A0; B0 is free.
      const next = await q.receive({ maxMessages: 10, waitSeconds: 1, visibilityTimeoutSeconds: 60 });
      expect(next.map((m) => m.body)).toEqual(['B0']);
      await q.ack([a0!, ...next]);
      const [a1] = await q.receive({ waitSeconds: 2 });
      expect(a1?.body).toBe('A1');
      await q.ack(a1!);
      await q.close();
    });

    it('FIFO: with ContentBasedDeduplication, identical bodies without a deduplicationId are sent once', async () => {
      const { name } = await fresh({ FifoQueue: 'true', ContentBasedDeduplication: 'true' }, '.fifo');
      const q = await sqsQueue<string>({ queueName: name, client });
      await q.send('same');
      await q.send('same');
      await q.send('same', { deduplicationId: 'explicit' });
      await q.send('other');
      const got = await receiveAll(q, 3, 8_000);
      expect(got.map((m) => m.body).sort()).toEqual(['other', 'same', 'same']);
      await q.close();
    });

    it('standard queues reject groupId and deduplicationId before any I/O', async () => {
      const { name } = await fresh();
      const q = await sqsQueue({ queueName: name, client });
      expect(q.capabilities).toMatchObject({
        groupId: false,
        deduplicationId: false,
        delay: true,
        nativeDeadLetter: false,
      });
      await expect(q.send(1, { groupId: 'g' })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
      await expect(q.send(1, { deduplicationId: 'd' })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    });

    it('binary bodies travel as base64 with a marker; text bodies stay readable by other clients', async () => {
      const { name, url } = await fresh();
      const q = (await sqsQueue({ queueName: name, client })).withCodec(bytesCodec);
      const binary = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) % 256);
      const bom = new Uint8Array([0xef, 0xbb, 0xbf, 0x41]);
      await q.send(binary);
      const raw = await client.send(
        new ReceiveMessageCommand({ QueueUrl: url, MessageAttributeNames: ['All'], WaitTimeSeconds: 2 }),
      );
      const m = raw.Messages?.[0];
      expect(m?.MessageAttributes?.['polycloud-body']?.StringValue).toBe('base64');
      expect(Buffer.from(m?.Body ?? '', 'base64')).toEqual(Buffer.from(binary));

      // A text body that starts with a byte-order mark keeps it.
      await q.send(bom);
      const [withBom] = await receiveAll(q, 1);
      expect(withBom?.body).toEqual(bom);

      // A message from a plain SQS producer is read as its UTF-8 bytes.
      await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '{"from":"elsewhere"}' }));
      const json = await sqsQueue<{ from: string }>({ queueName: name, client });
      const [foreign] = await receiveAll(json, 1);
      expect(foreign?.body).toEqual({ from: 'elsewhere' });
    });

    it('attribute values SQS cannot carry as String round-trip', async () => {
      const { name } = await fresh();
      const q = await sqsQueue({ queueName: name, client });
      const attributes = { empty: '', ctl: 'a\u0001b', cr: 'x\r\ny', plain: 'ok', uni: 'Zoë 😀' };
      await q.send('x', { attributes });
      const [m] = await receiveAll(q, 1);
      expect(m?.attributes).toEqual(attributes);
    });

    it('a batch over the size limit is split into several calls, every message sent', async () => {
      const { name } = await fresh();
      const q = (await sqsQueue({ queueName: name, client })).withCodec(bytesCodec);
      const size = Math.floor(q.capabilities.maxMessageBytes / 3);
      const bodies = Array.from({ length: 10 }, (_, i) => new Uint8Array(size).fill(65 + i));
      const results = await q.sendBatch(bodies.map((body) => ({ body })));
      expect(results.every((r) => r.ok)).toBe(true);
      const got = await receiveAll(q, 10, 30_000);
      expect(got.map((m) => m.body[0]).sort()).toEqual(bodies.map((b) => b[0]).sort());
    });

    it('a RedrivePolicy makes nativeDeadLetter true; capabilities follow MaximumMessageSize', async () => {
      const dlq = await fresh();
      const attrs = await client.send(
        new GetQueueAttributesCommand({ QueueUrl: dlq.url, AttributeNames: ['QueueArn'] }),
      );
      const arn = attrs.Attributes?.QueueArn;
      const { name } = await fresh({
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: 2 }),
        MaximumMessageSize: '4096',
      });
      const q = await sqsQueue({ queueName: name, client });
      expect(q.capabilities.nativeDeadLetter).toBe(true);
      // What the server reports (ElasticMQ reports no MaximumMessageSize: 256 KiB is assumed).
      const reported = await client.send(
        new GetQueueAttributesCommand({ QueueUrl: q.queueUrl, AttributeNames: ['MaximumMessageSize'] }),
      );
      const limit = Number(reported.Attributes?.MaximumMessageSize ?? 262_144);
      if (emulator === 'moto') expect(limit).toBe(4096);
      expect(q.capabilities.maxMessageBytes).toBe(Math.floor(((limit - 256) * 3) / 4));
      expect(Object.isFrozen(q.capabilities)).toBe(true);
    });

    it('opens by URL, by queue URL, and reports a missing queue as NOT_FOUND', async () => {
      const { name, url } = await fresh();
      const byUrl = await openQueue(
        `sqs://${name}?endpoint=${encodeURIComponent(t.endpoint)}&region=${t.region}`,
        {
          driverOptions: { clientConfig: { credentials: t.credentials } },
        },
      );
      await byUrl.send('hi');
      const direct = await sqsQueue<string>({ queueUrl: url, client });
      expect(direct).toBeInstanceOf(SqsQueue);
      expect(direct.native()).toBe(client);
      expect(direct.queueUrl).toBe(url);
      const [m] = await receiveAll(direct, 1);
      expect(m?.body).toBe('hi');
      await byUrl.close();
      const err = await sqsQueue({ queueName: `pc-missing-${rand()}`, client }).catch((e: unknown) => e);
      expect(isPolycloudError(err, 'NOT_FOUND')).toBe(true);
      await expect(openQueue(`sqs://${name}?visibility=3`)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    });

    it('acking a stale receipt after redelivery counts as already done', async () => {
      const { name } = await fresh({ VisibilityTimeout: '1' });
      const q = await sqsQueue<string>({ queueName: name, client });
      await q.send('again');
      const [first] = await q.receive({ waitSeconds: 2 });
      expect(first).toBeDefined();
      await new Promise((r) => setTimeout(r, 1500));
      const [second] = await q.receive({ waitSeconds: 2, visibilityTimeoutSeconds: 30 });
      expect(second?.deliveryCount).toBe(2);
      await q.ack(second!);
      // The first receipt is stale; acking it is "already done", not an error.
      const results = await q.ack([first!]);
      expect(results[0]?.ok).toBe(true);
    });
  });
}
