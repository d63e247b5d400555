import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError, schemeOf } from '../util.js';
import type { Provisioner } from './types.js';

export * from './types.js';

/**
 * Scheme → provisioner, loaded lazily like core's scheme table, so `polycloud create s3://x`
 * never loads the Google or Azure SDKs. A third-party adapter adds a line here.
 */
const PROVISIONERS: Readonly<Record<string, () => Promise<Provisioner>>> = {
  mem: async () => memProvisioner(),
  file: async () => fileProvisioner(),
  local: async () => localProvisioner(),
  s3: async () => (await import('./aws.js')).s3Provisioner(),
  sqs: async () => (await import('./aws.js')).sqsProvisioner(),
  dynamodb: async () => (await import('./aws.js')).dynamoProvisioner(),
  gs: async () => (await import('./gcp.js')).gcsProvisioner(),
  gcppubsub: async () => (await import('./gcp.js')).pubsubProvisioner(),
  bigtable: async () => (await import('./gcp.js')).bigtableProvisioner(),
  azblob: async () => (await import('./azure.js')).azblobProvisioner(),
  azqueue: async () => (await import('./azure.js')).azqueueProvisioner(),
  aztable: async () => (await import('./azure.js')).aztableProvisioner(),
};

/** The provisioner for a URL's scheme. */
export async function provisionerFor(url: URL): Promise<Provisioner> {
  const make = PROVISIONERS[schemeOf(url)];
  if (!make)
    throw new CliError(
      'INVALID_ARGUMENT',
      `no provisioner for scheme "${schemeOf(url)}:"`,
      `known schemes: ${Object.keys(PROVISIONERS).join(', ')}`,
    );
  return make();
}

/** Memory resources live as long as one process; there is nothing to create. */
function memProvisioner(): Provisioner {
  return {
    kind: 'bucket',
    async describe() {
      return { exists: true, details: { note: 'mem:// lives for one process; every name exists' } };
    },
    async create(url, opts) {
      opts.log(`mem://${url.hostname} needs no creation (it lives for one process)`);
    },
    async delete(url, opts) {
      opts.log(`mem://${url.hostname} needs no deletion (it lives for one process)`);
    },
  };
}

/** file:///dir: a directory (the local adapter's bucket root). */
function fileProvisioner(): Provisioner {
  const dir = (url: URL) => fileURLToPath(url);
  return {
    kind: 'bucket',
    async describe(url) {
      const s = await stat(dir(url)).catch(() => undefined);
      return { exists: s?.isDirectory() === true, details: { path: dir(url) } };
    },
    async create(url, opts) {
      if ((await this.describe(url)).exists) return opts.log(`directory ${dir(url)} exists`);
      if (opts.dryRun) return opts.log(`would create directory ${dir(url)}`);
      await mkdir(dir(url), { recursive: true });
      opts.log(`created directory ${dir(url)}`);
    },
    async delete(url, opts) {
      if (!(await this.describe(url)).exists) return opts.log(`directory ${dir(url)} does not exist`);
      if (opts.dryRun) return opts.log(`would delete directory ${dir(url)}`);
      await rm(dir(url), { recursive: opts.force === true });
      opts.log(`deleted directory ${dir(url)}`);
    },
  };
}

/**
 * local:///path.db?queue=q|table=t: the local adapter keeps queues and tables in one SQLite file
 * and creates its tables on first open, so provisioning makes sure the file's directory exists.
 */
function localProvisioner(): Provisioner {
  const file = (url: URL) => fileURLToPath(`file://${url.pathname}`);
  return {
    kind: 'table',
    async describe(url) {
      const s = await stat(file(url)).catch(() => undefined);
      return { exists: s?.isFile() === true, details: { path: file(url) } };
    },
    async create(url, opts) {
      const d = dirname(file(url));
      if (opts.dryRun) return opts.log(`would create directory ${d} (the database is created on first open)`);
      await mkdir(d, { recursive: true });
      opts.log(`directory ${d} ready; @polycloud/local creates ${file(url)} and its tables on first open`);
    },
    async delete(url, opts) {
      opts.log(
        `local:// queues and tables share ${file(url)}; delete the file to remove them all (not done automatically)`,
      );
    },
  };
}
