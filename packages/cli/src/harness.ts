import { randomBytes } from 'node:crypto';
import type { BucketHarness, EmulatorId, KvHarness, QueueHarness } from '@polycloud/conformance';
import { openBucket, openKv, openQueue, type Queue } from '@polycloud/core';
import { splitBucketUrl } from './location.js';
import { type ProvisionOptions, provisionerFor } from './provision/index.js';
import { schemeOf } from './util.js';

/** What `polycloud conformance` hands the generated test file (through an environment variable). */
export interface ConformanceConfig {
  readonly blob?: string;
  readonly queue?: string;
  readonly kv?: string;
  /** The emulator behind each service's endpoint, so its documented gaps are excused. */
  readonly emulators: { readonly blob?: EmulatorId; readonly queue?: EmulatorId; readonly kv?: EmulatorId };
  readonly reportPrefix: string;
}

const ADAPTER: Readonly<Record<string, string>> = {
  mem: 'memory',
  file: 'local',
  local: 'local',
  s3: 'aws',
  sqs: 'aws',
  dynamodb: 'aws',
  gs: 'gcp',
  gcppubsub: 'gcp',
  bigtable: 'gcp',
  azblob: 'azure',
  azqueue: 'azure',
  aztable: 'azure',
};

/** The adapter name reports use for a URL ('aws', 'gcp', 'azure', 'memory', 'local'). */
export function adapterOf(url: string): string {
  return ADAPTER[schemeOf(new URL(url))] ?? schemeOf(new URL(url));
}

const rand = () => randomBytes(4).toString('hex');
const quiet: ProvisionOptions = { dryRun: false, log: () => {} };

/** `s3://name?x` → `s3://name-<suffix>?x` (SQS FIFO: before `.fifo`; Azure tables: no dashes). */
export function freshName(url: string, suffix: string): URL {
  const u = new URL(url);
  const scheme = schemeOf(u);
  if (scheme === 'gcppubsub') {
    u.pathname = u.pathname.replace(/\/topics\/([^/]+)$/, `/topics/$1-${suffix}`);
    u.searchParams.set('subscription', `${u.searchParams.get('subscription') ?? 'sub'}-${suffix}`);
    return u;
  }
  if (scheme === 'bigtable') {
    u.pathname = u.pathname.replace(/\/tables\/([^/]+)$/, `/tables/$1-${suffix}`);
    return u;
  }
  const host = decodeURIComponent(u.hostname);
  if (host.endsWith('.fifo')) u.hostname = `${host.slice(0, -5)}-${suffix}.fifo`;
  else if (scheme === 'aztable') u.hostname = `${host}${suffix}`;
  else u.hostname = `${host}-${suffix}`;
  return u;
}

/** A fresh bucket per test, created with the CLI's own provisioning and deleted (emptied first) after it. */
export function blobHarness(cfg: ConformanceConfig): BucketHarness {
  const base = splitBucketUrl(new URL(cfg.blob!)).bucketUrl;
  return {
    adapter: adapterOf(base),
    emulator: cfg.emulators.blob ?? null,
    reportName: `${cfg.reportPrefix}-blob`,
    async open() {
      const url = freshName(base, rand());
      const p = await provisionerFor(url);
      await p.create(url, quiet);
      const bucket = await openBucket(url.href);
      return {
        bucket,
        cleanup: async () => {
          const keys: string[] = [];
          for await (const e of bucket.entries()) keys.push(e.key);
          for (let i = 0; i < keys.length; i += 500) await bucket.deleteMany(keys.slice(i, i + 500));
          await bucket.close();
          await p.delete(url, quiet);
        },
      };
    },
  };
}

/** A fresh queue (and dead-letter queue) per test. */
export function queueHarness(cfg: ConformanceConfig): QueueHarness {
  const base = cfg.queue!;
  return {
    adapter: adapterOf(base),
    emulator: cfg.emulators.queue ?? null,
    reportName: `${cfg.reportPrefix}-queue`,
    async open(opts = {}) {
      const url = freshName(base, rand());
      const vis = opts.visibilityTimeoutSeconds;
      const p = await provisionerFor(url);
      const popts: ProvisionOptions = {
        ...quiet,
        ...(opts.deadLetter ? { deadLetter: true, maxDeliveries: opts.deadLetter.maxDeliveries } : {}),
        ...(vis !== undefined ? { visibilityTimeoutSeconds: vis } : {}),
      };
      await p.create(url, popts);
      const scheme = schemeOf(url);
      const open = (u: URL): Promise<Queue<unknown>> => {
        const v = new URL(u.href);
        if (scheme === 'azqueue' && vis !== undefined)
          v.searchParams.set('visibilityTimeout', String(Math.max(1, vis)));
        return openQueue(v.href, {
          ...(scheme === 'gcppubsub' && vis !== undefined
            ? { driverOptions: { visibilityTimeoutSeconds: vis } }
            : {}),
        });
      };
      const queue = await open(url);
      let deadLetter: Queue<unknown> | undefined;
      if (opts.deadLetter) deadLetter = await open(deadLetterUrl(url));
      return {
        queue,
        ...(deadLetter ? { deadLetter } : {}),
        cleanup: async () => {
          await queue.close();
          await deadLetter?.close();
          await p.delete(url, { ...popts, log: () => {} });
        },
      };
    },
  };
}

/** Where the provisioner put the dead-letter queue of `url` (`--dead-letter` without a name). */
export function deadLetterUrl(url: URL): URL {
  const u = new URL(url.href);
  if (schemeOf(u) === 'gcppubsub') {
    const topic = /\/topics\/([^/]+)$/.exec(u.pathname)![1]!;
    u.pathname = u.pathname.replace(/\/topics\/[^/]+$/, `/topics/${topic}-dlq`);
    u.searchParams.set('subscription', `${topic}-dlq`);
    return u;
  }
  const host = decodeURIComponent(u.hostname);
  u.hostname = host.endsWith('.fifo') ? `${host.slice(0, -5)}-dlq.fifo` : `${host}-dlq`;
  return u;
}

/** One fresh table for the run (the layout `polycloud create` makes), a fresh namespace per test. */
export function kvHarness(cfg: ConformanceConfig): KvHarness {
  const table = freshName(cfg.kv!, rand());
  table.searchParams.delete('namespace');
  const shared = schemeOf(table) !== 'mem';
  return {
    adapter: adapterOf(cfg.kv!),
    emulator: cfg.emulators.kv ?? null,
    reportName: `${cfg.reportPrefix}-kv`,
    async beforeAll() {
      if (shared) await (await provisionerFor(table)).create(table, quiet);
    },
    async afterAll() {
      if (shared) await (await provisionerFor(table)).delete(table, quiet);
    },
    async open(namespace) {
      const u = new URL(table.href);
      u.searchParams.set('namespace', namespace);
      const kv = await openKv(u.href);
      return { kv };
    },
  };
}
