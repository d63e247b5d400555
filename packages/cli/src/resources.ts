import { createInterface } from 'node:readline/promises';
import { openBucket, openKv, openQueue } from '@polycloud/core';
import { splitBucketUrl } from './location.js';
import { type ProvisionOptions, provisionerFor } from './provision/index.js';
import { CliError, note, parseUrl, say, sayJson, schemeOf, showUrl } from './util.js';

export type Service = 'blob' | 'queue' | 'kv';

const SERVICE_BY_SCHEME: Readonly<Record<string, Service>> = {
  file: 'blob',
  local: 'kv',
  s3: 'blob',
  gs: 'blob',
  azblob: 'blob',
  sqs: 'queue',
  gcppubsub: 'queue',
  azqueue: 'queue',
  dynamodb: 'kv',
  bigtable: 'kv',
  aztable: 'kv',
};

/** Which service a URL names; mem:// and local:// need `as` (or local's queue=/table= parameter). */
export function serviceOf(url: URL, as?: string): Service {
  if (as === 'blob' || as === 'queue' || as === 'kv') return as;
  if (as !== undefined) throw new CliError('INVALID_ARGUMENT', `--as ${as}: expected blob, queue or kv`);
  if (schemeOf(url) === 'local') return url.searchParams.has('queue') ? 'queue' : 'kv';
  if (schemeOf(url) === 'mem') return 'blob';
  const s = SERVICE_BY_SCHEME[schemeOf(url)];
  if (!s)
    throw new CliError(
      'INVALID_ARGUMENT',
      `unknown scheme "${schemeOf(url)}:" in ${showUrl(url)}`,
      `known: mem, file, local, ${Object.keys(SERVICE_BY_SCHEME).join(', ')}`,
    );
  return s;
}

export async function createCommand(
  arg: string,
  o: { dryRun?: boolean; deadLetter?: string | boolean; maxDeliveries?: string },
): Promise<void> {
  const url = parseUrl(arg);
  const p = await provisionerFor(url);
  await p.create(url, provOpts(o));
}

export async function deleteCommand(
  arg: string,
  o: { dryRun?: boolean; deadLetter?: string | boolean; force?: boolean; yes?: boolean },
): Promise<void> {
  const url = parseUrl(arg);
  const p = await provisionerFor(url);
  if (o.force && p.kind === 'bucket' && schemeOf(url) !== 'file' && schemeOf(url) !== 'mem') {
    const state = await p.describe(url);
    if (state.exists) {
      if (!o.dryRun) await confirm(`delete every object in ${showUrl(url)} and the bucket itself?`, o.yes);
      const bucket = await openBucket(splitBucketUrl(url).bucketUrl);
      let n = 0;
      let batch: string[] = [];
      const flush = async () => {
        if (!o.dryRun && batch.length > 0) await bucket.deleteMany(batch);
        n += batch.length;
        batch = [];
      };
      for await (const item of bucket.entries()) {
        batch.push(item.key);
        if (batch.length >= 500) await flush();
      }
      await flush();
      note(`${o.dryRun ? 'would empty' : 'emptied'} ${showUrl(url)} (${n} objects)`);
    }
  }
  try {
    await p.delete(url, { ...provOpts(o), force: o.force === true });
  } catch (err) {
    if (p.kind === 'bucket' && !o.force && isBucketNotEmpty(err)) {
      throw new CliError(
        'PRECONDITION_FAILED',
        `${showUrl(url)} is not empty, so it was not deleted`,
        `pass --force to delete every object first (it asks unless --yes): polycloud delete ${showUrl(url)} --force`,
      );
    }
    throw err;
  }
}

/** The service refused to delete a bucket that still holds objects (S3 BucketNotEmpty, Cloud Storage 409). */
function isBucketNotEmpty(err: unknown): boolean {
  const e = err as { name?: unknown; Code?: unknown; code?: unknown; message?: unknown };
  return (
    e?.name === 'BucketNotEmpty' ||
    e?.Code === 'BucketNotEmpty' ||
    (typeof e?.message === 'string' && /\b(is not empty|must be empty)\b/i.test(e.message))
  );
}

function provOpts(o: {
  dryRun?: boolean;
  deadLetter?: string | boolean;
  maxDeliveries?: string;
}): ProvisionOptions {
  const maxDeliveries = o.maxDeliveries === undefined ? undefined : Number(o.maxDeliveries);
  if (maxDeliveries !== undefined && (!Number.isInteger(maxDeliveries) || maxDeliveries < 1))
    throw new CliError(
      'INVALID_ARGUMENT',
      `--max-deliveries must be a positive integer, got ${o.maxDeliveries}`,
    );
  return {
    dryRun: o.dryRun === true,
    ...(o.deadLetter === undefined || o.deadLetter === false
      ? {}
      : { deadLetter: o.deadLetter === true ? true : o.deadLetter }),
    ...(maxDeliveries !== undefined ? { maxDeliveries } : {}),
    log: (line) => say(line),
  };
}

/** describe: what exists, the settings read from the service, and the adapter's capabilities. */
export async function describeCommand(arg: string, o: { json?: boolean; as?: string }): Promise<void> {
  const url = parseUrl(arg);
  const service = serviceOf(url, o.as);
  const p = await provisionerFor(url);
  const state = await p.describe(url);
  let capabilities: unknown;
  let capError: string | undefined;
  try {
    // A file:// URL names the folder itself (no key part to split off), and opening one that is
    // missing would create it.
    if (service === 'blob' && schemeOf(url) === 'file') {
      if (state.exists) capabilities = (await openBucket(url.href)).capabilities;
    } else if (service === 'blob')
      capabilities = (await openBucket(splitBucketUrl(url).bucketUrl)).capabilities;
    else if (service === 'queue') capabilities = (await openQueue(url.href)).capabilities;
    else capabilities = (await openKv(url.href)).capabilities;
  } catch (err) {
    capError = err instanceof Error ? err.message.split('\n')[0] : String(err);
  }
  const out = { url: showUrl(url), service, exists: state.exists, details: state.details, capabilities };
  if (o.json) return sayJson(out);
  say(`${out.url}  (${service})`);
  say(`exists: ${state.exists ? 'yes' : 'no'}`);
  for (const [k, v] of Object.entries(state.details))
    say(`${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  if (capabilities) {
    say('capabilities:');
    for (const [k, v] of Object.entries(capabilities as Record<string, unknown>))
      say(`  ${k}: ${JSON.stringify(v)}`);
  } else if (capError)
    say(`capabilities: not available${state.exists ? '' : ' until it exists'} (${capError})`);
  if (!state.exists) say(`create it with: polycloud create ${showUrl(url)}`);
}

/** Asks y/N on a terminal; without one, --yes is required. */
export async function confirm(question: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY)
    throw new CliError(
      'INVALID_ARGUMENT',
      `refusing to ${question.replace(/\?$/, '')} without confirmation`,
      'pass --yes',
    );
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(`${question} [y/N] `);
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) throw new CliError('CANCELLED', 'not confirmed; nothing deleted');
}
