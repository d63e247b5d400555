import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openBucket, openKv, openQueue } from '@polycloud/core';
import { afterAll, describe, expect, it } from 'vitest';

// Several Node processes on one store: the guarantees that matter are the ones a single
// process cannot show (no lost update, one holder per message, one create-only winner), and
// process-level behaviour (a waiting receive or a running consumer keeps the process alive).

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const child = fileURLToPath(new URL('./fixtures/child.ts', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'polycloud-local-processes-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the child program with tsx (TypeScript sources, paths from tsconfig.test.json). */
function run(mode: string, target: string, arg = '', onStdout?: (text: string, kill: () => void) => void) {
  return runScript([child, mode, target, arg], {}, onStdout);
}

/** The test's environment without the quickstart's URL overrides, plus `extra`. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...extra,
    TSX_TSCONFIG_PATH: join(repo, 'tsconfig.test.json'),
  };
  for (const k of ['UPLOADS_URL', 'JOBS_URL', 'COUNTERS_URL']) delete env[k];
  return env;
}

function runScript(
  args: string[],
  env: Record<string, string>,
  onStdout?: (text: string, kill: () => void) => void,
) {
  return new Promise<Run>((resolve) => {
    const p = execFile(
      process.execPath,
      ['--import', 'tsx', ...args],
      {
        cwd: repo,
        env: childEnv(env),
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: unknown; signal?: NodeJS.Signals | null }) | null;
        resolve({
          code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
          signal: e?.signal ?? null,
          stdout: String(stdout),
          stderr: String(stderr),
        });
      },
    );
    if (onStdout) p.stdout?.on('data', (d: Buffer) => onStdout(String(d), () => p.kill('SIGKILL')));
  });
}

const db = (name: string) => pathToFileURL(join(root, name)).pathname;

describe('several processes on one store', () => {
  it('4 processes × 50 increments of one kv counter add up exactly', async () => {
    const url = `local://${db('counter.db')}?table=t`;
    const runs = await Promise.all([1, 2, 3, 4].map(() => run('increment', url, '50')));
    for (const r of runs) expect(r, r.stderr).toMatchObject({ code: 0, stdout: 'done\n' });
    await using kv = await openKv(url);
    expect((await kv.get('counter'))?.value).toBe(200);
  });

  it('4 consumers of one queue receive disjoint messages, every message exactly once', async () => {
    const url = `local://${db('queue.db')}?queue=work`;
    {
      await using q = await openQueue<number>(url);
      for (let i = 0; i < 200; i += 10) {
        await q.sendBatch(Array.from({ length: 10 }, (_, j) => ({ body: i + j })));
      }
    }
    const runs = await Promise.all([1, 2, 3, 4].map(() => run('drain', url)));
    const seen = runs.map((r) => {
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as number[];
    });
    const all = seen.flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('of 4 processes creating one key with ifNoneMatch, exactly one wins', async () => {
    const url = pathToFileURL(join(root, 'race')).href;
    const runs = await Promise.all([1, 2, 3, 4].map(() => run('create-only', url)));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    expect(runs.map((r) => r.stdout.trim()).sort()).toEqual(['lost', 'lost', 'lost', 'won']);
  });

  it('4 processes × 20 ifMatch read-modify-writes of one object lose no update', async () => {
    const url = pathToFileURL(join(root, 'cas')).href;
    {
      await using b = await openBucket(url);
      await b.put('counter', '0');
    }
    const runs = await Promise.all([1, 2, 3, 4].map(() => run('cas', url, '20')));
    for (const r of runs) expect(r, r.stderr).toMatchObject({ code: 0, stdout: 'done\n' });
    await using b = await openBucket(url);
    expect(await b.getText('counter')).toBe('80');
  });
});

describe('process behaviour', () => {
  it('a receive with waitSeconds keeps the process alive until it returns', async () => {
    const r = await run('wait', `local://${db('wait.db')}?queue=empty`);
    expect(r, r.stderr).toMatchObject({ code: 0, stdout: 'done 0\n' });
  });

  it('a running consume() keeps the process alive until stop(), then the process exits', async () => {
    const r = await run('consume', `local://${db('consume.db')}?queue=stopper`);
    expect(r, r.stderr).toMatchObject({ code: 0, stdout: 'stopped\n' });
  });

  it("loading node:sqlite prints no warning of its own, and the application's warnings still print", async () => {
    const r = await run('warnings', `local://${db('warnings.db')}?table=t`);
    expect(r, r.stderr).toMatchObject({ code: 0, stdout: 'done\n' });
    expect(r.stderr).toContain('ExperimentalWarning: my feature is experimental');
    expect(r.stderr).not.toContain('SQLite');
  });

  it('a process killed (SIGKILL) mid-write leaves the previous object and a readable store', async () => {
    const url = pathToFileURL(join(root, 'killed')).href;
    {
      await using b = await openBucket(url);
      await b.put('doc', 'version 1');
    }
    const r = await run('hang-mid-write', url, '', (text, kill) => {
      if (text.includes('writing')) kill();
    });
    expect(r.signal).toBe('SIGKILL');
    // The partial upload is in a temp file, which nothing lists or reads.
    expect(readdirSync(join(fileURLToPath(url), 'tmp')).length).toBeGreaterThan(0);
    await using b = await openBucket(url);
    expect(await b.getText('doc')).toBe('version 1');
    expect((await b.list()).items.map((i) => i.key)).toEqual(['doc']);
    await b.put('doc', 'version 2');
    expect(await b.getText('doc')).toBe('version 2');
  });
});

describe('a killed writer (SIGKILL) leaves a consistent database', () => {
  it('every increment printed before the kill is kept, and the file passes integrity_check', async () => {
    const file = join(root, 'killed-kv.db');
    const url = `local://${pathToFileURL(file).pathname}?table=t`;
    let last = 0;
    const r = await run('increment-forever', url, '', (text, kill) => {
      for (const line of text.split('\n')) if (/^\d+$/.test(line)) last = Math.max(last, Number(line));
      if (last >= 50) kill();
    });
    expect(r.signal).toBe('SIGKILL');
    const { DatabaseSync } = process.getBuiltinModule('node:sqlite') as unknown as {
      DatabaseSync: new (path: string) => { prepare(sql: string): { get(): unknown }; close(): void };
    };
    const db = new DatabaseSync(file);
    expect(db.prepare('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' });
    db.close();
    await using kv = await openKv(url);
    const value = (await kv.get('counter'))?.value as number;
    // Committed before it was printed; at most one more commit may have happened unprinted.
    expect(value).toBeGreaterThanOrEqual(last);
    expect(value).toBeLessThanOrEqual(last + 1);
  });
});

describe('examples/quickstart', () => {
  it("keeps its data between runs: the second run sees the first one's counters", async () => {
    const main = join(repo, 'examples/quickstart/src/main.ts');
    const env = { POLYCLOUD_DATA: join(root, 'quickstart-data') };
    const first = await runScript([main], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('provider:   local');
    expect(first.stdout).toContain('run:        #1');
    expect(first.stdout).toContain('processed:  3 documents');
    const second = await runScript([main], env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('run:        #2');
    expect(second.stdout).toContain('kept from an earlier run');
    expect(second.stdout).toContain('processed:  6 documents');
    expect(second.stdout).toContain('left:       0 messages');
  });
});
