import { DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { createDynamoClient, dynamoKv } from '@polycloud/aws/dynamodb';
import { createS3Client, s3Bucket } from '@polycloud/aws/s3';
import { FaultProxy } from '@polycloud/conformance';
import { isPolycloudError } from '@polycloud/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKvTable } from './dynamodb-harness.js';
import { awsTarget, rand } from './emulator.js';

// Issue 18.1: through a proxy that resets ~5% of connections, a lost answer must never turn
// into a double-counted increment or a landed write reported as "nothing written".
const { target, notRun } = awsTarget('moto', 'DYNAMODB');
const ROUNDS = 300;

describe.skipIf(notRun !== undefined)('DynamoDB under connection resets (moto)', () => {
  const t = target!;
  const table = `pc-faults-${rand()}`;
  let direct: DynamoDBClient;
  let proxied: DynamoDBClient;
  let proxy: FaultProxy;

  beforeAll(async () => {
    const config = { region: t.region, clientConfig: { credentials: t.credentials } };
    direct = createDynamoClient({ endpoint: t.endpoint, ...config });
    await createKvTable(direct, table);
    // ~5% of chunks cut, requests and answers alike.
    proxy = await FaultProxy.to(
      t.endpoint,
      { kind: 'reset-chunk', direction: 'both', probability: 0.025 },
      18,
    );
    proxied = createDynamoClient({ endpoint: proxy.url, ...config });
  }, 120_000);
  afterAll(async () => {
    await direct?.send(new DeleteTableCommand({ TableName: table })).catch(() => {});
    direct?.destroy();
    proxied?.destroy();
    await proxy?.stop();
  });

  it('increment never counts twice: every acknowledged value is exact', async () => {
    const kv = dynamoKv({ table, namespace: `ns-${rand()}`, client: proxied });
    const reader = dynamoKv({ table, namespace: kv.namespace, client: direct });
    let expected = 0;
    let unknown = 0;
    for (let i = 0; i < ROUNDS; i++) {
      try {
        const { value } = await kv.increment('counter');
        expect(value).toBe(expected + 1);
        expected = value;
      } catch (err) {
        // The only acceptable failure: a retryable UNAVAILABLE that says the outcome is unknown.
        expect(isPolycloudError(err, 'UNAVAILABLE')).toBe(true);
        expect((err as { retryable: boolean }).retryable).toBe(true);
        expect((err as { outcomeUnknown: boolean }).outcomeUnknown).toBe(true);
        unknown++;
        const now = ((await reader.get('counter'))?.value as number | undefined) ?? 0;
        expect([expected, expected + 1]).toContain(now);
        expected = now;
      }
    }
    expect(((await reader.get('counter'))?.value as number) ?? 0).toBe(expected);
    expect(proxy.stats.resets).toBeGreaterThan(0);
    console.info(`increment: ${ROUNDS} calls, ${unknown} outcome-unknown, ${proxy.stats.resets} resets`);
  }, 300_000);

  it('a conditional write that landed is never reported as PRECONDITION_FAILED', async () => {
    const kv = dynamoKv({ table, namespace: `ns-${rand()}`, client: proxied });
    const reader = dynamoKv({ table, namespace: kv.namespace, client: direct });
    let { version } = await reader.set('doc', 0);
    let unresolved = 0;
    for (let i = 1; i <= ROUNDS; i++) {
      try {
        ({ version } = await kv.set('doc', i, { ifVersion: version }));
      } catch (err) {
        // One writer: a conflict could only come from its own landed write.
        expect(isPolycloudError(err, 'PRECONDITION_FAILED')).toBe(false);
        expect(isPolycloudError(err, 'UNAVAILABLE')).toBe(true);
        const now = (await reader.get('doc'))!;
        if ((err as { outcomeUnknown: boolean }).outcomeUnknown) unresolved++;
        // "Did not land" must be true when said.
        else expect(now.version).toBe(version);
        version = now.version;
      }
    }
    const final = (await reader.get('doc'))!;
    expect(final.version).toBe(version);
    console.info(`set ifVersion: ${ROUNDS} calls, ${unresolved} outcome-unknown`);
  }, 300_000);
});

// Issue 18.3: a reset while a body streams (either way) is UNAVAILABLE and retried, never
// UNKNOWN; multipart parts are retried by the kit from their buffered bytes.
const s3 = awsTarget('moto', 'S3');

describe.skipIf(s3.notRun !== undefined)('S3 under connection resets (moto)', () => {
  it('puts, gets and a streamed multipart upload all succeed', async () => {
    const t = s3.target!;
    // Cut answers only: the proxy decides per chunk, and a 5 MiB part is ~80 request chunks.
    const proxy = await FaultProxy.to(
      t.endpoint,
      { kind: 'reset-chunk', direction: 'down', probability: 0.05 },
      5,
    );
    const config = { region: t.region, clientConfig: { credentials: t.credentials } };
    const direct = createS3Client({ endpoint: t.endpoint, ...config });
    const client = createS3Client({ endpoint: proxy.url, ...config });
    try {
      const name = `pc-faults-${rand()}`;
      await direct.send(new CreateBucketCommand({ Bucket: name }));
      const bucket = s3Bucket({ bucket: name, client });
      const body = new Uint8Array(256 * 1024).map((_, i) => i % 251);
      for (let i = 0; i < 40; i++) {
        await bucket.put(`k${i}`, body);
        expect((await bucket.getBytes(`k${i}`)).byteLength).toBe(body.byteLength);
      }
      const MiB = 1024 * 1024;
      const parts = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < 4; i++) c.enqueue(new Uint8Array(5 * MiB).fill(i));
          c.close();
        },
      });
      const info = await bucket.put('big', parts, { partSize: 5 * MiB });
      expect(info.size).toBe(20 * MiB);
      expect(proxy.stats.resets).toBeGreaterThan(0);
    } finally {
      client.destroy();
      direct.destroy();
      await proxy.stop();
    }
  }, 300_000);
});
