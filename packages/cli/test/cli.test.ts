import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, buildCli, jsonLines, polycloud } from './helpers.js';

// Behaviour that needs no emulator: help, usage errors, local files, memory, conformance on memory.
let tmp: string;
beforeAll(async () => {
  await buildCli();
  tmp = mkdtempSync(join(tmpdir(), 'pc-cli-'));
}, 180_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const COMMANDS = [
  ['create'],
  ['delete'],
  ['describe'],
  ['ls'],
  ['cat'],
  ['stat'],
  ['put'],
  ['rm'],
  ['cp'],
  ['sync'],
  ['queue', 'send'],
  ['queue', 'receive'],
  ['kv', 'get'],
  ['kv', 'set'],
  ['conformance'],
  ['emulators', 'up'],
];

describe('polycloud (no emulator)', () => {
  it('--help lists every command and the exit codes', async () => {
    const r = await polycloud(['--help']);
    expect(r.code).toBe(0);
    for (const [c] of COMMANDS) expect(r.stdout).toContain(c);
    expect(r.stdout).toMatch(/Exit codes:[\s\S]*3\s+not found/);
  });

  it.each(COMMANDS)('%s %s --help shows examples', async (...cmd) => {
    const r = await polycloud([...cmd.filter(Boolean), '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('$ polycloud');
  });

  it('a usage error is one line with the portable code, exit 2', async () => {
    const r = await polycloud(['ls', 'not a url']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^polycloud: INVALID_ARGUMENT: .*\(hint: /);
    const unknown = await polycloud(['frobnicate']);
    expect(unknown.code).toBe(2);
  });

  it('a missing argument, an unknown option or a non-numeric number option exits 2, as the help says', async () => {
    for (const args of [['cat'], ['ls', '--bogus', 'mem://b'], ['kv', 'get', 'mem://t'], ['cp', 'x']]) {
      const r = await polycloud(args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(/^error: /);
      expect(r.stdout).toBe('');
    }
    for (const args of [
      ['kv', 'ls', 'mem://t', '--limit', 'abc'],
      ['cp', '-r', '--parallel', 'x', tmp, 'mem://m/'],
      ['kv', 'set', 'mem://t', 'k', '{}', '--ttl', 'soon'],
    ]) {
      const r = await polycloud(args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(/^error: option '--\S+ <\w+>' argument '\w+' is invalid/);
    }
    const help = await polycloud(['ls', '--help']);
    expect(help.code).toBe(0);
  });

  it('an unknown scheme is a usage error naming the known ones', async () => {
    const r = await polycloud(['create', 'ftp://x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/INVALID_ARGUMENT: no provisioner for scheme "ftp:".*s3/);
  });

  it('mem:// needs no provisioning and describe prints its capabilities', async () => {
    expect((await polycloud(['create', 'mem://x'])).code).toBe(0);
    const r = await polycloud(['describe', 'mem://x', '--as', 'kv', '--json']);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout) as { service: string; exists: boolean; capabilities: { ttl: boolean } };
    expect(d).toMatchObject({ service: 'kv', exists: true });
    expect(d.capabilities.ttl).toBe(true);
  });

  it('cp -r and sync between directories: copies, then skips what is the same, dry-run changes nothing', async () => {
    const src = join(tmp, 'src');
    mkdirSync(join(src, 'a', 'b'), { recursive: true });
    for (let i = 0; i < 20; i++) writeFileSync(join(src, 'a', `f${i}.txt`), `file ${i}`);
    writeFileSync(join(src, 'a', 'b', 'deep.bin'), Buffer.alloc(100_000, 7));
    const dst = join(tmp, 'dst');
    const dry = await polycloud(['sync', src, dst, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout.match(/^would copy /gm)).toHaveLength(21);
    const first = await polycloud(['sync', src, dst]);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/copied 21, skipped 0, failed 0/);
    expect(readFileSync(join(dst, 'a', 'b', 'deep.bin'))).toEqual(Buffer.alloc(100_000, 7));
    const again = await polycloud(['sync', src, dst, '--json']);
    expect(again.code).toBe(0);
    const summary = jsonLines(again.stdout).find((l) => (l as { summary?: unknown }).summary) as {
      summary: { copied: number; skipped: number };
    };
    expect(summary.summary).toMatchObject({ copied: 0, skipped: 21 });
    const one = await polycloud(['cp', join(src, 'a', 'f3.txt'), join(tmp, 'one.txt')]);
    expect(one.code).toBe(0);
    expect(readFileSync(join(tmp, 'one.txt'), 'utf8')).toBe('file 3');
  });

  it('cp of a missing file exits 3 with one line', async () => {
    const r = await polycloud(['cp', join(tmp, 'nope.txt'), join(tmp, 'x.txt')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^polycloud: NOT_FOUND: .*nope\.txt does not exist/);
  });

  it('put and cat accept file:// and plain paths (stdin too); ls on a path says it needs a bucket', async () => {
    const dir = join(tmp, 'put dir é');
    const url = pathToFileURL(join(dir, 'a', 'p.txt')).href;
    const put = await polycloud(['put', '-', url], { input: 'piped' });
    expect(put.code).toBe(0);
    expect(readFileSync(join(dir, 'a', 'p.txt'), 'utf8')).toBe('piped');
    const cat = await polycloud(['cat', url]);
    expect({ code: cat.code, out: cat.stdout }).toEqual({ code: 0, out: 'piped' });
    writeFileSync(join(tmp, 'src.txt'), 'from a file');
    expect((await polycloud(['put', join(tmp, 'src.txt'), `${join(dir, 'a')}/`])).code).toBe(0);
    expect(readFileSync(join(dir, 'a', 'src.txt'), 'utf8')).toBe('from a file');
    const missing = await polycloud(['cat', join(dir, 'nope')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^polycloud: NOT_FOUND: .*nope does not exist/);
    expect((await polycloud(['put', join(dir, 'nope'), 'mem://m/k'])).code).toBe(3);
    expect((await polycloud(['cat', dir])).code).toBe(2);
    const ls = await polycloud(['ls', pathToFileURL(dir).href]);
    expect(ls.code).toBe(2);
    expect(ls.stderr).toMatch(/is a path on this machine, not a bucket URL/);
  });

  it('AWS URLs without a configured region exit 2 saying how to set one', async () => {
    for (const args of [
      ['ls', 's3://b'],
      ['queue', 'send', 'sqs://q', 'x'],
      ['describe', 'sqs://q'],
    ]) {
      const r = await polycloud(args, { env: { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' } });
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(/^polycloud: INVALID_ARGUMENT: .*no AWS region is configured.*AWS_REGION/);
    }
  });

  it('cp -r and sync from a missing folder exit 3; from a file, 2', async () => {
    for (const args of [
      ['sync', join(tmp, 'no-such-dir'), 'mem://m/'],
      ['cp', '-r', join(tmp, 'no-such-dir'), 'mem://m/'],
    ]) {
      const r = await polycloud(args);
      expect({ args, code: r.code }).toEqual({ args, code: 3 });
      expect(r.stderr).toMatch(/^polycloud: NOT_FOUND: .*no-such-dir does not exist/);
    }
    writeFileSync(join(tmp, 'plain.txt'), 'x');
    const file = await polycloud(['sync', join(tmp, 'plain.txt'), 'mem://m/']);
    expect(file.code).toBe(2);
    expect(file.stderr).toMatch(/plain\.txt is not a folder/);
  });

  it('queue send and kv set read stdin for "-", as put and cp do', async () => {
    const qurl = `local://${join(tmp, 'dash.db')}?queue=q`;
    const sent = await polycloud(['queue', 'send', qurl, '-', '--lines'], { input: '{"n":1}\n{"n":2}\n' });
    expect(sent.code).toBe(0);
    expect(jsonLines(sent.stdout)).toHaveLength(2);
    const got = await polycloud(['queue', 'receive', qurl, '-n', '10', '--wait', '0']);
    expect(jsonLines(got.stdout).map((m) => (m as { body: unknown }).body)).toEqual([{ n: 1 }, { n: 2 }]);
    const kurl = `local://${join(tmp, 'dash.db')}?table=t`;
    expect((await polycloud(['kv', 'set', kurl, 'k', '-'], { input: '{"v":true}\n' })).code).toBe(0);
    const kv = await polycloud(['kv', 'get', kurl, 'k']);
    expect(JSON.parse(kv.stdout)).toMatchObject({ key: 'k', value: { v: true } });
  });

  it('cat into a reader that stops early (| head) exits 0 without an error line', async () => {
    const big = join(tmp, 'epipe.bin');
    writeFileSync(big, Buffer.alloc(32 * 1024 * 1024, 1));
    const child = spawn(process.execPath, [BIN, 'cat', big], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('describe file:///dir: missing (and left missing), then created with its capabilities', async () => {
    const dir = join(tmp, 'described');
    const url = pathToFileURL(dir).href;
    const before = await polycloud(['describe', url, '--json']);
    expect(before.code).toBe(0);
    expect(JSON.parse(before.stdout)).toMatchObject({ exists: false });
    expect(existsSync(dir)).toBe(false);
    expect((await polycloud(['create', url])).code).toBe(0);
    const after = JSON.parse((await polycloud(['describe', url, '--json'])).stdout);
    expect(after).toMatchObject({ exists: true, capabilities: { putIfNoneMatch: true } });
  });

  it('a "#" in a URL is refused instead of cutting the key at it; %23 names it', async () => {
    writeFileSync(join(tmp, 'hash.txt'), 'h');
    const r = await polycloud(['cp', join(tmp, 'hash.txt'), 'mem://m/a#1.txt']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^polycloud: INVALID_ARGUMENT: .*"#" starts a URL fragment.*%23/);
    const ok = await polycloud(['cp', join(tmp, 'hash.txt'), 'mem://m/a%231.txt']);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain('mem://m/a#1.txt');
  });

  it('rm refuses without --yes when stdin is not a terminal', async () => {
    const r = await polycloud(['rm', 'mem://b/k']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/pass --yes/);
  });

  it('rm of a missing key exits 3 and says nothing was deleted', async () => {
    const r = await polycloud(['rm', '--yes', 'mem://b/never-written']);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^polycloud: NOT_FOUND: .*never-written does not exist; nothing deleted/);
  });

  it('emulators up --only with a typo in an id exits 2 naming the known ids, and starts nothing', async () => {
    const env = { POLYCLOUD_EMULATORS_STATE: join(tmp, 'no-state', 'state.json') };
    const r = await polycloud(['emulators', 'up', '--detach', '--only', 'mot'], { env });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^polycloud: INVALID_ARGUMENT: unknown word "mot"; use emulator ids \(moto, /);
  });

  it('emulators up --only with other emulators already running fails instead of printing their variables', async () => {
    // State as a running `emulators up --only moto` leaves it; this test process stands in for it.
    const state = join(tmp, 'emulators-state.json');
    const exports = ['# moto (process on 127.0.0.1:1)', 'export AWS_ENDPOINT_URL=http://127.0.0.1:1'];
    writeFileSync(state, JSON.stringify({ pid: process.pid, env: {}, exports, ids: ['moto'] }));
    const env = { POLYCLOUD_EMULATORS_STATE: state };
    const other = await polycloud(['emulators', 'up', '--detach', '--only', 'azurite'], { env });
    expect(other.code).toBe(5);
    expect(other.stdout).toBe('');
    expect(other.stderr).toMatch(/PRECONDITION_FAILED: .*already running .*moto.* without azurite/);
    expect(other.stderr).toContain('polycloud emulators down');
    const same = await polycloud(['emulators', 'up', '--detach', '--only', 'moto'], { env });
    expect(same.code).toBe(0);
    expect(same.stdout).toContain('export AWS_ENDPOINT_URL=http://127.0.0.1:1');
  });

  it('conformance on memory passes and writes the CI report format', async () => {
    const root = join(tmp, 'reports-root');
    const r = await polycloud(['conformance', 'mem://pc', 'mem://pcq', 'mem://pckv', '--report-root', root]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/✅ {2}memory-blob {2}/);
    for (const service of ['blob', 'queue', 'kv']) {
      const report = JSON.parse(
        readFileSync(join(root, 'reports', 'conformance', `cli-memory-${service}.json`), 'utf8'),
      ) as { adapter: string; service: string; tests: { outcome: string }[] };
      expect(report).toMatchObject({ adapter: 'memory', service });
      expect(report.tests.length).toBeGreaterThan(20);
      expect(report.tests.filter((t) => t.outcome === 'failed')).toEqual([]);
    }
  }, 180_000);
});
