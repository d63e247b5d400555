import { stat } from 'node:fs/promises';
import { bytesCodec, type KvValue, openKv, openQueue, type Queue } from '@polycloud/core';
import { childOf, type Location, openRead, resolveLocation, walk, writeTo } from './location.js';
import { provisionerFor } from './provision/index.js';
import { confirm } from './resources.js';
import { CliError, formatBytes, note, parseUrl, say, sayJson, showUrl } from './util.js';

const PART = 8 * 1024 * 1024;

async function bucketLoc(arg: string) {
  const loc = await resolveLocation(arg);
  if (loc.kind === 'fs')
    // file:// names plain files here (see resolveLocation), which the user's shell lists and removes.
    throw new CliError(
      'INVALID_ARGUMENT',
      `${arg} is a path on this machine, not a bucket URL; ls, stat and rm work on buckets`,
      'use your shell for local files, `polycloud cp` to copy them, or a bucket URL such as s3://bucket/prefix/, gs://b, azblob://c, mem://m',
    );
  if (loc.kind !== 'bucket')
    throw new CliError(
      'INVALID_ARGUMENT',
      `${arg} is not a bucket URL`,
      'e.g. s3://bucket/prefix/, gs://b, azblob://c',
    );
  return loc;
}

/** Checks that a local source is a readable file, so mistakes get an exit code that says what. */
async function checkLocalFile(loc: Location): Promise<void> {
  if (loc.kind !== 'fs') return;
  const s = await stat(loc.path).catch(() => undefined);
  if (!s) throw new CliError('NOT_FOUND', `${loc.display} does not exist`, 'check the path');
  if (!s.isFile())
    throw new CliError(
      'INVALID_ARGUMENT',
      `${loc.display} is not a file`,
      'use `polycloud cp -r` for folders',
    );
}

/** ls: one level (prefixes shown as dirs) or everything with --recursive. */
export async function lsCommand(
  arg: string,
  o: { long?: boolean; recursive?: boolean; json?: boolean },
): Promise<void> {
  const loc = await bucketLoc(arg);
  const prefix = loc.key === '' || loc.key.endsWith('/') ? loc.key : `${loc.key}/`;
  let cursor: string | undefined;
  do {
    const page = await loc.bucket.list({
      prefix,
      ...(o.recursive ? {} : { delimiter: '/' }),
      ...(cursor ? { cursor } : {}),
    });
    for (const p of page.prefixes ?? []) {
      if (o.json) sayJson({ prefix: p });
      else say(o.long ? `${'PRE'.padStart(12)}  ${''.padEnd(24)}  ${p}` : p);
    }
    for (const i of page.items) {
      if (o.json)
        sayJson({ key: i.key, size: i.size, etag: i.etag, lastModified: i.lastModified.toISOString() });
      else if (o.long)
        say(`${String(i.size).padStart(12)}  ${i.lastModified.toISOString().padEnd(24)}  ${i.key}`);
      else say(i.key);
    }
    cursor = page.cursor;
  } while (cursor);
}

/** cat: object bytes to stdout, streaming. */
export async function catCommand(arg: string): Promise<void> {
  const loc = await resolveLocation(arg);
  if (loc.kind !== 'bucket') {
    // A local file (`cat file:///tmp/x`, as cp accepts it) or `-`.
    await checkLocalFile(loc);
    const r = await openRead(loc);
    await writeTo({ kind: 'stdio', display: '-' }, r.body, {}, { partSize: PART, concurrency: 4 });
    return;
  }
  if (loc.key === '')
    throw new CliError('INVALID_ARGUMENT', `${arg} names no key`, 'e.g. s3://bucket/path/to/key');
  const r = await openRead(loc);
  await writeTo({ kind: 'stdio', display: '-' }, r.body, {}, { partSize: PART, concurrency: 4 });
}

/** put: a file (or stdin with "-") to a key, with content headers and metadata. */
export async function putCommand(
  file: string,
  dest: string,
  o: {
    contentType?: string;
    cacheControl?: string;
    contentEncoding?: string;
    contentDisposition?: string;
    meta?: string[];
  },
): Promise<void> {
  const dst = await resolveLocation(dest);
  // The README lists file paths as put destinations, as for cp; only a bucket keeps the headers.
  const loc = dst.kind === 'fs' ? dst : await bucketLoc(dest);
  const src = await resolveLocation(file);
  await checkLocalFile(src);
  const intoDir =
    loc.kind === 'bucket'
      ? loc.key === '' || loc.key.endsWith('/')
      : dest.endsWith('/') || (await stat(loc.path).catch(() => undefined))?.isDirectory() === true;
  const target = intoDir ? childOf(loc, src.kind === 'fs' ? src.path.split('/').pop()! : 'stdin') : loc;
  const metadata: Record<string, string> = {};
  for (const kv of o.meta ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new CliError('INVALID_ARGUMENT', `--meta ${kv}: expected key=value`);
    metadata[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const r = await openRead(src);
  const size =
    src.kind === 'fs' ? (await import('node:fs/promises')).stat(src.path).then((s) => s.size) : undefined;
  await writeTo(
    target,
    r.body,
    {
      ...(o.contentType ? { contentType: o.contentType } : {}),
      ...(o.cacheControl ? { cacheControl: o.cacheControl } : {}),
      ...(o.contentEncoding ? { contentEncoding: o.contentEncoding } : {}),
      ...(o.contentDisposition ? { contentDisposition: o.contentDisposition } : {}),
      ...(Object.keys(metadata).length ? { metadata } : {}),
    },
    { size: await size, partSize: PART, concurrency: 4 },
  );
  if (target.kind === 'bucket') {
    const info = await target.bucket.head(target.key);
    note(
      `put ${target.url.protocol}//${target.url.hostname}/${target.key} (${formatBytes(info.size)}, etag ${info.etag})`,
    );
  }
}

/** rm: one key, or every key under a prefix with --recursive (asks first unless --yes). */
export async function rmCommand(
  arg: string,
  o: { recursive?: boolean; yes?: boolean; dryRun?: boolean },
): Promise<void> {
  const loc = await bucketLoc(arg);
  if (!o.recursive) {
    if (loc.key === '')
      throw new CliError('INVALID_ARGUMENT', `${arg} names no key`, 'pass --recursive to delete a prefix');
    if (o.dryRun) return say(`would delete ${arg}`);
    await confirm(`delete ${showUrl(arg)}?`, o.yes);
    // Deleting is idempotent in every store; saying "deleted" for a key that was never there
    // would hide a typo, so a missing key is NOT_FOUND (exit 3), as in `stat` and `cat`.
    if (!(await loc.bucket.exists(loc.key)))
      throw new CliError(
        'NOT_FOUND',
        `${showUrl(arg)} does not exist; nothing deleted`,
        'check the key with `polycloud ls`',
      );
    await loc.bucket.delete(loc.key);
    return say(`deleted ${showUrl(arg)}`);
  }
  const keys: string[] = [];
  for await (const e of walk(loc)) {
    const c = childOf(loc, e.rel);
    if (c.kind === 'bucket') keys.push(c.key);
  }
  if (keys.length === 0) return say(`nothing under ${showUrl(arg)}`);
  if (o.dryRun) {
    for (const k of keys) say(`would delete ${k}`);
    return;
  }
  await confirm(`delete ${keys.length} objects under ${showUrl(arg)}?`, o.yes);
  let failed = 0;
  for (let i = 0; i < keys.length; i += 500) {
    const res = await loc.bucket.deleteMany(keys.slice(i, i + 500));
    for (const r of res as readonly { key?: string; ok: boolean; error?: { message: string } }[])
      if (!r.ok) {
        failed++;
        note(`failed ${r.key ?? ''}: ${r.error?.message ?? ''}`);
      }
  }
  say(`deleted ${keys.length - failed} objects${failed ? `, ${failed} failed` : ''}`);
  if (failed) process.exitCode = 1;
}

// ---------- queues ----------

async function openQ(arg: string): Promise<Queue<Uint8Array>> {
  return openQueue<Uint8Array>(parseUrl(arg).href, { codec: bytesCodec });
}

/** Message bodies are shown as JSON when they parse, else as text (base64 with --base64). */
function showBody(bytes: Uint8Array): unknown {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The body of `queue send` / `kv set` when it is omitted or `-`, as put and cp read `-`. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function queueSend(
  arg: string,
  body: string | undefined,
  o: { attr?: string[]; group?: string; delay?: string; lines?: boolean },
): Promise<void> {
  const q = await openQ(arg);
  const text = body === undefined || body === '-' ? await readStdin() : body;
  const bodies = o.lines ? text.split('\n').filter((l) => l.trim() !== '') : [text.replace(/\n$/, '')];
  const attributes: Record<string, string> = {};
  for (const a of o.attr ?? []) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new CliError('INVALID_ARGUMENT', `--attr ${a}: expected name=value`);
    attributes[a.slice(0, eq)] = a.slice(eq + 1);
  }
  for (const b of bodies) {
    const r = await q.send(new TextEncoder().encode(b), {
      ...(Object.keys(attributes).length ? { attributes } : {}),
      ...(o.group ? { groupId: o.group } : {}),
      ...(o.delay ? { delaySeconds: Number(o.delay) } : {}),
    });
    sayJson({ id: r.id });
  }
  await q.close();
}

export async function queueReceive(
  arg: string,
  o: { max?: string; wait?: string; ack?: boolean; peek?: boolean; visibility?: string },
): Promise<void> {
  const q = await openQ(arg);
  const msgs = await q.receive({
    maxMessages: Number(o.max ?? 1),
    waitSeconds: Number(o.wait ?? (o.peek ? 0 : 5)),
    ...(o.visibility ? { visibilityTimeoutSeconds: Number(o.visibility) } : {}),
  });
  for (const m of msgs)
    sayJson({
      id: m.id,
      body: showBody(m.bytes),
      attributes: m.attributes,
      deliveryCount: m.deliveryCount,
      enqueuedAt: m.enqueuedAt.toISOString(),
      ...(m.groupId ? { groupId: m.groupId } : {}),
    });
  if (msgs.length > 0) {
    // peek puts them back at once; receive acks unless --no-ack (then they reappear after the visibility timeout).
    if (o.peek) for (const m of msgs) await q.nack(m);
    else if (o.ack !== false) await q.ack(msgs);
  }
  await q.close();
}

export async function queuePurge(arg: string, o: { yes?: boolean }): Promise<void> {
  await confirm(`delete every message in ${showUrl(arg)}?`, o.yes);
  const q = await openQ(arg);
  let n = 0;
  let empty = 0;
  // Short polls can come back empty while messages remain (SQS samples servers), so stop after 3 empty polls.
  while (empty < 3) {
    const msgs = await q.receive({ maxMessages: 10, waitSeconds: 1 });
    if (msgs.length === 0) empty++;
    else {
      empty = 0;
      await q.ack(msgs);
      n += msgs.length;
    }
  }
  await q.close();
  say(`purged ${n} messages`);
}

export async function queueStats(arg: string, o: { json?: boolean }): Promise<void> {
  const url = parseUrl(arg);
  const state = await (await provisionerFor(url)).describe(url);
  const q = await openQ(arg);
  const out = { url: showUrl(url), exists: state.exists, ...state.details, capabilities: q.capabilities };
  await q.close();
  if (o.json) return sayJson(out);
  for (const [k, v] of Object.entries(out)) say(`${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
}

// ---------- key-value ----------

function parseValue(text: string, raw: boolean | undefined): KvValue {
  if (raw) return text;
  try {
    return JSON.parse(text) as KvValue;
  } catch {
    throw new CliError(
      'INVALID_ARGUMENT',
      `value is not JSON: ${text.slice(0, 60)}`,
      'quote strings as JSON ("text"), or pass --raw',
    );
  }
}

export async function kvGet(arg: string, key: string): Promise<void> {
  const kv = await openKv(parseUrl(arg).href);
  const e = await kv.get(key);
  await kv.close();
  if (!e) throw new CliError('NOT_FOUND', `key "${key}" does not exist in ${showUrl(arg)}`);
  sayJson({
    key: e.key,
    value: e.value instanceof Uint8Array ? { base64: Buffer.from(e.value).toString('base64') } : e.value,
    version: e.version,
    ...(e.expiresAt ? { expiresAt: e.expiresAt.toISOString() } : {}),
  });
}

export async function kvSet(
  arg: string,
  key: string,
  value: string | undefined,
  o: { ttl?: string; ifVersion?: string; ifAbsent?: boolean; raw?: boolean },
): Promise<void> {
  const kv = await openKv(parseUrl(arg).href);
  const v = parseValue(
    value === undefined || value === '-' ? (await readStdin()).replace(/\n$/, '') : value,
    o.raw,
  );
  const r = await kv.set(key, v, {
    ...(o.ttl ? { ttlSeconds: Number(o.ttl) } : {}),
    ...(o.ifVersion ? { ifVersion: o.ifVersion } : {}),
    ...(o.ifAbsent ? { ifAbsent: true } : {}),
  });
  await kv.close();
  sayJson({ key, version: r.version });
}

export async function kvRm(arg: string, key: string, o: { ifVersion?: string }): Promise<void> {
  const kv = await openKv(parseUrl(arg).href);
  const existed = await kv.delete(key, o.ifVersion ? { ifVersion: o.ifVersion } : {});
  await kv.close();
  sayJson({ key, existed });
}

export async function kvLs(
  arg: string,
  o: { prefix?: string; limit?: string; values?: boolean },
): Promise<void> {
  const kv = await openKv(parseUrl(arg).href);
  let n = 0;
  const limit = o.limit ? Number(o.limit) : Number.POSITIVE_INFINITY;
  for await (const e of kv.entries(o.prefix ? { prefix: o.prefix } : {})) {
    if (n++ >= limit) break;
    sayJson(o.values ? { key: e.key, value: e.value, version: e.version } : { key: e.key });
  }
  await kv.close();
}

/** stat: an object's size, etag, content headers and metadata as JSON. */
export async function statCommand(arg: string): Promise<void> {
  const loc = await bucketLoc(arg);
  if (loc.key === '')
    throw new CliError('INVALID_ARGUMENT', `${arg} names no key`, 'e.g. s3://bucket/path/to/key');
  const i = await loc.bucket.head(loc.key);
  sayJson({ ...i, lastModified: i.lastModified.toISOString() });
}
