// The gap list stays honest: every entry is well-formed, names tests that exist, and still
// reproduces against the pinned emulator. When an emulator is upgraded and a gap disappears,
// the check here fails and says to remove the entry.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateTableCommand,
  DynamoDBClient,
  TransactWriteItemsCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { TableClient, TableServiceClient } from '@azure/data-tables';
import { Bigtable } from '@google-cloud/bigtable';
import { PubSub } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { describe, expect, it, vi } from 'vitest';
import { EMULATOR_GAPS, findGap } from '../../src/emulators/gaps.js';
import { httpRequest } from '../../src/emulators/probes.js';
import { EMULATOR_IDS } from '../../src/emulators/types.js';
import { emulatorForBlock, uniqueName } from './smoke-helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const suitesDir = path.join(here, '..', '..', 'src', 'suites');

/** Resolves with 'ok' or the error name: a gap reproduces when the emulator says 'ok'. */
async function outcome(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
    return 'ok';
  } catch (err) {
    return (err as { name?: string; code?: unknown }).name ?? String((err as { code?: unknown }).code);
  }
}

const stillThere = (id: string) =>
  `gap ${id} no longer reproduces with the pinned emulator: remove it from EMULATOR_GAPS and docs/emulators.md`;

describe('EMULATOR_GAPS', () => {
  it('entries are well-formed and unique', () => {
    const ids = new Set<string>();
    for (const gap of EMULATOR_GAPS) {
      expect(ids.has(gap.id), `duplicate id ${gap.id}`).toBe(false);
      ids.add(gap.id);
      expect(gap.id).toMatch(/^[a-z0-9-]+$/);
      expect(EMULATOR_IDS).toContain(gap.emulator);
      expect(gap.description.length).toBeGreaterThan(20);
      expect(gap.reference).toMatch(/^(https:\/\/|docs\/emulators\.md)/);
    }
  });

  it('names only tests the suites register', () => {
    const sources = readdirSync(suitesDir)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => readFileSync(path.join(suitesDir, f), 'utf8'))
      .join('\n');
    // Names built from templates (`keys: ${label} round-trips ...`) match their template.
    const templates = [...sources.matchAll(/`([^`]*\$\{[^`]*)`/g)].map(
      (m) =>
        new RegExp(
          `^${m[1]!
            .split(/\$\{[^}]*\}/)
            .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
            .join('.+')}$`,
        ),
    );
    for (const gap of EMULATOR_GAPS) {
      for (const test of gap.tests) {
        const known = sources.includes(test) || templates.some((t) => t.test(test));
        expect(known, `${gap.id}: no suite test named "${test}"`).toBe(true);
      }
    }
  });

  it('is documented in docs/emulators.md', () => {
    const doc = readFileSync(path.join(here, '..', '..', '..', 'docs', 'emulators.md'), 'utf8');
    for (const gap of EMULATOR_GAPS) {
      expect(doc, `${gap.id} missing: run \`node conformance/bin/emulators-gaps-doc.mjs\``).toContain(
        `\`${gap.id}\``,
      );
    }
  });

  it('findGap matches by emulator and test name only', () => {
    const name = 'deleteIfMatch: a stale etag fails and keeps the object, the current etag deletes';
    expect(findGap('fake-gcs-server', name)?.id).toBe('fake-gcs-delete-preconditions');
    expect(findGap('azurite', name)).toBeUndefined();
    expect(findGap(null, name)).toBeUndefined();
  });
});

describe('fake-gcs-server gaps reproduce', () => {
  const gcs = emulatorForBlock('fake-gcs-server');

  it('fake-gcs-delete-preconditions, -read-preconditions, -rewrite-preconditions', async (ctx) => {
    const { env } = gcs.endpoint(ctx);
    vi.stubEnv('STORAGE_EMULATOR_HOST', undefined); // see smoke-gcp.test.ts
    const storage = new Storage({ apiEndpoint: env.STORAGE_EMULATOR_HOST! });
    const [bucket] = await storage.createBucket(uniqueName('gap-'));
    const file = bucket.file('k');
    await file.save('v1', { resumable: false });
    const stale = Number((await file.getMetadata())[0].generation) + 1;
    // Typed client options do not carry read preconditions; ask over HTTP (GCS answers 412).
    const read = await httpRequest(
      `${env.STORAGE_EMULATOR_HOST}/storage/v1/b/${bucket.name}/o/k?alt=media&ifGenerationMatch=${stale}`,
    );
    expect(read.status, stillThere('fake-gcs-read-preconditions')).toBe(200);
    await bucket.file('dest').save('d', { resumable: false });
    expect(
      await outcome(() => file.copy(bucket.file('dest'), { preconditionOpts: { ifGenerationMatch: 0 } })),
      stillThere('fake-gcs-rewrite-preconditions'),
    ).toBe('ok');
    expect(
      await outcome(() => file.delete({ ifGenerationMatch: stale })),
      stillThere('fake-gcs-delete-preconditions'),
    ).toBe('ok');
  });
});

describe('moto gaps reproduce', () => {
  const moto = emulatorForBlock('moto');

  it('moto-s3-copy-conditions', async (ctx) => {
    moto.endpoint(ctx);
    const s3 = new S3Client({ forcePathStyle: true });
    try {
      const Bucket = uniqueName('gap-');
      await s3.send(new CreateBucketCommand({ Bucket }));
      await s3.send(new PutObjectCommand({ Bucket, Key: 'src', Body: 'v1' }));
      const copy = (extra: object) =>
        outcome(() =>
          s3.send(new CopyObjectCommand({ Bucket, Key: 'dst', CopySource: `${Bucket}/src`, ...extra })),
        );
      expect(
        await copy({ CopySourceIfMatch: '"00000000000000000000000000000000"' }),
        stillThere('moto-s3-copy-conditions'),
      ).toBe('ok');
      expect(await copy({ IfNoneMatch: '*' }), stillThere('moto-s3-copy-conditions')).toBe('ok');
    } finally {
      s3.destroy();
    }
  });

  it('moto-sqs-standard-queue-dedup-id, moto-sqs-invalid-characters', async (ctx) => {
    moto.endpoint(ctx);
    const sqs = new SQSClient({});
    try {
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('gap-') }));
      const send = (extra: object) =>
        outcome(() => sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x', ...extra })));
      expect(
        await send({ MessageDeduplicationId: 'd1' }),
        stillThere('moto-sqs-standard-queue-dedup-id'),
      ).toBe('ok');
      expect(await send({ MessageBody: 'a\u0000b' }), stillThere('moto-sqs-invalid-characters')).toBe('ok');
    } finally {
      sqs.destroy();
    }
  });
});

describe('localstack gaps reproduce', () => {
  const localstack = emulatorForBlock('localstack');

  it('localstack-s3-metadata-q-encoding, -conditional-delete, -continuation-token-non-ascii', async (ctx) => {
    localstack.endpoint(ctx);
    const s3 = new S3Client({ forcePathStyle: true });
    try {
      const Bucket = uniqueName('gap-');
      await s3.send(new CreateBucketCommand({ Bucket }));
      const stored = '=?UTF-8?B?w5w=?='; // "Ü"
      await s3.send(new PutObjectCommand({ Bucket, Key: 'm', Body: 'x', Metadata: { k: stored } }));
      const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'm' }));
      expect(head.Metadata?.k, stillThere('localstack-s3-metadata-q-encoding')).toBe('=?UTF-8?Q?=C3=9C?=');

      expect(
        await outcome(() => s3.send(new DeleteObjectCommand({ Bucket, Key: 'm', IfMatch: '"stale"' }))),
        stillThere('localstack-s3-conditional-delete'),
      ).toBe('NotImplemented');

      for (const Key of ['a', '\u00e9', '\uff61', '\u{1f600}'])
        await s3.send(new PutObjectCommand({ Bucket, Key, Body: 'x' }));
      const first = await s3.send(new ListObjectsV2Command({ Bucket, MaxKeys: 2 }));
      expect(first.NextContinuationToken).toBeDefined();
      expect(
        await outcome(() =>
          s3.send(
            new ListObjectsV2Command({ Bucket, MaxKeys: 2, ContinuationToken: first.NextContinuationToken }),
          ),
        ),
        stillThere('localstack-s3-continuation-token-non-ascii'),
      ).toBe('InternalError');
    } finally {
      s3.destroy();
    }
  });
});

describe('elasticmq gaps reproduce', () => {
  const elasticmq = emulatorForBlock('elasticmq');

  it('elasticmq-visibility-timeout-range', async (ctx) => {
    elasticmq.endpoint(ctx);
    const sqs = new SQSClient({});
    try {
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('gap-') }));
      expect(
        await outcome(() => sqs.send(new ReceiveMessageCommand({ QueueUrl, VisibilityTimeout: 43_201 }))),
        stillThere('elasticmq-visibility-timeout-range'),
      ).toBe('ok');
    } finally {
      sqs.destroy();
    }
  });
});

describe('dynalite gaps reproduce', () => {
  const dynalite = emulatorForBlock('dynalite');

  it('dynalite-transactions, dynalite-ttl-api', async (ctx) => {
    dynalite.endpoint(ctx);
    const ddb = new DynamoDBClient({});
    try {
      const TableName = uniqueName('gap-');
      await ddb.send(
        new CreateTableCommand({
          TableName,
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      await waitUntilTableExists({ client: ddb, maxWaitTime: 30, minDelay: 1 }, { TableName });
      const transact = await outcome(() =>
        ddb.send(
          new TransactWriteItemsCommand({
            TransactItems: [{ Put: { TableName, Item: { pk: { S: 'a' } } } }],
          }),
        ),
      );
      expect(transact, stillThere('dynalite-transactions')).toBe('UnknownOperationException');
      const ttl = await outcome(() =>
        ddb.send(
          new UpdateTimeToLiveCommand({
            TableName,
            TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
          }),
        ),
      );
      expect(ttl, stillThere('dynalite-ttl-api')).toBe('UnknownOperationException');
    } finally {
      ddb.destroy();
    }
  });
});

describe('pstest gaps reproduce', () => {
  const pstest = emulatorForBlock('pstest');

  it('pstest-ack-deadline-range, pstest-message-size', async (ctx) => {
    pstest.endpoint(ctx);
    const pubsub = new PubSub();
    try {
      const [topic] = await pubsub.createTopic(uniqueName('gap-'));
      const [subscription] = await topic.createSubscription(uniqueName('gap-'), { ackDeadlineSeconds: 5 });
      expect(
        (await subscription.getMetadata())[0].ackDeadlineSeconds,
        stillThere('pstest-ack-deadline-range'),
      ).toBe(5);
      // 5 MiB: over gRPC's 4 MiB default, under the service's 10 MB limit.
      expect(
        await outcome(() => topic.publishMessage({ data: Buffer.alloc(5 * 1024 * 1024, 1) })),
        'pstest must take messages up to 10 MB (see main.go)',
      ).toBe('ok');
    } finally {
      await pubsub.close();
    }
  });
});

describe('bigtable-emulator gaps reproduce', () => {
  const bigtable = emulatorForBlock('bigtable-emulator');

  it('bigtable-row-key-size', async (ctx) => {
    bigtable.endpoint(ctx);
    const client = new Bigtable();
    try {
      const table = client.instance('gaps').table(uniqueName('gap-'));
      await table.create({ families: ['cf'] });
      expect(
        await outcome(() => table.insert([{ key: 'k'.repeat(4097), data: { cf: { q: 'v' } } }])),
        stillThere('bigtable-row-key-size'),
      ).toBe('ok');
    } finally {
      await client.close();
    }
  });
});

describe('azurite gaps reproduce', () => {
  const azurite = emulatorForBlock('azurite');

  it('azurite-table-entity-size', async (ctx) => {
    const cs = azurite.endpoint(ctx).env.AZURE_STORAGE_CONNECTION_STRING!;
    const tableName = uniqueName('gap');
    await TableServiceClient.fromConnectionString(cs, { allowInsecureConnection: true }).createTable(
      tableName,
    );
    const table = TableClient.fromConnectionString(cs, tableName, { allowInsecureConnection: true });
    // 20 properties of 30 000 UTF-16 characters: about 1.2 MB, over the 1 MiB entity limit.
    const entity: { partitionKey: string; rowKey: string; [property: string]: string } = {
      partitionKey: 'p',
      rowKey: 'big',
    };
    for (let i = 0; i < 20; i++) entity[`p${i}`] = 'x'.repeat(30_000);
    expect(await outcome(() => table.createEntity(entity)), stillThere('azurite-table-entity-size')).toBe(
      'ok',
    );
  });
});
