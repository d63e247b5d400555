import type { Storage } from '@google-cloud/storage';
import { openBucket } from '@polycloud/core';
import { bigtableClient } from '@polycloud/gcp/bigtable';
import { pubsubClient } from '@polycloud/gcp/pubsub';
import { CliError } from '../util.js';
import { isExisting, isMissing, type Provisioner, step } from './types.js';

/** Cloud Storage buckets; the client is the adapter's own (opened by the same URL). */
export function gcsProvisioner(): Provisioner {
  const client = async (url: URL) => (await openBucket(url.href)).native() as Storage;
  const name = (url: URL) => decodeURIComponent(url.hostname);
  return {
    kind: 'bucket',
    async describe(url) {
      const [exists] = await (await client(url)).bucket(name(url)).exists();
      return { exists, details: {} };
    },
    async create(url, opts) {
      if ((await this.describe(url)).exists) return opts.log(`gs bucket ${name(url)} exists`);
      const c = await client(url);
      await step(opts, `create gs bucket ${name(url)}`, async () => {
        try {
          await c.createBucket(name(url));
        } catch (err) {
          if (!isExisting(err)) throw err;
        }
      });
    },
    async delete(url, opts) {
      if (!(await this.describe(url)).exists) return opts.log(`gs bucket ${name(url)} does not exist`);
      const c = await client(url);
      await step(opts, `delete gs bucket ${name(url)}`, () => c.bucket(name(url)).delete());
    },
  };
}

/** `gcppubsub://projects/P/topics/T?subscription=S` → project, topic id, subscription id. */
function pubsubParts(url: URL): { project: string; topic: string; subscription: string } {
  const m = /^projects\/([^/]+)\/topics\/([^/]+)$/.exec(`${url.host}${url.pathname}`.replace(/\/+$/, ''));
  const sub = url.searchParams.get('subscription');
  if (!m || !sub)
    throw new CliError(
      'INVALID_ARGUMENT',
      `${url.href} does not name a topic and a subscription`,
      'use gcppubsub://projects/P/topics/T?subscription=S',
    );
  const id = (s: string) => decodeURIComponent(s).split('/').pop()!;
  return { project: decodeURIComponent(m[1]!), topic: decodeURIComponent(m[2]!), subscription: id(sub) };
}

/** Pub/Sub: a topic plus a subscription (the pair the adapter sends to and pulls from), optional dead-letter topic. */
export function pubsubProvisioner(): Provisioner {
  return {
    kind: 'queue',
    async describe(url) {
      const p = pubsubParts(url);
      const c = pubsubClient({ projectId: p.project });
      try {
        const [topic] = await c.topic(p.topic).exists();
        const [sub] = await c.subscription(p.subscription).exists();
        let details: Record<string, unknown> = { topic, subscription: sub };
        if (sub) {
          const [md] = await c.subscription(p.subscription).getMetadata();
          details = {
            ...details,
            ackDeadlineSeconds: md.ackDeadlineSeconds,
            messageOrdering: md.enableMessageOrdering === true,
            ...(md.deadLetterPolicy?.deadLetterTopic
              ? {
                  deadLetterTopic: md.deadLetterPolicy.deadLetterTopic,
                  maxDeliveryAttempts: md.deadLetterPolicy.maxDeliveryAttempts,
                }
              : {}),
          };
        }
        return { exists: topic && sub, details };
      } finally {
        await c.close();
      }
    },
    async create(url, opts) {
      const p = pubsubParts(url);
      const c = pubsubClient({ projectId: p.project });
      try {
        let deadLetterPolicy: { deadLetterTopic: string; maxDeliveryAttempts: number } | undefined;
        if (opts.deadLetter !== undefined) {
          const dlq = opts.deadLetter === true ? `${p.topic}-dlq` : opts.deadLetter;
          if ((await c.topic(dlq).exists())[0]) opts.log(`pubsub dead-letter topic ${dlq} exists`);
          else await step(opts, `create pubsub dead-letter topic ${dlq}`, () => c.createTopic(dlq));
          if ((await c.subscription(dlq).exists())[0]) opts.log(`pubsub subscription ${dlq} exists`);
          else
            await step(opts, `create pubsub subscription ${dlq} on ${dlq} (to read dead letters)`, () =>
              c.topic(dlq).createSubscription(dlq),
            );
          // The service accepts 5..100 delivery attempts.
          deadLetterPolicy = {
            deadLetterTopic: `projects/${p.project}/topics/${dlq}`,
            maxDeliveryAttempts: Math.min(100, Math.max(5, opts.maxDeliveries ?? 5)),
          };
        }
        if ((await c.topic(p.topic).exists())[0]) opts.log(`pubsub topic ${p.topic} exists`);
        else
          await step(opts, `create pubsub topic ${p.topic}`, async () => {
            try {
              await c.createTopic(p.topic);
            } catch (err) {
              if (!isExisting(err)) throw err;
            }
          });
        if ((await c.subscription(p.subscription).exists())[0])
          return opts.log(`pubsub subscription ${p.subscription} exists`);
        await step(
          opts,
          `create pubsub subscription ${p.subscription} on ${p.topic} (ack deadline 30 s, message ordering on${deadLetterPolicy ? `, dead-letter after ${deadLetterPolicy.maxDeliveryAttempts}` : ''})`,
          () =>
            c.topic(p.topic).createSubscription(p.subscription, {
              // Pub/Sub ack deadlines are 10..600 s; shorter visibilities are applied per receive by the driver.
              ackDeadlineSeconds: Math.max(10, Math.min(600, opts.visibilityTimeoutSeconds ?? 30)),
              // Ordering costs nothing for messages without an ordering key, and makes groupId work.
              enableMessageOrdering: true,
              ...(deadLetterPolicy ? { deadLetterPolicy } : {}),
            }),
        );
      } finally {
        await c.close();
      }
    },
    async delete(url, opts) {
      const p = pubsubParts(url);
      const c = pubsubClient({ projectId: p.project });
      try {
        if ((await c.subscription(p.subscription).exists())[0])
          await step(opts, `delete pubsub subscription ${p.subscription}`, () =>
            c.subscription(p.subscription).delete(),
          );
        else opts.log(`pubsub subscription ${p.subscription} does not exist`);
        if ((await c.topic(p.topic).exists())[0])
          await step(opts, `delete pubsub topic ${p.topic}`, () => c.topic(p.topic).delete());
        else opts.log(`pubsub topic ${p.topic} does not exist`);
        if (opts.deadLetter !== undefined) {
          const dlq = opts.deadLetter === true ? `${p.topic}-dlq` : opts.deadLetter;
          if ((await c.subscription(dlq).exists())[0])
            await step(opts, `delete pubsub subscription ${dlq}`, () => c.subscription(dlq).delete());
          if ((await c.topic(dlq).exists())[0])
            await step(opts, `delete pubsub topic ${dlq}`, () => c.topic(dlq).delete());
        }
      } finally {
        await c.close();
      }
    },
  };
}

/** `bigtable://projects/P/instances/I/tables/T?family=F` → parts (family default "kv", as the adapter). */
function bigtableParts(url: URL) {
  const m = /^projects\/([^/]+)\/instances\/([^/]+)\/tables\/([^/]+)$/.exec(
    `${url.host}${url.pathname}`.replace(/\/+$/, ''),
  );
  if (!m)
    throw new CliError(
      'INVALID_ARGUMENT',
      `${url.href} does not name a table`,
      'use bigtable://projects/P/instances/I/tables/T',
    );
  return {
    project: decodeURIComponent(m[1]!),
    instance: decodeURIComponent(m[2]!),
    table: decodeURIComponent(m[3]!),
    family: url.searchParams.get('family') ?? 'kv',
  };
}

/** Bigtable: a table with the adapter's column family (one version kept). The instance must exist. */
export function bigtableProvisioner(): Provisioner {
  return {
    kind: 'table',
    async describe(url) {
      const p = bigtableParts(url);
      const c = bigtableClient({ projectId: p.project });
      try {
        const t = c.instance(p.instance).table(p.table);
        const [exists] = await t.exists();
        if (!exists) return { exists: false, details: {} };
        const [families] = await t.getFamilies();
        return { exists: true, details: { families: families.map((f) => f.id), requiredFamily: p.family } };
      } catch (err) {
        if (isMissing(err)) return { exists: false, details: {} };
        throw err;
      } finally {
        await c.close();
      }
    },
    async create(url, opts) {
      const p = bigtableParts(url);
      const state = await this.describe(url);
      const c = bigtableClient({ projectId: p.project });
      try {
        const t = c.instance(p.instance).table(p.table);
        if (!state.exists) {
          await step(
            opts,
            `create bigtable table ${p.table} with column family ${p.family} (1 version)`,
            () =>
              c
                .instance(p.instance)
                .createTable(p.table, { families: [{ name: p.family, rule: { versions: 1 } }] }),
          );
          return;
        }
        opts.log(`bigtable table ${p.table} exists`);
        const families = (state.details.families as string[] | undefined) ?? [];
        if (!families.includes(p.family))
          await step(opts, `create column family ${p.family} in ${p.table}`, () =>
            t.createFamily(p.family, { rule: { versions: 1 } }),
          );
      } finally {
        await c.close();
      }
    },
    async delete(url, opts) {
      const p = bigtableParts(url);
      if (!(await this.describe(url)).exists) return opts.log(`bigtable table ${p.table} does not exist`);
      const c = bigtableClient({ projectId: p.project });
      try {
        await step(opts, `delete bigtable table ${p.table}`, () =>
          c.instance(p.instance).table(p.table).delete(),
        );
      } finally {
        await c.close();
      }
    },
  };
}
