import type { TableClient } from '@azure/data-tables';
import type { ContainerClient } from '@azure/storage-blob';
import type { QueueClient } from '@azure/storage-queue';
import { openBucket, openKv, openQueue } from '@polycloud/core';
import { isMissing, type Provisioner, step } from './types.js';

const name = (url: URL) => decodeURIComponent(url.hostname);

/*
 * Every Azure client here is the adapter's own `native()` client, opened by the same URL, so the
 * account, endpoint and credential resolution (connection string, key, DefaultAzureCredential)
 * are exactly what the data commands use. Opening does no I/O on Azure.
 */

/** Blob containers. */
export function azblobProvisioner(): Provisioner {
  const client = async (url: URL) => (await openBucket(url.href)).native() as ContainerClient;
  return {
    kind: 'bucket',
    async describe(url) {
      return { exists: await (await client(url)).exists(), details: {} };
    },
    async create(url, opts) {
      const c = await client(url);
      if (await c.exists()) return opts.log(`azblob container ${name(url)} exists`);
      await step(opts, `create azblob container ${name(url)}`, () => c.createIfNotExists());
    },
    async delete(url, opts) {
      const c = await client(url);
      if (!(await c.exists())) return opts.log(`azblob container ${name(url)} does not exist`);
      await step(opts, `delete azblob container ${name(url)}`, () => c.deleteIfExists());
    },
  };
}

/**
 * Storage queues. Azure has no native dead-letter policy: `--dead-letter` creates a second queue
 * for `consume({ deadLetter })`, which moves messages there after maxDeliveries.
 */
export function azqueueProvisioner(): Provisioner {
  const client = async (url: URL) => (await openQueue(url.href)).native() as QueueClient;
  const dlqUrl = (url: URL, dl: string | true) => {
    const u = new URL(url.href);
    u.hostname = dl === true ? `${name(url)}-dlq` : dl;
    return u;
  };
  return {
    kind: 'queue',
    async describe(url) {
      const c = await client(url);
      if (!(await c.exists())) return { exists: false, details: {} };
      const p = await c.getProperties();
      return { exists: true, details: { approximateMessages: p.approximateMessagesCount } };
    },
    async create(url, opts) {
      const targets = [url];
      if (opts.deadLetter !== undefined) targets.unshift(dlqUrl(url, opts.deadLetter));
      for (const t of targets) {
        const c = await client(t);
        if (await c.exists()) opts.log(`azqueue ${name(t)} exists`);
        else await step(opts, `create azqueue ${name(t)}`, () => c.createIfNotExists());
      }
      if (opts.deadLetter !== undefined)
        opts.log(
          `Azure queues have no native dead-letter policy: pass consume({ deadLetter: await openQueue('${dlqUrl(url, opts.deadLetter).href}'), maxDeliveries: ${opts.maxDeliveries ?? 5} })`,
        );
    },
    async delete(url, opts) {
      const targets = [url];
      if (opts.deadLetter !== undefined) targets.push(dlqUrl(url, opts.deadLetter));
      for (const t of targets) {
        const c = await client(t);
        if (!(await c.exists())) opts.log(`azqueue ${name(t)} does not exist`);
        else await step(opts, `delete azqueue ${name(t)}`, () => c.deleteIfExists());
      }
    },
  };
}

/** Tables: PartitionKey = namespace, RowKey = encoded key; no schema to declare (and no TTL service). */
export function aztableProvisioner(): Provisioner {
  const client = async (url: URL) => (await openKv(url.href)).native() as TableClient;
  const exists = async (c: TableClient) => {
    try {
      await c
        .listEntities({ queryOptions: { select: ['RowKey'] } })
        .byPage({ maxPageSize: 1 })
        .next();
      return true;
    } catch (err) {
      if (isMissing(err) || /TableNotFound/.test(String((err as Error).message))) return false;
      throw err;
    }
  };
  return {
    kind: 'table',
    async describe(url) {
      return {
        exists: await exists(await client(url)),
        details: { timeToLive: 'hidden on read (no TTL service)' },
      };
    },
    async create(url, opts) {
      const c = await client(url);
      if (await exists(c)) return opts.log(`aztable ${name(url)} exists`);
      await step(opts, `create aztable ${name(url)}`, () => c.createTable());
    },
    async delete(url, opts) {
      const c = await client(url);
      if (!(await exists(c))) return opts.log(`aztable ${name(url)} does not exist`);
      await step(opts, `delete aztable ${name(url)}`, () => c.deleteTable());
    },
  };
}
