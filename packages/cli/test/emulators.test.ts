import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EmulatorId, useEmulator } from '@polycloud/conformance/emulators';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, jsonLines, polycloud, type Result } from './helpers.js';

/*
 * The binary against every emulator, as a user runs it: the environment holds the variables
 * `polycloud emulators env` prints, nothing else. Run with
 * POLYCLOUD_EMULATORS=moto,fake-gcs-server,pstest,bigtable-emulator,azurite.
 */
const IDS: EmulatorId[] = ['moto', 'fake-gcs-server', 'pstest', 'bigtable-emulator', 'azurite'];
const env: Record<string, string> = {};
for (const id of IDS) Object.assign(env, useEmulator(id)?.env ?? {});
const run = (args: string[], input?: string | Buffer): Promise<Result> =>
  polycloud(args, { env, ...(input !== undefined ? { input } : {}) });
const suffix = randomBytes(3).toString('hex');
const P = 'polycloud-test';

let tmp: string;
beforeAll(async () => {
  await buildCli();
  tmp = mkdtempSync(join(tmpdir(), 'pc-cli-emu-'));
}, 180_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Resource {
  readonly url: string;
  readonly create?: string[];
  /** What describe --json must show once created. */
  readonly details?: Record<string, unknown>;
}

const RESOURCES: Resource[] = [
  { url: `s3://pc-b-${suffix}` },
  {
    url: `sqs://pc-q-${suffix}`,
    create: ['--dead-letter', '--max-deliveries', '3'],
    details: { fifo: false, redrivePolicy: { maxReceiveCount: 3 } },
  },
  { url: `sqs://pc-f-${suffix}.fifo`, details: { fifo: true } },
  {
    url: `dynamodb://pc-t-${suffix}`,
    details: {
      keySchema: ['pk HASH', 'sk RANGE'],
      timeToLive: { AttributeName: 'ttl', TimeToLiveStatus: 'ENABLED' },
    },
  },
  { url: `gs://pc-b-${suffix}` },
  {
    url: `gcppubsub://projects/${P}/topics/pc-t-${suffix}?subscription=pc-s-${suffix}`,
    create: ['--dead-letter'],
    details: {
      topic: true,
      subscription: true,
      messageOrdering: true,
      deadLetterTopic: `projects/${P}/topics/pc-t-${suffix}-dlq`,
    },
  },
  {
    url: `bigtable://projects/${P}/instances/pc/tables/pc-t-${suffix}`,
    details: { families: ['kv'] },
  },
  { url: `azblob://pc-b-${suffix}` },
  { url: `azqueue://pc-q-${suffix}`, create: ['--dead-letter'] },
  { url: `aztable://pct${suffix}` },
];

describe.each(RESOURCES)('create / describe / delete $url', (r) => {
  it('dry-run changes nothing; create is idempotent and makes the layout the adapter needs; delete too', async () => {
    const dry = await run(['create', r.url, '--dry-run', ...(r.create ?? [])]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^would create /m);
    const before = await run(['describe', r.url, '--json']);
    expect(before.code, before.stderr).toBe(0);
    expect(JSON.parse(before.stdout)).toMatchObject({ exists: false });

    const created = await run(['create', r.url, ...(r.create ?? [])]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^created /m);
    const again = await run(['create', r.url, ...(r.create ?? [])]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).not.toMatch(/^created /m);
    expect(again.stdout).toMatch(/exists/);

    const d = await run(['describe', r.url, '--json']);
    expect(d.code, d.stderr).toBe(0);
    const described = JSON.parse(d.stdout) as { exists: boolean; details: unknown; capabilities: object };
    expect(described.exists).toBe(true);
    expect(Object.keys(described.capabilities).length).toBeGreaterThan(3);
    if (r.details) expect(described.details).toMatchObject(r.details);

    const del = await run([
      'delete',
      r.url,
      ...(r.create?.includes('--dead-letter') ? ['--dead-letter'] : []),
    ]);
    expect(del.code, del.stderr).toBe(0);
    expect(del.stdout).toMatch(/^deleted /m);
    const delAgain = await run(['delete', r.url]);
    expect(delAgain.code, delAgain.stderr).toBe(0);
    expect(delAgain.stdout).toMatch(/does not exist/);
  }, 120_000);
});

describe.each([`s3://pc-d-${suffix}`, `gs://pc-d-${suffix}`, `azblob://pc-d-${suffix}`])(
  'data commands on %s',
  (b) => {
    it('put (stdin and file), stat, cat, ls (long, recursive, json), rm', async () => {
      expect((await run(['create', b])).code).toBe(0);
      const put = await run(
        [
          'put',
          '-',
          `${b}/dir/hello.txt`,
          '--content-type',
          'text/plain',
          '--meta',
          'owner=me',
          '--cache-control',
          'no-cache',
        ],
        'hello world\n',
      );
      expect(put.code, put.stderr).toBe(0);
      const file = join(tmp, `up-${b.split(':')[0]}.bin`);
      writeFileSync(file, randomBytes(1000));
      expect((await run(['put', file, `${b}/dir/sub/`])).code).toBe(0);
      const stat = JSON.parse((await run(['stat', `${b}/dir/hello.txt`])).stdout) as Record<string, unknown>;
      expect(stat).toMatchObject({
        size: 12,
        contentType: 'text/plain',
        metadata: { owner: 'me' },
        cacheControl: 'no-cache',
      });
      expect((await run(['cat', `${b}/dir/hello.txt`])).stdout).toBe('hello world\n');
      const top = await run(['ls', `${b}/dir/`]);
      expect(top.stdout.split('\n').filter(Boolean)).toEqual(['dir/sub/', 'dir/hello.txt']);
      const all = jsonLines((await run(['ls', '-r', '--json', b])).stdout) as { key: string; size: number }[];
      expect(all.map((e) => e.key).sort()).toEqual(['dir/hello.txt', `dir/sub/${file.split('/').pop()}`]);
      expect((await run(['ls', '-l', `${b}/dir/`])).stdout).toMatch(/^\s+12\s+\S+\s+dir\/hello\.txt$/m);
      const rm = await run(['rm', '-r', '--yes', `${b}/dir/`]);
      expect(rm.code, rm.stderr).toBe(0);
      expect(rm.stdout).toMatch(/deleted 2 objects/);
      expect((await run(['ls', '-r', b])).stdout).toBe('');
      expect((await run(['delete', b])).code).toBe(0);
    }, 120_000);

    it('a missing bucket gives NOT_FOUND (exit 3) with the create hint', async () => {
      const r = await run(['ls', `${b}x/`]);
      expect(r.code).toBe(3);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^polycloud: NOT_FOUND: .*polycloud create/);
    });
  },
);

describe.each([
  `sqs://pc-m-${suffix}`,
  `gcppubsub://projects/${P}/topics/pc-m-${suffix}?subscription=pc-m-${suffix}`,
  `azqueue://pc-m-${suffix}`,
])('queue commands on %s', (q) => {
  it('send (argument and --lines), peek puts back, receive acks, stats, purge', async () => {
    expect((await run(['create', q])).code).toBe(0);
    expect((await run(['queue', 'send', q, '{"n":1}', '--attr', 'kind=test'])).code).toBe(0);
    expect((await run(['queue', 'send', q, '--lines'], 'plain text\n{"n":2}\n')).code).toBe(0);
    const peek = jsonLines((await run(['queue', 'peek', q, '--wait', '2'])).stdout);
    expect(peek.length).toBeGreaterThan(0);
    const got: { body: unknown; attributes: Record<string, string> }[] = [];
    for (let i = 0; i < 10 && got.length < 3; i++)
      got.push(
        ...(jsonLines((await run(['queue', 'receive', q, '-n', '10', '--wait', '2'])).stdout) as typeof got),
      );
    expect(got.map((m) => JSON.stringify(m.body)).sort()).toEqual(['"plain text"', '{"n":1}', '{"n":2}']);
    expect(got.find((m) => JSON.stringify(m.body) === '{"n":1}')?.attributes).toEqual({ kind: 'test' });
    expect((await run(['queue', 'send', q, '"left"'])).code).toBe(0);
    const purge = await run(['queue', 'purge', q, '--yes']);
    expect(purge.code, purge.stderr).toBe(0);
    expect(jsonLines((await run(['queue', 'receive', q, '--wait', '1'])).stdout)).toEqual([]);
    const stats = JSON.parse((await run(['queue', 'stats', q, '--json'])).stdout) as {
      exists: boolean;
      capabilities: object;
    };
    expect(stats.exists).toBe(true);
    expect((await run(['delete', q])).code).toBe(0);
  }, 120_000);
});

describe.each([
  `dynamodb://pc-kv-${suffix}`,
  `bigtable://projects/${P}/instances/pc/tables/pc-kv-${suffix}`,
  `aztable://pckv${suffix}`,
])('kv commands on %s', (t) => {
  it('set, get, ls, rm with JSON in and out; a missing key exits 3', async () => {
    expect((await run(['create', t])).code).toBe(0);
    const ns = `${t}${t.includes('?') ? '&' : '?'}namespace=cli`;
    const set = await run(['kv', 'set', ns, 'visits', '{"n":1}']);
    expect(set.code, set.stderr).toBe(0);
    const { version } = JSON.parse(set.stdout) as { version: string };
    expect((await run(['kv', 'set', ns, 'name', '--raw'], 'polycloud\n')).code).toBe(0);
    expect(JSON.parse((await run(['kv', 'get', ns, 'visits'])).stdout)).toEqual({
      key: 'visits',
      value: { n: 1 },
      version,
    });
    const stale = await run(['kv', 'set', ns, 'visits', '2', '--if-version', 'nope']);
    expect(stale.code).toBe(5);
    expect(jsonLines((await run(['kv', 'ls', ns, '--values'])).stdout)).toMatchObject([
      { key: 'name', value: 'polycloud' },
      { key: 'visits', value: { n: 1 } },
    ]);
    expect(JSON.parse((await run(['kv', 'rm', ns, 'name'])).stdout)).toEqual({ key: 'name', existed: true });
    const missing = await run(['kv', 'get', ns, 'name']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^polycloud: NOT_FOUND: key "name"/);
    expect((await run(['delete', t])).code).toBe(0);
  }, 120_000);
});

/**
 * 1,000 small objects and one big one from S3 to Azure Blob and on to Cloud Storage: bytes,
 * content headers and metadata arrive; a second sync copies nothing. The big object is
 * POLYCLOUD_CLI_BIG_MIB MiB (default 64 on this shared machine; the figure is 200).
 */
describe('sync between providers', () => {
  const BIG_MIB = Number(process.env.POLYCLOUD_CLI_BIG_MIB ?? 64);
  it(`1,000 small objects and one ${BIG_MIB} MiB object: s3 -> azblob -> gs`, async () => {
    const src = `s3://pc-sync-${suffix}`;
    const mid = `azblob://pc-sync-${suffix}`;
    const dst = `gs://pc-sync-${suffix}`;
    for (const b of [src, mid, dst]) expect((await run(['create', b])).code).toBe(0);
    const dir = join(tmp, 'many');
    for (let i = 0; i < 1000; i++) {
      const d = join(dir, `d${i % 10}`);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, `o${i}.txt`), `object ${i}\n`);
    }
    const up = await run(['sync', dir, `${src}/many/`, '--parallel', '16']);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toMatch(/copied 1000, skipped 0, failed 0/);
    // The big object streams from a file the test writes in chunks (bounded memory here too).
    const big = join(tmp, 'big.bin');
    const hash = createHash('sha256');
    {
      const { openSync, writeSync, closeSync } = await import('node:fs');
      const fd = openSync(big, 'w');
      const chunk = randomBytes(1024 * 1024);
      for (let i = 0; i < BIG_MIB; i++) {
        chunk[0] = i & 0xff;
        writeSync(fd, chunk);
        hash.update(chunk);
      }
      closeSync(fd);
    }
    const digest = hash.digest('hex');
    const putBig = await run([
      'put',
      big,
      `${src}/big.bin`,
      '--content-type',
      'application/x-test',
      '--meta',
      'origin=cli-test',
      '--content-disposition',
      'attachment; filename="big.bin"',
    ]);
    expect(putBig.code, putBig.stderr).toBe(0);

    for (const [from, to] of [
      [src, mid],
      [mid, dst],
    ] as const) {
      const s = await run(['sync', from, to, '--parallel', '16']);
      expect(s.code, s.stderr).toBe(0);
      expect(s.stderr).toMatch(/copied 1001, skipped 0, failed 0/);
      const keys = jsonLines((await run(['ls', '-r', '--json', to])).stdout);
      expect(keys).toHaveLength(1001);
      const again = await run(['sync', from, to, '--json']);
      expect(again.code).toBe(0);
      expect(jsonLines(again.stdout).at(-1)).toMatchObject({
        summary: { copied: 0, skipped: 1001, failed: 0 },
      });
    }
    const headers = {
      size: BIG_MIB * 1024 * 1024,
      contentType: 'application/x-test',
      contentDisposition: 'attachment; filename="big.bin"',
      metadata: { origin: 'cli-test' },
    };
    const statOf = async (u: string) =>
      JSON.parse((await run(['stat', u])).stdout) as Record<string, unknown>;
    expect(await statOf(`${mid}/big.bin`)).toMatchObject(headers);
    // fake-gcs-server replaces a resumable upload's content type with the chunks' (documented gap
    // fake-gcs-resumable-content-type); everything else must arrive.
    const { contentType: _, ...rest } = headers;
    expect(await statOf(`${dst}/big.bin`)).toMatchObject(rest);
    // Bytes: the big object read back from the last provider hashes the same.
    const out = join(tmp, 'big.back');
    expect((await run(['cp', `${dst}/big.bin`, out])).code).toBe(0);
    const { createReadStream } = await import('node:fs');
    const back = createHash('sha256');
    for await (const c of createReadStream(out)) back.update(c as Buffer);
    expect(back.digest('hex')).toBe(digest);
    expect((await run(['cat', `${dst}/many/d7/o517.txt`])).stdout).toBe('object 517\n');

    for (const b of [src, mid, dst]) expect((await run(['delete', b, '--force', '--yes'])).code).toBe(0);
  }, 900_000);
});

describe('conformance on Azurite', () => {
  it('runs the blob and kv suites in fresh resources, cleans up and writes the reports', async () => {
    const root = join(tmp, 'conf');
    const r = await run([
      'conformance',
      `azblob://pcc${suffix}`,
      '--emulator',
      'azurite',
      '--report-root',
      root,
      '--name',
      'cli-test-azure',
    ]);
    expect(r.code, r.stdout.slice(-3000)).toBe(0);
    expect(r.stdout).toMatch(/✅ {2}azure-blob {2}/);
    // Fresh containers were removed again.
    const left = await run(['describe', `azblob://pcc${suffix}`, '--json']);
    expect(JSON.parse(left.stdout)).toMatchObject({ exists: false });
  }, 600_000);
});

describe('examples/quickstart on missing resources', () => {
  it('prints one line naming what is missing and the polycloud create command, exit 2', async () => {
    const { execFileSync, spawnSync } = await import('node:child_process');
    const { REPO } = await import('./helpers.js');
    execFileSync(
      process.execPath,
      [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'examples/quickstart'],
      {
        cwd: REPO,
      },
    );
    const bucket = `s3://pc-qs-${suffix}`;
    expect((await run(['create', bucket])).code).toBe(0);
    const r = spawnSync(process.execPath, [join(REPO, 'examples', 'quickstart', 'dist', 'main.js')], {
      env: {
        PATH: process.env.PATH ?? '',
        ...env,
        UPLOADS_URL: bucket,
        JOBS_URL: `sqs://pc-qs-${suffix}`,
        COUNTERS_URL: `dynamodb://pc-qs-${suffix}?namespace=q`,
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      `quickstart: the queue "pc-qs-${suffix}" (sqs://pc-qs-${suffix}) does not exist (NOT_FOUND). ` +
        `Create it with: npx polycloud create 'sqs://pc-qs-${suffix}'`,
    ]);
    expect((await run(['delete', bucket, '--force', '--yes'])).code).toBe(0);
  }, 120_000);
});

describe.each([`s3://pc-ne-${suffix}`, `gs://pc-ne-${suffix}`])('delete of a non-empty %s', (b) => {
  it('without --force: PRECONDITION_FAILED (exit 5) naming --force; with --force --yes: deleted', async () => {
    expect((await run(['create', b])).code).toBe(0);
    expect((await run(['put', '-', `${b}/k`], 'x')).code).toBe(0);
    const refused = await run(['delete', b]);
    expect(refused.code).toBe(5);
    expect(refused.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^polycloud: PRECONDITION_FAILED: .* is not empty.*--force/),
    ]);
    expect((await run(['cat', `${b}/k`])).stdout).toBe('x');
    expect((await run(['delete', b, '--force', '--yes'])).code).toBe(0);
  }, 120_000);
});

describe('sync failures', () => {
  it('lists each failed object on one line, summarises, and exits 1', async () => {
    const dir = join(tmp, 'fail-src');
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < 3; i++) writeFileSync(join(dir, `f${i}`), `x${i}`);
    const r = await run(['sync', dir, `s3://pc-missing-${suffix}/`]);
    expect(r.code).toBe(1);
    expect(r.stderr.match(/^failed .*: NOT_FOUND: /gm)).toHaveLength(3);
    expect(r.stderr).toMatch(/copied 0, skipped 0, failed 3/);
  }, 60_000);
});
