import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  HeadBucketCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { kvTableDefinition } from '@polycloud/aws/dynamodb';
import { createSqsClient } from '@polycloud/aws/sqs';
import { openBucket, openKv } from '@polycloud/core';
import {
  isExisting,
  isMissing,
  type Provisioner,
  type ProvisionOptions,
  type ResourceState,
  step,
} from './types.js';

const nameOf = (url: URL) => decodeURIComponent(url.hostname);

/** S3 buckets. The client comes from the adapter (opened by the same URL), so endpoint, region and path style match. */
export function s3Provisioner(): Provisioner {
  const client = async (url: URL) => (await openBucket(url.href)).native() as S3Client;
  return {
    kind: 'bucket',
    async describe(url) {
      const c = await client(url);
      try {
        await c.send(new HeadBucketCommand({ Bucket: nameOf(url) }));
        return { exists: true, details: { region: await c.config.region() } };
      } catch (err) {
        if (isMissing(err)) return { exists: false, details: {} };
        throw err;
      }
    },
    async create(url, opts) {
      const c = await client(url);
      if ((await this.describe(url)).exists) return opts.log(`s3 bucket ${nameOf(url)} exists`);
      const region = await c.config.region();
      await step(opts, `create s3 bucket ${nameOf(url)} in ${region}`, async () => {
        try {
          await c.send(
            new CreateBucketCommand({
              Bucket: nameOf(url),
              // us-east-1 is the one region that rejects an explicit location constraint.
              ...(region && region !== 'us-east-1'
                ? { CreateBucketConfiguration: { LocationConstraint: region as never } }
                : {}),
            }),
          );
        } catch (err) {
          if (!isExisting(err)) throw err;
        }
      });
    },
    async delete(url, opts) {
      const c = await client(url);
      if (!(await this.describe(url)).exists) return opts.log(`s3 bucket ${nameOf(url)} does not exist`);
      await step(opts, `delete s3 bucket ${nameOf(url)}`, () =>
        c.send(new DeleteBucketCommand({ Bucket: nameOf(url) })),
      );
    },
  };
}

/** SQS queues: standard, or FIFO when the name ends in `.fifo` (as the adapter's FIFO support expects). */
export function sqsProvisioner(): Provisioner {
  const clientFor = (url: URL): SQSClient => {
    const region = url.searchParams.get('region') ?? undefined;
    const endpoint = url.searchParams.get('endpoint') ?? undefined;
    return createSqsClient({ region, endpoint });
  };
  const lookup = async (c: SQSClient, name: string): Promise<string | undefined> => {
    try {
      return (await c.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  };
  const fifoAttrs = (name: string): Record<string, string> =>
    // ContentBasedDeduplication off: the driver sends its own deduplication ids, so identical bodies are kept apart.
    name.endsWith('.fifo') ? { FifoQueue: 'true', ContentBasedDeduplication: 'false' } : {};
  const dlqName = (name: string, dl: string | true): string =>
    dl === true ? (name.endsWith('.fifo') ? `${name.slice(0, -5)}-dlq.fifo` : `${name}-dlq`) : dl;
  return {
    kind: 'queue',
    async describe(url): Promise<ResourceState> {
      const c = clientFor(url);
      try {
        const qurl = await lookup(c, nameOf(url));
        if (!qurl) return { exists: false, details: {} };
        const a = await c.send(new GetQueueAttributesCommand({ QueueUrl: qurl, AttributeNames: ['All'] }));
        const at = a.Attributes ?? {};
        return {
          exists: true,
          details: {
            fifo: at.FifoQueue === 'true',
            visibilityTimeoutSeconds: Number(at.VisibilityTimeout ?? 30),
            approximateMessages: Number(at.ApproximateNumberOfMessages ?? 0),
            ...(at.RedrivePolicy ? { redrivePolicy: JSON.parse(at.RedrivePolicy) as unknown } : {}),
          },
        };
      } finally {
        c.destroy();
      }
    },
    async create(url, opts) {
      const c = clientFor(url);
      const name = nameOf(url);
      try {
        const attributes: Record<string, string> = { ...fifoAttrs(name) };
        if (opts.visibilityTimeoutSeconds !== undefined)
          attributes.VisibilityTimeout = String(opts.visibilityTimeoutSeconds);
        if (opts.deadLetter !== undefined) {
          const dlq = dlqName(name, opts.deadLetter);
          let dlqUrl = await lookup(c, dlq);
          if (dlqUrl) opts.log(`sqs dead-letter queue ${dlq} exists`);
          else
            await step(opts, `create sqs dead-letter queue ${dlq}`, async () => {
              dlqUrl = (await c.send(new CreateQueueCommand({ QueueName: dlq, Attributes: fifoAttrs(dlq) })))
                .QueueUrl;
            });
          const arn = dlqUrl
            ? (
                await c.send(
                  new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
                )
              ).Attributes?.QueueArn
            : `arn:aws:sqs:...:${dlq}`;
          attributes.RedrivePolicy = JSON.stringify({
            deadLetterTargetArn: arn,
            maxReceiveCount: opts.maxDeliveries ?? 5,
          });
        }
        const existing = await lookup(c, name);
        if (existing) {
          opts.log(`sqs queue ${name} exists`);
          if (attributes.RedrivePolicy)
            opts.log(
              `(left its attributes unchanged; delete and create it again to change the redrive policy)`,
            );
          return;
        }
        await step(
          opts,
          `create sqs queue ${name}${attributes.FifoQueue ? ' (FIFO)' : ''}${attributes.RedrivePolicy ? ` with redrive after ${opts.maxDeliveries ?? 5} deliveries` : ''}`,
          () => c.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes })),
        );
      } finally {
        c.destroy();
      }
    },
    async delete(url, opts) {
      const c = clientFor(url);
      const names = [nameOf(url)];
      if (opts.deadLetter !== undefined) names.push(dlqName(nameOf(url), opts.deadLetter));
      try {
        for (const name of names) {
          const qurl = await lookup(c, name);
          if (!qurl) opts.log(`sqs queue ${name} does not exist`);
          else
            await step(opts, `delete sqs queue ${name}`, () =>
              c.send(new DeleteQueueCommand({ QueueUrl: qurl })),
            );
        }
      } finally {
        c.destroy();
      }
    },
  };
}

/** DynamoDB tables with the adapter's layout: `pk` (S, HASH) + `sk` (S, RANGE), on-demand, TTL on `ttl`. */
export function dynamoProvisioner(): Provisioner {
  const client = async (url: URL) => (await openKv(url.href)).native() as DynamoDBClient;
  return {
    kind: 'table',
    async describe(url) {
      const c = await client(url);
      try {
        const t = await c.send(new DescribeTableCommand({ TableName: nameOf(url) }));
        let ttl: unknown = 'unknown';
        try {
          const d = await c.send(new DescribeTimeToLiveCommand({ TableName: nameOf(url) }));
          ttl = d.TimeToLiveDescription ?? 'DISABLED';
        } catch {
          // Some DynamoDB-compatible servers have no TTL API.
        }
        return {
          exists: true,
          details: {
            status: t.Table?.TableStatus,
            keySchema: t.Table?.KeySchema?.map((k) => `${k.AttributeName} ${k.KeyType}`),
            items: t.Table?.ItemCount,
            timeToLive: ttl,
          },
        };
      } catch (err) {
        if (isMissing(err)) return { exists: false, details: {} };
        throw err;
      }
    },
    async create(url, opts) {
      const c = await client(url);
      const table = nameOf(url);
      if ((await this.describe(url)).exists) opts.log(`dynamodb table ${table} exists`);
      else
        await step(opts, `create dynamodb table ${table} (pk S HASH, sk S RANGE, on-demand)`, async () => {
          await c.send(new CreateTableCommand(kvTableDefinition(table)));
          await waitUntilTableExists({ client: c, maxWaitTime: 120 }, { TableName: table });
        });
      await enableTtl(c, table, opts);
    },
    async delete(url, opts) {
      const c = await client(url);
      if (!(await this.describe(url)).exists) return opts.log(`dynamodb table ${nameOf(url)} does not exist`);
      await step(opts, `delete dynamodb table ${nameOf(url)}`, () =>
        c.send(new DeleteTableCommand({ TableName: nameOf(url) })),
      );
    },
  };
}

async function enableTtl(c: DynamoDBClient, table: string, opts: ProvisionOptions): Promise<void> {
  if (!opts.dryRun) {
    try {
      const d = await c.send(new DescribeTimeToLiveCommand({ TableName: table }));
      if (d.TimeToLiveDescription?.TimeToLiveStatus === 'ENABLED') return opts.log(`ttl on "ttl" is enabled`);
    } catch {
      opts.log('this server has no TTL API; reads hide expired entries anyway');
      return;
    }
  }
  await step(opts, `enable ttl on attribute "ttl"`, async () => {
    try {
      await c.send(
        new UpdateTimeToLiveCommand({
          TableName: table,
          TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        }),
      );
    } catch (err) {
      if (!/already enabled/i.test(String((err as Error).message))) throw err;
    }
  });
}
